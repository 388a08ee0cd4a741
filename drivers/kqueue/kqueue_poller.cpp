#include "actio/drivers/kqueue/kqueue_poller.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include "actio/drivers/errc.hpp"

namespace actio {

namespace {

// The driver's own filters: one EVFILT_USER (the waker) and one
// EVFILT_TIMER (the earliest deadline); socket events carry their socket id
// in `udata` and come from EVFILT_READ / EVFILT_WRITE only.
constexpr uintptr_t wake_ident = 1;
constexpr uintptr_t timer_ident = 1;

// `udata` of the watched descriptor; socket ids never reach this value
// because generations start at 1 and slots at 0.
constexpr uint64_t watch_token = ~uint64_t{0} - 2;

constexpr int max_events = 256;

// kevent's `udata` is `void*` (FreeBSD, macOS, libkqueue) or `intptr_t`
// (older NetBSD); a socket id travels in it whole.
using udata_t = decltype(std::declval<struct kevent>().udata);
static_assert(sizeof(udata_t) >= sizeof(socket_id),
              "kqueue backend: socket ids (64 bits) travel in kevent::udata");

template <class U = udata_t>
U to_udata(uint64_t id) noexcept {
  if constexpr (std::is_pointer_v<U>)
    return reinterpret_cast<U>(static_cast<uintptr_t>(id));
  else
    return static_cast<U>(id);
}

template <class U = udata_t>
uint64_t from_udata(U x) noexcept {
  if constexpr (std::is_pointer_v<U>)
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(x));
  else
    return static_cast<uint64_t>(x);
}

// EVFILT_TIMER in microseconds where the platform has the unit (FreeBSD,
// macOS, libkqueue), else in its default milliseconds.
#ifdef NOTE_USECONDS
constexpr unsigned timer_unit = NOTE_USECONDS;
using timer_tick = std::chrono::microseconds;
#else
constexpr unsigned timer_unit = 0;
using timer_tick = std::chrono::milliseconds;
#endif

// Without a deadline the one EVFILT_TIMER stays registered (deleting and
// adding it again costs a descriptor under libkqueue, which may be exactly
// what is missing: the accept back-off runs under EMFILE) and is parked
// this far out.
constexpr auto parked = std::chrono::hours{1};

} // namespace

kqueue_poller::~kqueue_poller() {
  if (kq_ >= 0)
    ::close(kq_);
}

caf::error kqueue_poller::open() {
  kq_ = ::kqueue();
  if (kq_ < 0)
    return make_errno_error("kqueue", errno);
  ::fcntl(kq_, F_SETFD, FD_CLOEXEC); // (BSD: not inherited anyway)
  struct kevent changes[2];
  EV_SET(&changes[0], wake_ident, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0,
         to_udata(0));
  EV_SET(&changes[1], timer_ident, EVFILT_TIMER, EV_ADD, timer_unit,
         std::chrono::duration_cast<timer_tick>(parked).count(), to_udata(0));
  if (::kevent(kq_, changes, 2, nullptr, 0, nullptr) < 0)
    return make_errno_error("kevent(EVFILT_USER, EVFILT_TIMER)", errno);
  events_.reserve(max_events + 1);
  return caf::none;
}

void kqueue_poller::wake() noexcept {
  // Only the first waker since the loop last saw the trigger triggers.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    struct kevent ev;
    EV_SET(&ev, wake_ident, EVFILT_USER, 0, NOTE_TRIGGER, 0, to_udata(0));
    while (::kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0 && errno == EINTR)
      ; // retry
  }
}

bool kqueue_poller::change(int fd, int filter, unsigned flags, socket_id id) {
  struct kevent ev;
  EV_SET(&ev, static_cast<uintptr_t>(fd), filter, flags, 0, 0, to_udata(id));
  int rc;
  do {
    rc = ::kevent(kq_, &ev, 1, nullptr, 0, nullptr);
  } while (rc < 0 && errno == EINTR);
  return rc == 0;
}

caf::error kqueue_poller::add(int fd, socket_id id) {
  if (!change(fd, EVFILT_READ, EV_ADD | EV_CLEAR, id))
    return make_errno_error("kevent(EV_ADD EVFILT_READ)", errno);
  return caf::none;
}

