#pragma once

/// The timers of one driver, the same in every backend: deadlines kept in
/// user space, ordered, with an index by id. The backend asks the kernel
/// for one wake-up only, at the earliest deadline (epoll: a timerfd;
/// io_uring: the wait's own timeout), and fires what is due when it wakes.
///
/// Cancelling is lazy on the kernel side: a cancelled timer leaves the
/// table, but the kernel's wake-up stays where it was and, if it was the
/// earliest, goes off once for nothing. A per-request timer (an HTTP
/// request timeout, an idle timer) is started and cancelled on every
/// request; telling the kernel each time cost a system call (epoll) or a
/// TIMEOUT_REMOVE that searches the ring's timeout list under a lock
/// (io_uring: 24% of actio-httpd's CPU at 1,000 connections).
///
/// Internal to the backends (not installed).

#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/driver.hpp"
#include "actio/drivers/types.hpp"

namespace actio::detail {

/// What a timer does when it goes off: tell `owner` (`timer_expired`), or,
/// without an owner, end the accept back-off of listener `sock`.
struct timer_entry {
  caf::strong_actor_ptr owner;
  socket_id sock = 0;
};

class timer_table {
public:
  using clock = driver::clock;
  using time_point = clock::time_point;

  /// A timer at `when`; its id (never 0).
  op_id add(time_point when, timer_entry t) {
    auto id = next_++;
    by_time_.emplace(std::make_pair(when, id), std::move(t));
    index_.emplace(id, when);
    return id;
  }

  /// Removes timer `id`; false if it went off or was cancelled already.
  bool cancel(op_id id) {
    auto i = index_.find(id);
    if (i == index_.end())
      return false;
    by_time_.erase(std::make_pair(i->second, id));
    index_.erase(i);
    return true;
  }

  /// The earliest deadline, if any timer is left.
  std::optional<time_point> next() const {
    if (by_time_.empty())
      return std::nullopt;
    return by_time_.begin()->first.first;
  }

  /// Removes every timer due at `now`, earliest first, and calls
  /// `f(id, entry)` for each (which may add or cancel timers).
  template <class F>
  void fire(time_point now, F&& f) {
    while (!by_time_.empty() && by_time_.begin()->first.first <= now) {
      auto node = by_time_.extract(by_time_.begin());
      auto id = node.key().second;
      index_.erase(id);
      f(id, node.mapped());
    }
  }

  bool empty() const noexcept {
    return by_time_.empty();
  }

  size_t size() const noexcept {
    return by_time_.size();
  }

  void clear() {
    by_time_.clear();
    index_.clear();
  }

private:
  op_id next_ = 1;
  std::map<std::pair<time_point, op_id>, timer_entry> by_time_;
  std::unordered_map<op_id, time_point> index_;
};

} // namespace actio::detail
