#pragma once

// Tools for the memory-bound tests: a consumer that is really slow, and an
// RSS sampler. A "slow" sink that merely checksums its bytes can be faster
// than the source, and then nothing ever waits for credit: the bound is not
// exercised and the test cannot fail.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "support/net_client.hpp"

namespace actio::test {

/// Paces a consumer to at most `bytes_per_second`: `consumed(n)` after each
/// element sleeps the consumer's thread while it is ahead of that rate.
/// Sleeping is the point (tests only): the sink is slower than any source,
/// so whatever the source offers beyond what the sink took has to wait for
/// credit, or piles up in memory (the bug these tests catch).
class pace {
public:
  explicit pace(uint64_t bytes_per_second) : rate_(bytes_per_second) {
  }

  void consumed(uint64_t n) {
    if (bytes_ == 0)
      start_ = clock::now();
    bytes_ += n;
    auto due = start_ + std::chrono::duration_cast<clock::duration>(
                          std::chrono::duration<double>(
                            static_cast<double>(bytes_) / rate_));
    if (auto now = clock::now(); due > now)
      std::this_thread::sleep_for(due - now);
  }

  /// Seconds the consumer has needed so far (at least bytes / rate).
  double seconds() const {
    return bytes_ == 0 ? 0 : std::chrono::duration<double>(clock::now() - start_).count();
  }

private:
  uint64_t rate_;
  uint64_t bytes_ = 0;
  clock::time_point start_;
};

/// Samples the process RSS every 5 ms on a thread of its own until
/// destroyed or `stop()`; `growth()` is the peak above the RSS at start.
class rss_sampler {
public:
  rss_sampler() : before_(rss_bytes()), peak_(before_) {
    thread_ = std::thread{[this] {
      while (running_) {
        peak_ = std::max(peak_.load(), rss_bytes());
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      }
    }};
  }

  ~rss_sampler() {
    stop();
  }

  rss_sampler(const rss_sampler&) = delete;
  rss_sampler& operator=(const rss_sampler&) = delete;

  void stop() {
    if (!thread_.joinable())
      return;
    running_ = false;
    thread_.join();
    peak_ = std::max(peak_.load(), rss_bytes());
  }

  size_t growth() const {
    auto peak = peak_.load();
    return peak > before_ ? peak - before_ : 0;
  }

private:
  size_t before_;
  std::atomic<size_t> peak_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

} // namespace actio::test
