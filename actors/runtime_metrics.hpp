#pragma once

/// The runtime's per-driver series in a metrics registry
/// (actors/metrics.hpp), labelled `backend` and `driver` (its index):
///
/// | series | type | what |
/// |---|---|---|
/// | `actio_driver_sockets` | gauge | registered sockets |
/// | `actio_driver_requests_total{kind}` | counter | requests actors made (accept, connect, read, write, shutdown, send_to, timer, close) |
/// | `actio_driver_completions_total{kind}` | counter | kernel completions (accept, read, write, recv_from, send_to) |
/// | `actio_driver_read_bytes_total` | counter | bytes received (stream and datagram payload) |
/// | `actio_driver_written_bytes_total` | counter | bytes sent (stream and datagram payload) |
/// | `actio_driver_loop_iterations_total` | counter | turns of the driver loop |
/// | `actio_driver_wakeups_total` | counter | wake-ups by other threads |
/// | `actio_driver_blocked_seconds_total` | counter | time in polls allowed to block |
/// | `actio_driver_accept_pauses_total` | counter | accept waits after EMFILE and friends |
/// | `actio_driver_pinned_actors` | gauge | live pinned actors |
/// | `actio_driver_runnable_actors` | gauge | pinned actors with messages waiting for their turn |
/// | `actio_driver_pinned_mailbox_messages` | gauge | messages waiting in pinned actors' mailboxes |
/// | `actio_driver_file_requests_total{kind}` | counter | file operations handed to the driver (open, read_at, write_at, fsync, stat, close) |
/// | `actio_driver_file_completions_total{kind}` | counter | of those, answered (value or error) |
/// | `actio_driver_file_errors_total{kind}` | counter | of those, answered with an error |
///
/// Everything is read at scrape time from counters the driver thread keeps
/// anyway (drivers/driver_counters.hpp, driver_unit.hpp's backlog): nothing
/// is sent to the drivers. Making the collector turns on the counting of
/// file outcomes (`driver_counters::count_file_outcomes`), which costs the
/// file service one message to itself per operation.

#include <cstdint>

#include "actio/actors/metrics.hpp"
#include "actio/actors/runtime.hpp"

namespace actio {

/// Adds the collector while it lives. Destroy it before the runtime.
class runtime_metrics {
public:
  runtime_metrics(runtime& rt, metrics::registry& reg);
  ~runtime_metrics();
  runtime_metrics(const runtime_metrics&) = delete;
  runtime_metrics& operator=(const runtime_metrics&) = delete;

private:
  metrics::registry& reg_;
  uint64_t id_;
};

/// Writes the series above for `rt` (what the collector does).
void write_runtime_metrics(runtime& rt, metrics::writer& w);

} // namespace actio
