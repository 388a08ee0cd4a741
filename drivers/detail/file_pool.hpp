#pragma once

/// Blocking file I/O on helper threads, for readiness-based backends.
///
/// Regular files are always "ready" to epoll, so the epoll backend cannot
/// wait for them; it hands them to this pool instead and offers the same file
/// API as io_uring (`driver.hpp`, "files"). The pool keeps the driver's rules:
///
/// - requests and `drain()` run on the driver thread only, and so does
///   everything that touches a response promise: a worker never delivers, it
///   finishes its job and wakes the driver (`blocking_pool`); the driver then
///   calls `drain()`, which delivers;
/// - every request completes exactly once, and never from inside the request
///   call: even a request that fails at once (stale file id) or has nothing
///   to do (zero-length read) is delivered by the next `drain`;
/// - a file's descriptor stays open until the last job using it finished,
///   also after `close_file` and after shutdown; file ids carry a generation,
///   so a stale id is detected and never reaches a reused slot.
///
/// Jobs start in FIFO order on up to `threads` workers (started on demand),
/// several in parallel (positional I/O, so that is safe). A job blocks its
/// worker, not the driver: opening a FIFO without O_NONBLOCK or a hung NFS
/// mount ties up one worker; the other requests go on while one is left.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/response_promise.hpp>

#include "actio/drivers/detail/blocking_pool.hpp"
#include "actio/drivers/detail/file_engine.hpp"
#include "actio/drivers/detail/slot_table.hpp"
#include "actio/drivers/types.hpp"

namespace actio {

namespace detail {
template <class Job, class Engine, class Kind>
struct engine_job; // a blocking job's way back (engine_job.hpp)

struct file_job;   // one request on its way through the pool (file_job.hpp)
struct descriptor; // an open file's descriptor, shared by the jobs using it

} // namespace detail

class file_pool final : public file_engine {
public:
  /// Runs jobs on up to `threads` workers (at least one), started on demand.
  /// @param wake called from a worker thread after it queued a finished job
  ///        on an empty done list (later ones coalesce until the next
  ///        `drain`); the driver then calls `drain()` on its own thread. Must
  ///        be cheap and not throw.
  explicit file_pool(std::function<void()> wake, size_t threads = 2);

  /// `shutdown()`. Calls `wake` no more once it returns, so the waker may go
  /// right after.
  ~file_pool() override;

  /// Stops: jobs not started yet complete with `errc::cancelled` (a queued
  /// close still closes); running ones complete with `errc::cancelled` at
  /// once and are abandoned to their workers (a call stuck in the kernel
  /// cannot be waited for), which drop their result and the descriptor when
  /// the call returns. Delivers everything on the calling thread (the driver
  /// thread), then closes every descriptor no abandoned job still uses (ids
  /// of those files fail with `errc::closed` from then on). The pool stays
  /// usable: later requests start new workers.
  void shutdown() override;

  file_pool(const file_pool&) = delete;
  file_pool& operator=(const file_pool&) = delete;

  // -- requests (driver thread only) ------------------------------------------
  //
  // Same contracts as the driver's file API: each completes exactly once
  // through `rp`, with the value or an `actio` error whose text names the
  // operation and the path ("open /tmp/x: No such file or directory").
  // Requests on an unknown, stale or closing id fail with `errc::closed`.

  // The file_backend calls (drivers/file_backend.hpp). Errors name the
  // path ("open /tmp/x: No such file or directory"). cancel_file_op cancels
  // a read_at/write_at only if it has not started yet: it completes with
  // `errc::cancelled` at the next `drain`; running jobs are not cancelled.
  ACTIO_FILE_BACKEND_OVERRIDES;

  // -- completions (driver thread only) ---------------------------------------

  /// Delivers the results of finished jobs through their promises. Returns
  /// how many it delivered.
  size_t drain();

  /// `drain()` for the driver's loop; false: nothing is left waiting.
  bool process() override {
    drain();
    return false;
  }

  /// Files open or closing (descriptor not closed yet). For tests.
  size_t open_files() const;

private:
  using job = detail::file_job;
  using job_ptr = std::shared_ptr<job>;
  using descriptor_ptr = std::shared_ptr<detail::descriptor>;

  /// One entry of the file table. A free slot keeps its path until reuse
  /// (`slot_table`), so a request on a just-closed id can still name the
  /// file.
  struct slot {
    descriptor_ptr fd;     ///< null: free
    bool closing = false;  ///< close_file seen: no new jobs
    size_t in_flight = 0;  ///< jobs using `fd` not delivered yet
    size_t abandoned = 0;  ///< jobs left running at shutdown (hold `fd`)
    std::string path;      ///< for error texts
    caf::response_promise close_rp; ///< close_file waiting for in_flight == 0
  };

  friend struct detail::file_job;
  template <class, class, class>
  friend struct detail::engine_job; // completes through `complete`

  // File table (driver thread).
  // (lookups: `slots_.find_open`, `.name_of`, `.id_of`, `.release`)
  uint32_t add_slot(descriptor_ptr fd, std::string path);

  // Submitting (driver thread).
  bool admit(job& j, file_id file, const char* what);
  void submit(job_ptr j);
  void start_close(uint32_t index);

  // Completing (driver thread).
  void finish_now(job_ptr j); ///< a job that never runs: next `drain`
  void complete(job& j);      ///< deliver the outcome
  void answer_abandoned(job& j);
  void done_with(uint32_t index);

  std::function<void()> wake_;
  detail::slot_table<slot> slots_;
  std::deque<job_ptr> immediate_; ///< never ran; delivered by `drain`
  bool stopped_ = false; ///< destructor: closes run inline
  blocking_pool workers_; ///< last: stopped (by the destructor) first
};

} // namespace actio
