#include "actio/drivers/detail/blocking_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace actio {

blocking_job::~blocking_job() = default;

void blocking_job::discard() noexcept {
  // nothing acquired
}

/// One worker thread. Shared by the pool's list and the thread itself, so
/// an abandoned (detached) worker keeps its record after the pool let go.
struct blocking_pool::worker {
  std::thread thread;
  blocking_job_ptr job;   ///< running now; null while idle
  bool quit = false;      ///< stop(): end instead of waiting for work
  bool abandoned = false; ///< stop() answered `job`: discard it, then end
  bool ended = false;     ///< left its loop: join me
};

struct blocking_pool::state {
  std::function<void()> wake;
  size_t max_threads;
  std::chrono::milliseconds idle_timeout;

  mutable std::mutex mtx; // guards everything below
  std::condition_variable cv;
  std::deque<blocking_job_ptr> queue; ///< not started, FIFO
  std::deque<blocking_job_ptr> done;  ///< finished, not completed yet
  std::list<std::shared_ptr<worker>> workers; ///< not abandoned
  size_t idle = 0;  ///< workers waiting for a job
  size_t ended = 0; ///< workers in `workers` that left their loop

  void run(const std::shared_ptr<worker>& self);

  /// Moves ended workers to `out` (for joining without the lock).
  void take_ended(std::vector<std::shared_ptr<worker>>& out);
};

void blocking_pool::state::take_ended(std::vector<std::shared_ptr<worker>>& out) {
  if (ended == 0)
    return;
  for (auto i = workers.begin(); i != workers.end();) {
    if ((*i)->ended) {
      out.push_back(std::move(*i));
      i = workers.erase(i);
    } else {
      ++i;
    }
  }
  ended = 0;
}

/// The worker loop. Holds `mtx` except while a job runs.
void blocking_pool::state::run(const std::shared_ptr<worker>& self) {
  std::unique_lock<std::mutex> guard{mtx};
  for (;;) {
    if (self->quit)
      break;
    if (queue.empty()) {
      ++idle;
      bool woken = cv.wait_for(guard, idle_timeout,
                               [&] { return self->quit || !queue.empty(); });
      --idle;
      if (!woken)
        break; // idle too long
      continue;
    }
    auto job = std::move(queue.front());
    queue.pop_front();
    self->job = job;
    guard.unlock();
    job->run();
    guard.lock();
    self->job = nullptr;
    if (self->abandoned) {
      // stop() answered the job and let go of this worker (detached): touch
      // nothing of the pool's owner, release what the call got, end.
      guard.unlock();
      job->discard();
      return;
    }
    bool was_empty = done.empty();
    done.push_back(std::move(job));
    // Under the lock: the destructor clears `wake` under it too. Workers
    // abandoned by stop() never get here.
    if (was_empty && wake)
      wake();
  }
  self->ended = true;
  if (!self->quit) // stop() took quitting workers off the list already
    ++ended;
}

blocking_pool::blocking_pool(std::function<void()> wake, size_t max_threads,
                             std::chrono::milliseconds idle_timeout)
  : st_(std::make_shared<state>()) {
  st_->wake = std::move(wake);
  st_->max_threads = std::max(max_threads, size_t{1});
  st_->idle_timeout = idle_timeout;
}

blocking_pool::~blocking_pool() {
  stop();
  std::lock_guard<std::mutex> guard{st_->mtx};
  st_->wake = nullptr; // abandoned workers may outlive the owner
  st_->done.clear();
}

bool blocking_pool::submit(blocking_job_ptr job) {
  std::vector<std::shared_ptr<worker>> ended;
  bool queued = true;
  {
    std::lock_guard<std::mutex> guard{st_->mtx};
    st_->take_ended(ended);
    st_->queue.push_back(std::move(job));
    auto alive = st_->workers.size();
    if (st_->idle >= st_->queue.size() || alive >= st_->max_threads) {
      st_->cv.notify_one();
    } else {
      auto w = std::make_shared<worker>();
      try {
        auto st = st_;
        w->thread = std::thread{[st, w] { st->run(w); }};
        st_->workers.push_back(std::move(w));
      } catch (const std::system_error&) {
        if (alive > 0) {
          st_->cv.notify_one(); // a busy worker takes it later
        } else {
          st_->queue.pop_back(); // nobody would ever run it
          queued = false;
        }
      }
    }
  }
  for (auto& w : ended)
    w->thread.join(); // left its loop: prompt
  return queued;
}

blocking_job_ptr
blocking_pool::cancel_queued(const std::function<bool(blocking_job&)>& pred) {
  std::lock_guard<std::mutex> guard{st_->mtx};
  auto i = std::find_if(st_->queue.begin(), st_->queue.end(),
                        [&](const blocking_job_ptr& j) { return pred(*j); });
  if (i == st_->queue.end())
    return nullptr;
  auto job = std::move(*i);
  st_->queue.erase(i);
  return job;
}

size_t blocking_pool::drain() {
  std::deque<blocking_job_ptr> batch;
  std::vector<std::shared_ptr<worker>> ended;
  {
    std::lock_guard<std::mutex> guard{st_->mtx};
    batch.swap(st_->done);
    st_->take_ended(ended);
  }
  for (auto& w : ended)
    w->thread.join();
  for (auto& job : batch)
    job->complete(); // may submit more (a close after the last read)
  return batch.size();
}

blocking_pool::stopped_jobs blocking_pool::stop() {
  stopped_jobs result;
  std::vector<std::shared_ptr<worker>> to_join;
  {
    std::lock_guard<std::mutex> guard{st_->mtx};
    result.queued.assign(std::make_move_iterator(st_->queue.begin()),
                         std::make_move_iterator(st_->queue.end()));
    st_->queue.clear();
    for (auto& w : st_->workers) {
      if (w->job != nullptr) {
        w->abandoned = true;
        result.abandoned.push_back(w->job);
        w->thread.detach(); // ends by itself once its call returns
      } else {
        w->quit = true;
        to_join.push_back(w);
      }
    }
    st_->workers.clear();
    st_->ended = 0;
    st_->cv.notify_all();
  }
  for (auto& w : to_join)
    w->thread.join(); // idle or ending: prompt
  return result;
}

size_t blocking_pool::threads() const {
  std::lock_guard<std::mutex> guard{st_->mtx};
  return st_->workers.size() - st_->ended;
}

size_t blocking_pool::pending() const {
  std::lock_guard<std::mutex> guard{st_->mtx};
  size_t running = 0;
  for (auto& w : st_->workers)
    if (w->job != nullptr)
      ++running;
  return st_->queue.size() + running;
}

} // namespace actio
