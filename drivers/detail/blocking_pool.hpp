#pragma once

/// Blocking system calls on helper threads, for drivers whose own thread must
/// never block: open, fstat and close for the aio backend, every file
/// operation for epoll and kqueue (through `file_pool`).
///
/// - `submit`, `cancel_queued`, `drain` and `stop` run on the driver thread.
///   A worker runs `job->run()`, puts the job on the done list and calls
///   `wake` (the first job after a drain only); the driver then calls
///   `drain()`, which calls `job->complete()` on the driver thread.
/// - Workers start on demand (a job waits and no worker is idle), up to
///   `max_threads`; a worker idle for `idle_timeout` ends. A call that blocks
///   for long (a FIFO opened without O_NONBLOCK while nobody opens the other
///   end, a hung network mount) holds one worker, never the driver and never
///   the other calls, unless `max_threads` calls are stuck at once: then new
///   calls wait for one of them.
/// - `stop()` takes every job that has not finished out of the pool and
///   returns it: queued ones never ran; running ones are *abandoned*: the
///   kernel call cannot be taken back, so its worker finishes it, calls
///   `discard()` (release what the call got: close the descriptor it opened)
///   instead of handing the job back, and ends. The caller answers each
///   returned job itself (say, `errc::cancelled`), so every job is completed
///   exactly once. From the moment `stop` returns no worker calls `wake` or
///   `complete`; abandoned workers hold only their job and the pool's shared
///   state. Jobs that finished before `stop` stay on the done list for the
///   next `drain`. The pool stays usable: later jobs start new workers.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace actio {

/// One blocking call and how its outcome is delivered. `run` (worker) and
/// the owner's answer to an abandoned job (driver thread) may run at the same
/// time, so they must touch disjoint members: `run` writes the outcome, the
/// driver side owns the response promise.
class blocking_job {
public:
  virtual ~blocking_job();

  /// Worker thread: the blocking calls; records the outcome. Never throws.
  virtual void run() noexcept = 0;

  /// Driver thread, from `drain()`: delivers the outcome.
  virtual void complete() = 0;

  /// Worker thread, after `run()`, when `stop()` abandoned the job: releases
  /// what `run()` acquired. Default: nothing.
  virtual void discard() noexcept;
};

using blocking_job_ptr = std::shared_ptr<blocking_job>;

class blocking_pool {
public:
  /// What `stop()` took out of the pool; the caller answers each job.
  struct stopped_jobs {
    std::vector<blocking_job_ptr> queued;    ///< never ran
    std::vector<blocking_job_ptr> abandoned; ///< still running on a worker
  };

  /// @param wake called from a worker (under the pool's lock, so it must be
  ///        cheap and must not call back into the pool) when a finished job
  ///        lands on an empty done list; the driver then calls `drain()`.
  /// @param max_threads most workers at once (at least 1).
  /// @param idle_timeout a worker without a job this long ends.
  explicit blocking_pool(std::function<void()> wake, size_t max_threads,
                         std::chrono::milliseconds idle_timeout
                         = std::chrono::seconds{10});

  /// `stop()`; the jobs it returns are dropped unanswered, so owners call
  /// `stop()` (and answer) first. Joins idle workers.
  ~blocking_pool();

  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Queues `job` and starts a worker if none is idle (and fewer than
  /// `max_threads` run). False, keeping nothing, when no worker exists and
  /// none could be started: the caller answers the job with an error.
  bool submit(blocking_job_ptr job);

  /// Takes the first queued (not started) job for which `pred` holds out of
  /// the pool and returns it; null if there is none.
  blocking_job_ptr cancel_queued(const std::function<bool(blocking_job&)>& pred);

  /// Completes every finished job (`complete()`, in finishing order).
  /// Returns how many.
  size_t drain();

  /// See the top of this file.
  stopped_jobs stop();

  /// Workers alive and not abandoned. For tests.
  size_t threads() const;

  /// Jobs queued or running. For tests.
  size_t pending() const;

private:
  struct state; // shared with the workers (blocking_pool.cpp)
  struct worker;

  std::shared_ptr<state> st_;
};

} // namespace actio
