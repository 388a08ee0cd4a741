#pragma once

/// Per-connection timeouts, checked lazily: one driver timer per connection
/// fires every quarter of the shortest timeout and compares the socket's
/// progress counters (`driver::progress`) with the last sample, so traffic
/// costs no timer re-arming and no clock reads. A timeout therefore fires
/// between T and 1.25 T after the last activity (plus scheduling delay).

#include <chrono>
#include <optional>

#include "actio/drivers/driver.hpp"
#include "actio/drivers/errc.hpp"

namespace actio::net {

/// Timeouts of one connection; zero turns one off (the default).
struct connection_timeouts {
  /// No byte read or written for this long: close with `errc::idle_timeout`.
  std::chrono::milliseconds idle{0};
  /// Read credit granted (a read is wanted) and no byte arrives for this
  /// long: close with `errc::read_timeout`.
  std::chrono::milliseconds read{0};
  /// Writes queued and no byte of them reaches the kernel for this long
  /// (the peer does not read): close with `errc::write_timeout`.
  std::chrono::milliseconds write{0};

  bool any() const noexcept {
    return idle.count() > 0 || read.count() > 0 || write.count() > 0;
  }
};

/// The bookkeeping behind `connection_timeouts`: feed it a progress sample
/// per tick; it says which timeout, if any, expired.
class timeout_watch {
public:
  using clock = driver::clock;

  timeout_watch(connection_timeouts t, clock::time_point now);

  /// How long to wait between samples: a quarter of the shortest timeout.
  clock::duration period() const noexcept;

  /// Compares `p` with the last sample; returns the expired timeout.
  std::optional<errc> check(const socket_progress& p, clock::time_point now);

private:
  connection_timeouts t_;
  socket_progress last_;
  clock::time_point active_;     // last read or write progress seen
  clock::time_point read_wait_;  // since when a read is wanted, unserved
  clock::time_point write_wait_; // since when writes wait, unserved
  bool read_waited_ = false;     // at the last sample
  bool write_waited_ = false;
};

} // namespace actio::net