bool kqueue_poller::want_write(int fd, socket_id id, bool on) {
  // Adding evaluates the filter at once: a socket writable by now reports.
  return change(fd, EVFILT_WRITE, on ? EV_ADD | EV_CLEAR : EV_DELETE, id);
}

void kqueue_poller::remove(int fd, socket_id id, bool write_armed) {
  // EV_DELETE before close: libkqueue cannot see a close, and a knote left
  // behind would be attributed to whatever reuses the descriptor.
  change(fd, EVFILT_READ, EV_DELETE, id);
  if (write_armed)
    change(fd, EVFILT_WRITE, EV_DELETE, id);
}

caf::error kqueue_poller::watch(int fd) {
  // Level-triggered (no EV_CLEAR), as the caller drains at its own pace.
  if (!change(fd, EVFILT_READ, EV_ADD, watch_token))
    return make_errno_error("kevent(EV_ADD EVFILT_READ)", errno);
  return caf::none;
}

void kqueue_poller::unwatch(int fd) {
  change(fd, EVFILT_READ, EV_DELETE, watch_token);
}

void kqueue_poller::arm_timer(std::optional<clock::time_point> deadline) {
  deadline_ = deadline;
  // EV_ADD on the registered timer re-arms it (relative). Never EV_ONESHOT:
  // that would delete the knote, and adding it back may need a descriptor.
  // Rounded up to the unit and at least one tick, so it never fires early
  // by rounding (firing early anyway only re-arms, see the driver's
  // fire_timers) and never gets a zero, which would disarm libkqueue's
  // timerfd. The filter is periodic: the driver re-arms after each firing.
  int64_t ticks;
  if (deadline)
    ticks = std::max<int64_t>(
      std::chrono::ceil<timer_tick>(*deadline - clock::now()).count(), 1);
  else
    ticks = std::chrono::duration_cast<timer_tick>(parked).count();
  struct kevent ev;
  EV_SET(&ev, timer_ident, EVFILT_TIMER, EV_ADD, timer_unit,
         static_cast<intptr_t>(ticks), to_udata(0));
  int rc;
  do {
    rc = ::kevent(kq_, &ev, 1, nullptr, 0, nullptr);
  } while (rc < 0 && errno == EINTR);
  // Should re-arming fail, wait() bounds itself by the deadline.
  timer_failed_ = rc < 0;
}

caf::error kqueue_poller::wait(std::optional<clock::duration> timeout) {
  events_.clear();
  if (timer_failed_ && deadline_) {
    auto until = *deadline_ - clock::now();
    timeout = std::max(clock::duration::zero(),
                       timeout ? std::min(*timeout, until) : until);
  }
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::min<clock::duration>(*timeout, std::chrono::seconds{60}))
                .count();
    ns = std::max<int64_t>(ns, 0);
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  struct kevent native[max_events];
  int n = ::kevent(kq_, nullptr, 0, native, max_events, tsp);
  if (n < 0) {
    if (errno == EINTR)
      return caf::none;
    return make_errno_error("kevent", errno);
  }
  if (timer_failed_) // the deadline may have passed unreported
    events_.push_back({poll_event::source::timer, 0, {}});
  for (int i = 0; i < n; ++i) {
    auto& ev = native[i];
    if (ev.filter == EVFILT_USER) {
      wake_pending_.store(false, std::memory_order_release);
      continue;
    }
    if (ev.filter == EVFILT_TIMER) {
      events_.push_back({poll_event::source::timer, 0, {}});
      continue;
    }
    if (ev.flags & EV_ERROR)
      continue; // (only changes report errors, and we pass none here)
    auto token = from_udata(ev.udata);
    if (token == watch_token) {
      events_.push_back({poll_event::source::watch, 0, {}});
      continue;
    }
    // With EV_EOF, fflags holds the socket error, if any (0: orderly EOF).
    bool eof = (ev.flags & EV_EOF) != 0;
    readiness r;
    r.error = eof ? static_cast<int>(ev.fflags) : 0;
    if (ev.filter == EVFILT_READ) {
      r.readable = true;
      r.read_eof = eof;
    } else if (ev.filter == EVFILT_WRITE) {
      r.writable = true;
      r.write_eof = eof;
    } else {
      continue;
    }
    events_.push_back({poll_event::source::socket, token, r});
  }
  return caf::none;
}

} // namespace actio
