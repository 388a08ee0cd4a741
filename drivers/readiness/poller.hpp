#pragma once

/// What a readiness poller provides to `readiness_driver` (mio's
/// `sys/unix/selector/*.rs`, as one screen): the kernel object that says
/// *when* a socket can be read or written, and nothing of *what* to do then.
///
/// The driver core (drivers/readiness/readiness_driver.hpp) owns sockets,
/// write queues, credit, watermarks, accept back-off and the timer table;
/// a poller only registers interest, waits, wakes and keeps one deadline.
/// Implementations: `epoll_poller` (epoll + eventfd + timerfd) and
/// `kqueue_poller` (EVFILT_READ/WRITE + EVFILT_USER + EVFILT_TIMER).
///
/// Rules every poller keeps:
/// - socket interest is edge-triggered (EPOLLET, EV_CLEAR): an event means
///   "something changed", and the core reads or writes until EAGAIN;
/// - write interest is armed only while a write or a connect waits;
/// - `remove` runs before the descriptor is closed (libkqueue cannot see
///   a close);
/// - `wait` reports the driver's own wake-ups by clearing them, never as
///   events; everything else comes back as `poll_event`s, in kernel order.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <caf/error.hpp>

#include "actio/drivers/types.hpp"

namespace actio {

/// What one kernel event says about a socket, in the core's terms.
struct readiness {
  bool readable = false;  ///< data, EOF or an error to read
  bool writable = false;  ///< send-buffer space, a finished connect, or an error
  bool read_eof = false;  ///< with `readable`: the peer hung up (read on to EOF)
  bool write_eof = false; ///< with `writable`: the write side failed
  int error = 0;          ///< a socket error the poller consumed to report this
                          ///< event (libkqueue reads SO_ERROR into fflags)
};

/// One entry of a `wait` result.
struct poll_event {
  enum class source : uint8_t {
    socket, ///< `id` and `state` say which socket and what happened
    timer,  ///< the deadline passed (or may have: the core checks the clock)
    watch,  ///< the watched descriptor is readable (`readiness_driver::watch`)
  };
  source what = source::socket;
  socket_id id = 0;
  readiness state;
};

/// A readiness poller. Everything runs on the driver thread except `wake`.
template <class P>
concept readiness_poller = requires(P p, const P cp, int fd, socket_id id,
                                    bool on,
                                    std::optional<std::chrono::steady_clock::time_point> at,
                                    std::optional<std::chrono::steady_clock::duration> timeout) {
  /// The backend's name ("epoll"), as `driver::name` returns it.
  { P::name } -> std::convertible_to<std::string_view>;
  /// Creates the kernel objects; the poller is unusable until this succeeds.
  { p.open() } -> std::same_as<caf::error>;
  /// Any thread: makes a blocked `wait` return soon; cheap when pending.
  { p.wake() } noexcept;
  /// Registers read interest in socket `fd`, reported with `id`.
  { p.add(fd, id) } -> std::same_as<caf::error>;
  /// Arms (`on`) or disarms write interest; false if the kernel refused.
  { p.want_write(fd, id, on) } -> std::same_as<bool>;
  /// Forgets `fd` before it is closed (`on`: write interest is armed).
  { p.remove(fd, id, on) };
  /// Level-triggered read interest in a foreign descriptor (one at a time),
  /// reported as `source::watch`; `unwatch` before that descriptor closes.
  { p.watch(fd) } -> std::same_as<caf::error>;
  { p.unwatch(fd) };
  /// Sets the one deadline (nullopt: none); reported as `source::timer`.
  { p.arm_timer(at) };
  /// Waits at most `timeout` (nullopt: no limit) for events.
  { p.wait(timeout) } -> std::same_as<caf::error>;
  /// What the last `wait` found.
  { cp.events() } -> std::same_as<std::span<const poll_event>>;
};

} // namespace actio
