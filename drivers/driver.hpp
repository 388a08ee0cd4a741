#pragma once

/// What every backend provides (mio's `sys/mod.rs`, as one screen).
///
/// A driver owns one kernel I/O object (an epoll set, an io_uring ring, ...)
/// and runs on one dedicated thread (see `actors/driver_unit.hpp`). Requests
/// come from actors pinned to that thread; completions go back as messages
/// (`drivers/completions.hpp`) to the socket's owner, or to a response promise
/// when the request came from another actor by message.
///
/// Rules every backend keeps:
/// - every request gets exactly one completion, also on close and shutdown;
/// - no completion is delivered from inside a request call (no re-entrancy):
///   requests mark work, `process()`/`poll()` do it;
/// - a buffer the kernel may still touch stays owned by the driver;
/// - reads happen only under credit (`grant`), so a slow consumer stops
///   its socket, never the others.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sys/socket.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/fwd.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/driver_counters.hpp"
#include "actio/drivers/file_backend.hpp"
#include "actio/drivers/types.hpp"

namespace actio {

/// Per-socket write-queue limits (bytes).
struct write_limits {
  size_t high_watermark = 256 * 1024; ///< `write_paused` above this
  size_t low_watermark = 64 * 1024;   ///< `write_resumed` at or below this
  size_t max_queued = 8 * 1024 * 1024; ///< writes beyond fail: write_queue_full
};

/// Progress of one socket, for timeout checks (net/timeouts.hpp): counters
/// only, so the I/O path pays an addition, not a clock read or a timer.
struct socket_progress {
  uint64_t bytes_read = 0;    ///< taken from the kernel so far
  uint64_t bytes_written = 0; ///< handed to the kernel so far
  size_t credit = 0;          ///< read credit left
  size_t queued = 0;          ///< write bytes not yet with the kernel
  bool reading = false;       ///< read side open (no EOF or error yet)
};

/// Per-socket limits of a datagram socket.
struct datagram_limits {
  size_t max_size = 64 * 1024; ///< receive size: longer datagrams arrive truncated
  size_t max_queued = 1024;    ///< datagrams waiting to be sent; beyond: write_queue_full
};

class driver {
public:
  using clock = std::chrono::steady_clock;

  virtual ~driver();

  /// The backend's name: "epoll", "uring", ...
  virtual std::string_view name() const noexcept = 0;

  // -- any thread --------------------------------------------------------------

  /// Makes a blocked `poll` return soon. Cheap when a wake is already pending.
  virtual void wake() noexcept = 0;

  // -- driver thread only ------------------------------------------------------

  /// Registers `fd` (non-blocking stream socket or listener) for `owner`, who
  /// receives its completion messages. On failure `fd` is closed.
  virtual caf::expected<socket_id>
  adopt(int fd, caf::strong_actor_ptr owner, write_limits limits = {}) = 0;

  /// Starts accepting on a listening socket: one `accepted` per connection
  /// until `close`. Under EMFILE and friends: `accept_paused`, back-off, retry.
  virtual void start_accept(socket_id listener) = 0;

  /// Connects the registered (non-blocking, unconnected) socket `sock` to
  /// `addr`; completes with `connected{sock, id, reason}`. Writes and reads
  /// requested meanwhile wait for the connection. False if `sock` is unknown.
  virtual bool connect(socket_id sock, const sockaddr_storage& addr,
                       socklen_t len, op_id id) = 0;

  /// Allows reading up to `bytes` more; reading stops when credit is zero.
  virtual void grant(socket_id sock, size_t bytes) = 0;

  /// Queues `buf` for writing; completes with `write_completed{id}`, or via
  /// `rp` when it is pending. Returns false, taking nothing, when `sock` is
  /// unknown (closed): the caller completes the request itself.
  virtual bool send(socket_id sock, op_id id, byte_buffer buf,
                    caf::response_promise rp = {}) = 0;

  /// Shuts down the write side once queued writes are done; reading goes on.
  /// Returns false, like `send`, when `sock` is unknown.
  virtual bool shutdown_write(socket_id sock, op_id id,
                              caf::response_promise rp = {}) = 0;

