// The rate limit for repeated warnings, on an injected clock.

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actio/drivers/log_limiter.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

struct fake_clock {
  log_limiter::clock::time_point now{};
  log_limiter::clock_fn fn() {
    return [this] { return now; };
  }
};

TEST(log_limiter, prints_burst_lines_per_interval_then_reports_the_rest) {
  fake_clock t;
  log_limiter lim{3, 1s, t.fn()};
  for (int i = 0; i < 3; ++i) {
    auto v = lim.admit("k");
    EXPECT_TRUE(v) << i;
    EXPECT_EQ(v.suppressed, 0u);
    EXPECT_EQ(v.note(), "");
  }
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(lim.admit("k")) << i;
  t.now += 999ms; // still the same window
  EXPECT_FALSE(lim.admit("k"));
  t.now += 1ms;
  auto v = lim.admit("k");
  ASSERT_TRUE(v);
  EXPECT_EQ(v.suppressed, 1001u);
  EXPECT_EQ(v.note(), " (1001 similar messages suppressed)");
  // Reported once: the next lines of the new window carry nothing.
  auto w = lim.admit("k");
  ASSERT_TRUE(w);
  EXPECT_EQ(w.suppressed, 0u);
}

TEST(log_limiter, a_flood_prints_a_bounded_number_of_lines) {
  fake_clock t;
  log_limiter lim{10, 5s, t.fn()};
  size_t printed = 0, reported = 0, total = 0;
  // 71,000 lines in 7 s, as actio-udp-echo once wrote.
  for (int ms = 0; ms < 7000; ++ms) {
    t.now = log_limiter::clock::time_point{} + std::chrono::milliseconds{ms};
    for (int k = 0; k < 10; ++k, ++total)
      if (auto v = lim.admit("flood")) {
        ++printed;
        reported += v.suppressed;
      }
  }
  EXPECT_EQ(total, 70000u);
  EXPECT_EQ(printed, 20u); // two windows of 10 (at 0 s and at 5 s)
  // The first window's drops came with the second window's first line; the
  // second window's wait for the next line of their key.
  EXPECT_EQ(reported, 50000u - 10u);
}

TEST(log_limiter, keys_are_limited_independently) {
  fake_clock t;
  log_limiter lim{1, 1s, t.fn()};
  EXPECT_TRUE(lim.admit("a"));
  EXPECT_FALSE(lim.admit("a"));
  EXPECT_TRUE(lim.admit("b"));
  EXPECT_FALSE(lim.admit("b"));
  t.now += 1s;
  EXPECT_EQ(lim.admit("a").suppressed, 1u);
  EXPECT_EQ(lim.admit("b").suppressed, 1u);
}

TEST(log_limiter, a_zero_burst_still_prints_one_line) {
  fake_clock t;
  log_limiter lim{0, 1s, t.fn()};
  EXPECT_TRUE(lim.admit("k"));
  EXPECT_FALSE(lim.admit("k"));
  EXPECT_EQ(lim.admit("k").note(), "");
}

TEST(log_limiter, threads_share_the_limit) {
  // Real clock, but an interval no test run reaches: exactly `burst` lines.
  log_limiter lim{5, 24h};
  std::atomic<size_t> printed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 10000; ++k)
        if (lim.admit("k"))
          ++printed;
    });
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(printed.load(), 5u);
}

} // namespace
