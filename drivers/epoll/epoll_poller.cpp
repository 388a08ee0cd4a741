#include "actio/drivers/epoll/epoll_poller.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "actio/drivers/errc.hpp"

namespace actio {

namespace {

// Tokens of the driver's own descriptors; socket ids never reach these
// values because generations start at 1 and slots at 0.
constexpr uint64_t wake_token = ~uint64_t{0};
constexpr uint64_t timer_token = ~uint64_t{0} - 1;
constexpr uint64_t watch_token = ~uint64_t{0} - 2;

constexpr int max_events = 256;

// Sockets: edge-triggered read interest, EPOLLOUT only while asked for.
constexpr uint32_t socket_events = EPOLLIN | EPOLLRDHUP | EPOLLET;

} // namespace

epoll_poller::~epoll_poller() {
  for (int fd : {tfd_, evfd_, epfd_})
    if (fd >= 0)
      ::close(fd);
}

caf::error epoll_poller::open() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0)
    return make_errno_error("epoll_create1", errno);
  evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (evfd_ < 0)
    return make_errno_error("eventfd", errno);
  tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd_ < 0)
    return make_errno_error("timerfd_create", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_token;
  int rc1 = epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
  ev.data.u64 = timer_token;
  int rc2 = epoll_ctl(epfd_, EPOLL_CTL_ADD, tfd_, &ev);
  if (rc1 < 0 || rc2 < 0)
    return make_errno_error("epoll_ctl", errno);
  events_.reserve(max_events);
  return caf::none;
}

void epoll_poller::wake() noexcept {
  // Only the first waker since the loop last drained the eventfd writes to it.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    while (::write(evfd_, &one, sizeof(one)) < 0 && errno == EINTR)
      ; // retry
  }
}

caf::error epoll_poller::add(int fd, socket_id id) {
  epoll_event ev{};
  ev.events = socket_events;
  ev.data.u64 = id;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0)
    return make_errno_error("epoll_ctl(ADD)", errno);
  return caf::none;
}

bool epoll_poller::want_write(int fd, socket_id id, bool on) {
  epoll_event ev{};
  ev.events = socket_events | (on ? EPOLLOUT : 0u);
  ev.data.u64 = id;
  return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void epoll_poller::remove(int fd, socket_id, bool) {
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

caf::error epoll_poller::watch(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = watch_token;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0)
    return make_errno_error("epoll_ctl", errno);
  return caf::none;
}

void epoll_poller::unwatch(int fd) {
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

void epoll_poller::arm_timer(std::optional<clock::time_point> deadline) {
  itimerspec spec{};
  if (deadline) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                deadline->time_since_epoch())
                .count();
    // An absolute time of zero would disarm the timer: use at least 1 ns.
    ns = std::max<int64_t>(ns, 1);
    spec.it_value.tv_sec = ns / 1'000'000'000;
    spec.it_value.tv_nsec = ns % 1'000'000'000;
  }
  timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

caf::error epoll_poller::wait(std::optional<clock::duration> timeout) {
  events_.clear();
  int ms = -1;
  if (timeout) {
    // Round up, so a sub-millisecond wait does not become a busy zero timeout.
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(*timeout);
    ms = static_cast<int>(std::min<int64_t>((us.count() + 999) / 1000, 60'000));
  }
  epoll_event native[max_events];
  int n = epoll_wait(epfd_, native, max_events, ms);
  if (n < 0) {
    if (errno == EINTR)
      return caf::none;
    return make_errno_error("epoll_wait", errno);
  }
  for (int i = 0; i < n; ++i) {
    auto token = native[i].data.u64;
    auto flags = native[i].events;
    if (token == wake_token) {
      uint64_t value;
      while (::read(evfd_, &value, sizeof(value)) > 0)
        ; // drain
      wake_pending_.store(false, std::memory_order_release);
      continue;
    }
    if (token == timer_token) {
      uint64_t expirations;
      while (::read(tfd_, &expirations, sizeof(expirations)) > 0)
        ; // drain
      events_.push_back({poll_event::source::timer, 0, {}});
      continue;
    }
    if (token == watch_token) {
      events_.push_back({poll_event::source::watch, 0, {}});
      continue;
    }
    readiness r;
    r.readable = (flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    r.read_eof = (flags & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    r.writable = (flags & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
    r.write_eof = (flags & (EPOLLHUP | EPOLLERR)) != 0;
    events_.push_back({poll_event::source::socket, token, r});
  }
  return caf::none;
}

} // namespace actio
