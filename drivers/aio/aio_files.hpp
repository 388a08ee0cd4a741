#pragma once

/// File I/O through POSIX AIO (aio_read/aio_write/aio_fsync): the file
/// engine of the `aio` backend, which is the platform's readiness driver
/// (epoll on Linux, kqueue on FreeBSD) hosting this engine (composed in
/// drivers/select.cpp; the engine's hooks: drivers/detail/file_engine.hpp).
/// A portability backend: `auto` never picks it. Same contracts as
/// `file_pool` (drivers/detail/file_pool.hpp) and `file_backend`:
///
/// - requests and `process()` run on the driver thread only; every request
///   completes exactly once, never from inside the request call;
/// - read_at/write_at/sync_file are queued and submitted at the next
///   `process()` in one lio_listio(LIO_NOWAIT) batch (up to 64 a call);
///   each aiocb notifies through the platform's `aio_notifier`
///   (aio_notifier.hpp: a real-time signal on Linux, a kevent on FreeBSD),
///   which the driver watches and reports with `notified()`; `process()`
///   then collects finished requests with aio_error/aio_return: every one
///   in flight when the notifier cannot name them (Linux: signals
///   coalesce), just the named ones otherwise (FreeBSD);
/// - glibc serialises requests per descriptor, so each open file keeps
///   `fds_per_file` dup'd descriptors and requests rotate over them;
/// - open, fstat and close have no AIO form: they run on helper threads
///   (`blocking_pool`, up to `helper_threads`), never on the driver thread,
///   so a FIFO opened without O_NONBLOCK or a hung network mount stalls
///   neither the driver nor the other requests; their results come back
///   through `process()` like the rest;
/// - cancel uses aio_cancel: AIO_CANCELED completes with errc::cancelled,
///   AIO_NOTCANCELED with the real result once it finishes; a request not
///   submitted yet is cancelled at once;
/// - an aiocb and its buffer stay owned by the engine until aio_error says
///   the request finished: `shutdown()` cancels and then waits (aio_suspend)
///   for whatever the AIO implementation still holds, as long as requests
///   keep finishing. One that makes no progress for a second (a read of a
///   FIFO nobody writes, a hung mount) is answered with errc::cancelled and
///   *parked*: its aiocb, buffer and descriptor are kept, process-wide, until
///   it ends; a reaper thread (only while something is parked) then frees
///   them. An open/fstat/close still running at shutdown is answered with
///   errc::cancelled at once and left to its helper thread, which closes
///   whatever it opened when the call returns.

#include <aio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/expected.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/aio/aio_notifier.hpp"
#include "actio/drivers/detail/blocking_pool.hpp"
#include "actio/drivers/detail/file_engine.hpp"
#include "actio/drivers/detail/slot_table.hpp"
#include "actio/drivers/types.hpp"

namespace actio {

/// Tuning, from `actio.io.aio-*` (`aio_options_from`):
/// | option              | default | effect                                  |
/// |---------------------|---------|-----------------------------------------|
/// | aio-fds-per-file    | 4       | dup'd descriptors per open file (glibc runs one request per descriptor at a time) |
/// | aio-threads         | 8       | glibc aio_init aio_threads (first engine of the process) |
/// | aio-num             | 64      | glibc aio_init aio_num                  |
/// | aio-helper-threads  | 4       | most open/fstat/close calls running at once (helper threads, started on demand) |
struct aio_options {
  size_t fds_per_file = 4; ///< dup'd descriptors per open file (1..64)
  size_t threads = 8;      ///< glibc aio_init: aio_threads
  size_t num = 64;         ///< glibc aio_init: aio_num (expected requests)
  size_t helper_threads = 4; ///< most open/fstat/close calls at once (1..64)
};

/// Process-wide counters, for tests and benchmarks.
struct aio_counters {
  uint64_t batches = 0;      ///< lio_listio calls
  uint64_t submitted = 0;    ///< aiocbs submitted (all through lio_listio)
  uint64_t largest_batch = 0;
  uint64_t cancel_hits = 0;  ///< aio_cancel returned AIO_CANCELED
  uint64_t wakeups = 0;      ///< signalfd reads that found a signal
  uint64_t parked = 0;       ///< requests a shutdown left running, not ended yet
};

/// A snapshot of the counters (atomics inside).
aio_counters aio_stats() noexcept;

namespace detail {
template <class Job, class Engine, class Kind>
struct engine_job; // a blocking job's way back (engine_job.hpp)
struct aio_request; // a read/write/fsync (aio_files.cpp)
struct aio_call;    // an open/fstat/close on a helper thread (aio_files.cpp)
} // namespace detail

class aio_files final : public file_engine {
public:
  /// Tunes the process's AIO (`init_aio_runtime`, first engine only).
  /// @param notifier where completions are announced (`make_aio_notifier`)
  /// @param wake wakes the driver's loop from any thread (a helper thread
  ///        finished a call; `aio_notifier::attach`); the loop then runs
  ///        `process()`.
  aio_files(aio_options opts, std::unique_ptr<aio_notifier> notifier,
            std::function<void()> wake);

