#pragma once

/// The share of one pinned actor (pinned.hpp) in its unit's
/// `driver_unit::pinned_backlog`: messages enqueued and not yet consumed.
/// Enqueues come from any thread, consumption and the close at termination
/// from the actor's own; after the close nothing counts any more (messages
/// sent to a dead actor are bounced, never consumed), and what was left is
/// taken off the unit's total. Relaxed atomics: a scrape sees a value that
/// may lag by a few messages. Used by `pinned`; not needed elsewhere.

#include <atomic>
#include <cstdint>

#include "actio/actors/driver_unit.hpp"

namespace actio {

class pinned_backlog {
public:
  /// Counts into `unit`'s total.
  explicit pinned_backlog(driver_unit& unit) noexcept : unit_(unit) {
  }

  /// One message more (any thread); nothing after `close`.
  void enqueued() noexcept {
    auto n = n_.load(std::memory_order_relaxed);
    do {
      if (n < 0)
        return;
    } while (!n_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    unit_.add_backlog(1);
  }

  /// One message less (the actor's thread).
  void consumed() noexcept {
    auto n = n_.load(std::memory_order_relaxed);
    do {
      if (n <= 0)
        return;
    } while (!n_.compare_exchange_weak(n, n - 1, std::memory_order_relaxed));
    unit_.add_backlog(-1);
  }

  /// True after `close`: the actor terminated, and its unit may be gone.
  bool closed() const noexcept {
    return n_.load(std::memory_order_relaxed) < 0;
  }

  /// At termination: the rest is dropped with the mailbox.
  void close() noexcept {
    auto n = n_.exchange(closed_mark, std::memory_order_relaxed);
    if (n > 0)
      unit_.add_backlog(-n);
  }

private:
  static constexpr int64_t closed_mark = -1;
  driver_unit& unit_;
  std::atomic<int64_t> n_{0};
};

} // namespace actio
