#pragma once

/// File I/O through POSIX AIO (glibc: aio_read/aio_write/aio_fsync), for the
/// `aio` backend. Same contracts as `file_pool` (drivers/file_pool.hpp) and
/// the driver's file API:
///
/// - requests and `process()` run on the driver thread only; every request
///   completes exactly once, never from inside the request call;
/// - read_at/write_at/sync_file are queued and submitted at the next
///   `process()` in one lio_listio(LIO_NOWAIT) batch (up to 64 a call);
///   each aiocb notifies by `aio_signal()` (SIGEV_SIGNAL, aio_signal.hpp),
///   which only wakes the driver; `process()` then scans every in-flight
///   request with aio_error/aio_return (signals coalesce);
/// - glibc serialises requests per descriptor, so each open file keeps
///   `fds_per_file` dup'd descriptors and requests rotate over them;
/// - open, fstat and close have no AIO form: they run synchronously on the
///   driver thread (cheap on local files; a FIFO opened without O_NONBLOCK
///   or a hung network mount blocks the driver, as documented for `aio`);
/// - cancel uses aio_cancel: AIO_CANCELED completes with errc::cancelled,
///   AIO_NOTCANCELED with the real result once it finishes; a request not
///   submitted yet is cancelled at once;
/// - an aiocb and its buffer stay owned by the engine until aio_error says
///   the request finished: `shutdown()` cancels and then waits (aio_suspend)
///   for whatever glibc still holds before it completes and frees anything.

#include <aio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/types.hpp"

namespace actio {

/// Tuning, from `actio.io.aio-*` (see drivers/aio/aio_driver.hpp).
struct aio_options {
  size_t fds_per_file = 4; ///< dup'd descriptors per open file (1..64)
  size_t threads = 8;      ///< glibc aio_init: aio_threads
  size_t num = 64;         ///< glibc aio_init: aio_num (expected requests)
};

/// Process-wide counters, for tests and benchmarks.
struct aio_counters {
  uint64_t batches = 0;      ///< lio_listio calls
  uint64_t submitted = 0;    ///< aiocbs submitted (all through lio_listio)
  uint64_t largest_batch = 0;
  uint64_t cancel_hits = 0;  ///< aio_cancel returned AIO_CANCELED
  uint64_t wakeups = 0;      ///< signalfd reads that found a signal
};

/// A snapshot of the counters (atomics inside).
aio_counters aio_stats() noexcept;

namespace detail {
struct aio_request; // aio_files.cpp
} // namespace detail

class aio_files {
public:
  /// Calls aio_init (first engine of the process only: glibc ignores later
  /// calls once AIO ran) and blocks the signal in the calling thread.
  explicit aio_files(aio_options opts);

  /// `shutdown()`.
  ~aio_files();

  aio_files(const aio_files&) = delete;
  aio_files& operator=(const aio_files&) = delete;

  // -- requests (driver thread only); contracts as in file_pool ---------------

  void open_file(std::string path, int flags, unsigned mode,
                 caf::response_promise rp);
  void read_at(file_id file, uint64_t offset, size_t len, op_id id,
               caf::response_promise rp);
  void write_at(file_id file, uint64_t offset, byte_buffer buf, op_id id,
                caf::response_promise rp);
  void sync_file(file_id file, bool datasync, caf::response_promise rp);
  void stat_file(file_id file, caf::response_promise rp);
  void close_file(file_id file, caf::response_promise rp);

  /// Cancels read_at/write_at `id`, queued or in flight (see above). False
  /// if no such request is pending.
  bool cancel(op_id id);

  // -- driver loop (driver thread only) ---------------------------------------

  /// Submits queued requests, collects finished ones, delivers. True if
  /// completions are waiting for the next call (the loop must not block).
  bool process();

  /// Requests submitted and not finished (the loop then bounds its sleep).
  size_t in_flight() const noexcept {
    return in_flight_.size();
  }

  /// Cancels everything, waits until glibc released every aiocb, delivers
  /// every completion and closes every descriptor. The engine stays usable.
  void shutdown();

  /// Files open or closing. For tests.
  size_t open_files() const noexcept {
    return live_;
  }

private:
  using request = detail::aio_request;
  using request_ptr = std::unique_ptr<request>;

  struct slot {
    std::vector<int> fds;   ///< empty: free
    uint32_t gen = 1;
    bool closing = false;
    size_t in_flight = 0;   ///< requests not delivered yet
    size_t next_fd = 0;     ///< rotation over `fds`
    bool seekable = true;   ///< stream reads: track `pos` ourselves
    uint64_t pos = 0;
    std::string path;
    caf::response_promise close_rp;
  };

  slot* find(file_id file) noexcept;
  file_id id_of(uint32_t index) const noexcept;
  std::string name_of(file_id file) const;
  request* admit(request_ptr& r, file_id file, const char* what);
  void submit_queued();
  void collect();
  void finish(request_ptr r);
  void deliver(request& r);
  void done_with(uint32_t index);
  void close_slot(uint32_t index, caf::error* err);

  aio_options opts_;
  std::vector<slot> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
  std::vector<request_ptr> queued_;    ///< not submitted yet
  std::vector<request_ptr> in_flight_; ///< glibc owns cb and buffer
  std::deque<request_ptr> done_;       ///< to deliver
  std::deque<std::function<void()>> later_; ///< open/stat/close replies
  bool stopping_ = false;
};

} // namespace actio