  // -- datagram sockets (UDP, AF_UNIX SOCK_DGRAM) ------------------------------
  //
  // `grant` counts datagrams on these sockets: one credit, one
  // `datagram_received`. Without credit nothing is read and the kernel drops
  // what does not fit its receive buffer: the process never queues. `close`
  // works as for streams. Errors the kernel reports asynchronously (ICMP:
  // connection refused, unreachable) fail the next send, or arrive as
  // `datagram_error` when a receive sees them; the socket stays open.

  /// Registers a non-blocking datagram socket for `owner`. On failure `fd`
  /// is closed.
  virtual caf::expected<socket_id>
  adopt_datagram(int fd, caf::strong_actor_ptr owner, datagram_limits limits) = 0;

  /// Queues one datagram to `to` (`len == 0`: to the connected peer);
  /// completes with `write_completed{id, bytes}`, or via `rp` when pending.
  /// Returns false, taking nothing, when `sock` is unknown.
  virtual bool send_to(socket_id sock, op_id id, byte_buffer buf,
                       const sockaddr_storage& to, socklen_t len,
                       caf::response_promise rp = {}) = 0;

  /// Connects a datagram socket: `to` becomes the default destination and
  /// the only accepted source. Never blocks; the result comes back at once.
  virtual caf::error connect_datagram(socket_id sock, const sockaddr_storage& to,
                                      socklen_t len) = 0;

  /// Fails pending requests with `reason`, or `errc::cancelled` when it is
  /// empty, deregisters and closes the socket, then reports
  /// `connection_closed{reason}` to the owner.
  virtual void close(socket_id sock, caf::error reason = {}) = 0;

  /// Counters of a registered socket; nullopt if `sock` is unknown.
  virtual std::optional<socket_progress> progress(socket_id sock) = 0;

  /// One-shot timer: `timer_expired{id}` to `owner` after `delay`, where
  /// `id` is the returned, driver-unique value.
  virtual op_id start_timer(clock::duration delay,
                            caf::strong_actor_ptr owner) = 0;

  /// Stops a timer; returns false if it already fired or never existed.
  virtual bool cancel_timer(op_id id) = 0;

  /// Does deferred work (requests marked since the last call). Returns true
  /// if work remains, i.e. the next `poll` must not block.
  virtual bool process() = 0;

  /// Waits for I/O, a timer, or `wake()`, at most `timeout` (nullopt: no
  /// limit), then performs ready operations and delivers completions.
  virtual caf::error poll(std::optional<clock::duration> timeout) = 0;

  // -- files (driver thread only) -------------------------------------------

  /// The driver's file I/O (drivers/file_backend.hpp): io_uring operations
  /// on its ring, or an engine beside a readiness loop (helper threads,
  /// POSIX AIO). Lives as long as the driver.
  virtual file_backend& files() = 0;

  /// Number of registered sockets (for tests and shutdown).
  virtual size_t sockets() const noexcept = 0;

  /// Closes every socket (completing their requests), cancels timers and
  /// completes every file request (`files()` stays usable).
  virtual void close_all() = 0;

  /// Sets the execution unit completions are enqueued with (the driver
  /// thread's unit), so messages to pinned owners skip the wake-up.
  void set_unit(caf::execution_unit* eu) noexcept {
    eu_ = eu;
  }

  /// Requests, completions and bytes so far; readable from any thread
  /// (drivers/driver_counters.hpp).
  const driver_counters& counters() const noexcept {
    return counters_;
  }

  /// The same, to write: the file service (io/file_service.hpp) counts its
  /// operations here on the driver thread; a metrics endpoint turns on
  /// `driver_counters::count_file_outcomes` from any thread.
  driver_counters& counters() noexcept {
    return counters_;
  }

protected:
  /// Sends `event` (a `drivers/completions.hpp` type) to `owner` as an
  /// anonymous message (no-op without owner). One allocation: the event
  /// lives inside its mailbox element (CAF's `mailbox_element_vals`), not
  /// in a `caf::message` beside it; handlers see it the same way.
  template <class Event>
  void deliver(const caf::strong_actor_ptr& owner, Event&& event) {
    if (owner)
      owner->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(),
                                               {}, std::forward<Event>(event)),
                     eu_);
  }

  caf::execution_unit* eu_ = nullptr;
  driver_counters counters_; ///< written on the driver thread only
};

} // namespace actio
