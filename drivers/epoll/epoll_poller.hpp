#pragma once

/// The epoll poller (drivers/readiness/poller.hpp): one epoll set with
/// sockets edge-triggered (EPOLLET), EPOLLOUT in the interest set only
/// while a write or connect waits; an eventfd as the waker and a timerfd
/// (absolute, CLOCK_MONOTONIC) for the one deadline.

#include <atomic>
#include <chrono>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include "actio/drivers/readiness/poller.hpp"

namespace actio {

class epoll_poller {
public:
  using clock = std::chrono::steady_clock;

  static constexpr std::string_view name = "epoll";

  epoll_poller() = default;
  epoll_poller(const epoll_poller&) = delete;
  epoll_poller& operator=(const epoll_poller&) = delete;
  ~epoll_poller();

  caf::error open();
  void wake() noexcept;
  caf::error add(int fd, socket_id id);
  bool want_write(int fd, socket_id id, bool on);
  void remove(int fd, socket_id id, bool write_armed);
  caf::error watch(int fd);
  void unwatch(int fd);
  void arm_timer(std::optional<clock::time_point> deadline);
  caf::error wait(std::optional<clock::duration> timeout);

  std::span<const poll_event> events() const noexcept {
    return events_;
  }

private:
  int epfd_ = -1;
  int evfd_ = -1;
  int tfd_ = -1;
  std::atomic<bool> wake_pending_{false};
  std::vector<poll_event> events_;
};

} // namespace actio
