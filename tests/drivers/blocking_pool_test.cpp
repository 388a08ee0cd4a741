// The helper-thread pool behind file_pool and the aio backend's
// open/fstat/close (drivers/detail/blocking_pool.hpp), driven directly: workers
// start on demand up to the limit, a call stuck in the kernel (a read of an
// empty pipe) holds one worker and nothing else, and stop() hands back
// every unfinished job exactly once (queued ones unrun, running ones
// abandoned to their worker, which discards the result later).

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "actio/drivers/detail/blocking_pool.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

/// Reads one byte from a pipe: blocks until the test writes it.
struct pipe_read_job final : blocking_job {
  explicit pipe_read_job(int read_fd) : fd(read_fd) {
  }

  void run() noexcept override {
    started = true;
    char c = 0;
    got = ::read(fd, &c, 1);
    ran = true;
  }

  void complete() override {
    ++completed;
  }

  void discard() noexcept override {
    ++discarded;
  }

  int fd;
  ssize_t got = -1;
  std::atomic<bool> started{false};
  std::atomic<bool> ran{false};
  std::atomic<int> completed{0};
  std::atomic<int> discarded{0};
};

struct quick_job final : blocking_job {
  void run() noexcept override {
    ran = true;
  }

  void complete() override {
    ++completed;
  }

  std::atomic<bool> ran{false};
  std::atomic<int> completed{0};
};

struct pipe_pair {
  int r = -1;
  int w = -1;
  pipe_pair() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == 0) {
      r = fds[0];
      w = fds[1];
    }
  }
  ~pipe_pair() {
    ::close(r);
    ::close(w);
  }
};

/// Drains until `pred` holds (bounded), as a driver loop would.
bool drain_until(blocking_pool& pool, const std::function<bool()>& pred) {
  return test::wait_until([&] {
    pool.drain();
    return pred();
  });
}

TEST(blocking_pool_test, stuck_calls_hold_one_worker_each_not_the_others) {
  std::atomic<int> wakes{0};
  blocking_pool pool{[&] { ++wakes; }, 3};
  EXPECT_EQ(pool.threads(), 0u); // none before the first job
  pipe_pair a;
  pipe_pair b;
  auto stuck_a = std::make_shared<pipe_read_job>(a.r);
  auto stuck_b = std::make_shared<pipe_read_job>(b.r);
  ASSERT_TRUE(pool.submit(stuck_a));
  ASSERT_TRUE(pool.submit(stuck_b));
  // Two calls are stuck in read(2); the third worker serves the rest.
  std::vector<std::shared_ptr<quick_job>> quick;
  for (int i = 0; i < 20; ++i) {
    quick.push_back(std::make_shared<quick_job>());
    ASSERT_TRUE(pool.submit(quick.back()));
  }
  ASSERT_TRUE(drain_until(pool, [&] {
    for (auto& q : quick)
      if (q->completed != 1)
        return false;
    return true;
  }));
  EXPECT_LE(pool.threads(), 3u);
  EXPECT_GE(wakes.load(), 1);
  EXPECT_EQ(stuck_a->completed.load(), 0);
  // Unstick one: it completes, once.
  ASSERT_EQ(::write(a.w, "x", 1), 1);
  ASSERT_TRUE(drain_until(pool, [&] { return stuck_a->completed == 1; }));
  EXPECT_EQ(stuck_a->got, 1);
  // stop() hands back the other one, still running: abandoned.
  auto left = pool.stop();
  EXPECT_TRUE(left.queued.empty());
  ASSERT_EQ(left.abandoned.size(), 1u);
  EXPECT_EQ(left.abandoned.front().get(), stuck_b.get());
  auto wakes_at_stop = wakes.load();
  // Its call returns later: the worker discards it and never completes it.
  ASSERT_EQ(::write(b.w, "y", 1), 1);
  EXPECT_TRUE(test::wait_until([&] { return stuck_b->discarded == 1; }));
  pool.drain();
  EXPECT_EQ(stuck_b->completed.load(), 0);
  EXPECT_EQ(wakes.load(), wakes_at_stop);
  for (auto& q : quick)
    EXPECT_EQ(q->completed.load(), 1);
}

TEST(blocking_pool_test, stop_returns_queued_jobs_unrun_and_the_pool_stays_usable) {
  blocking_pool pool{[] {}, 1};
  pipe_pair p;
  auto stuck = std::make_shared<pipe_read_job>(p.r);
  ASSERT_TRUE(pool.submit(stuck));
  ASSERT_TRUE(test::wait_until([&] { return stuck->started.load(); }));
  EXPECT_EQ(pool.pending(), 1u);
  auto waiting = std::make_shared<quick_job>();
  ASSERT_TRUE(pool.submit(waiting)); // one worker, and it is stuck
  auto cancelled = pool.cancel_queued(
    [&](blocking_job& j) { return &j == waiting.get(); });
  EXPECT_EQ(cancelled.get(), waiting.get());
  auto queued = std::make_shared<quick_job>();
  ASSERT_TRUE(pool.submit(queued));
  auto left = pool.stop();
  ASSERT_EQ(left.queued.size(), 1u);
  EXPECT_EQ(left.queued.front().get(), queued.get());
  ASSERT_EQ(left.abandoned.size(), 1u);
  EXPECT_FALSE(queued->ran.load());
  EXPECT_FALSE(waiting->ran.load());
  // Usable again: a new worker starts for the next job.
  auto later = std::make_shared<quick_job>();
  ASSERT_TRUE(pool.submit(later));
  ASSERT_TRUE(drain_until(pool, [&] { return later->completed == 1; }));
  ASSERT_EQ(::write(p.w, "z", 1), 1);
  EXPECT_TRUE(test::wait_until([&] { return stuck->discarded == 1; }));
  EXPECT_EQ(stuck->completed.load(), 0);
}

TEST(blocking_pool_test, idle_workers_end_and_new_ones_start) {
  blocking_pool pool{[] {}, 2, 1ms};
  auto first = std::make_shared<quick_job>();
  ASSERT_TRUE(pool.submit(first));
  ASSERT_TRUE(drain_until(pool, [&] { return first->completed == 1; }));
  // The worker leaves after 1 ms without work; a new job starts another.
  ASSERT_TRUE(drain_until(pool, [&] { return pool.threads() == 0; }));
  auto second = std::make_shared<quick_job>();
  ASSERT_TRUE(pool.submit(second));
  ASSERT_TRUE(drain_until(pool, [&] { return second->completed == 1; }));
}

} // namespace
