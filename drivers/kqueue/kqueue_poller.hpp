#pragma once

/// The kqueue poller (drivers/readiness/poller.hpp; BSD/macOS, on Linux
/// through libkqueue). EVFILT_READ is registered once with EV_CLEAR
/// (edge-triggered); EVFILT_WRITE, also EV_CLEAR, only while a write or a
/// connect waits; its `data` is never used (libkqueue reports bytes queued
/// there, not space free). One EVFILT_TIMER, re-armed to the earliest
/// deadline, serves every timer; EVFILT_USER (NOTE_TRIGGER) is the waker.
/// Every filter is EV_DELETEd before its descriptor is closed (libkqueue
/// cannot notice a close).
///
/// This header does not include <sys/event.h>, so code that only names the
/// backend needs no kqueue include path.

#include <atomic>
#include <chrono>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include "actio/drivers/readiness/poller.hpp"

namespace actio {

class kqueue_poller {
public:
  using clock = std::chrono::steady_clock;

  static constexpr std::string_view name = "kqueue";

  kqueue_poller() = default;
  kqueue_poller(const kqueue_poller&) = delete;
  kqueue_poller& operator=(const kqueue_poller&) = delete;
  ~kqueue_poller();

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
  bool change(int fd, int filter, unsigned flags, socket_id id);

  int kq_ = -1;
  std::atomic<bool> wake_pending_{false};
  std::optional<clock::time_point> deadline_; ///< last one asked for
  bool timer_failed_ = false; ///< re-arming failed: wait() bounds itself
  std::vector<poll_event> events_;
};

} // namespace actio