  /// `shutdown()`.
  ~aio_files() override;

  aio_files(const aio_files&) = delete;
  aio_files& operator=(const aio_files&) = delete;

  // -- requests (driver thread only) -----------------------------------------

  // The file_backend calls (drivers/file_backend.hpp); cancel_file_op
  // cancels a read_at/write_at queued or in flight (see above).
  ACTIO_FILE_BACKEND_OVERRIDES;

  // -- driver loop (driver thread only) ---------------------------------------

  /// The descriptor the driver watches for readability (the notifier's).
  int notify_fd() const noexcept override {
    return notifier_->fd();
  }

  /// The driver saw `notify_fd()` readable: consumes the notifications;
  /// the next `process()` collects.
  void notified() override;

  /// Submits queued requests, collects finished ones, delivers. True if
  /// completions are waiting for the next call (the loop must not block).
  bool process() override;

  /// How long the loop may sleep at most (nullopt: no limit): bounded only
  /// while requests are in flight and the notifier may lose a wake-up.
  std::optional<std::chrono::milliseconds> max_sleep() const noexcept override;

  /// Requests submitted and not finished.
  size_t in_flight() const noexcept {
    return in_flight_.size();
  }

  /// Cancels everything, waits until the AIO implementation released every
  /// aiocb, answers open/fstat/close calls still running (cancelled),
  /// delivers every completion and closes every descriptor. The engine
  /// stays usable.
  void shutdown() override;

  /// Files open or closing. For tests.
  size_t open_files() const noexcept {
    return slots_.live();
  }

  /// open/fstat/close calls queued or running on helper threads. For tests.
  size_t pending_calls() const {
    return helpers_.pending();
  }

private:
  using request = detail::aio_request;
  using request_ptr = std::unique_ptr<request>;
  using call = detail::aio_call;
  using call_ptr = std::shared_ptr<call>;

  friend struct detail::aio_call;
  template <class, class, class>
  friend struct detail::engine_job; // completes through `complete`

  /// One entry of the file table: in use while open, and while closing
  /// until the close is delivered; a free slot keeps its path until reuse
  /// (`slot_table`).
  struct slot {
    std::vector<int> fds;   ///< empty: free, or its close call has them
    bool closing = false;   ///< close_file seen: no new requests
    bool close_started = false; ///< the close call owns `fds`
    size_t in_flight = 0;   ///< requests and calls not delivered yet
    size_t next_fd = 0;     ///< rotation over `fds`
    bool seekable = true;   ///< stream reads: track `pos` ourselves
    uint64_t pos = 0;
    std::string path;
    caf::response_promise close_rp;
  };

  request* admit(request_ptr& r, file_id file, const char* what);
  void submit_queued();
  void collect();
  bool check(size_t i);
  void finish(request_ptr r);
  void deliver(request& r);
  void done_with(uint32_t index);
  void start_close(uint32_t index);
  void close_slot(uint32_t index, caf::error* err);
  void park_in_flight();
  void submit_call(call_ptr c);
  void complete(call& c);
  void answer_abandoned(call& c);

  aio_options opts_;
  std::unique_ptr<aio_notifier> notifier_;
  detail::slot_table<slot> slots_;
  std::vector<request_ptr> queued_;    ///< not submitted yet
  std::vector<request_ptr> in_flight_; ///< the kernel/glibc owns cb and buffer
  std::vector<void*> ready_;           ///< named by the notifier (exact only)
  std::unordered_map<uint64_t, request*> by_serial_; ///< exact only: names
  uint64_t next_serial_ = 0;
  std::deque<request_ptr> done_;       ///< to deliver
  std::deque<call_ptr> later_;         ///< calls answered without a helper
  bool stopping_ = false;
  blocking_pool helpers_; ///< open/fstat/close; last: stopped first
};

/// The options from a config (`actio.io.aio-*`), defaults for the rest.
aio_options aio_options_from(const caf::actor_system_config& cfg);

/// Prepares the process (`prepare_aio_process`), opens the platform's
/// notifier and returns the engine, waking its driver with `wake`.
caf::expected<std::unique_ptr<file_engine>>
make_aio_files(aio_options opts, std::function<void()> wake);

} // namespace actio
