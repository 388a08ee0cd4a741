#pragma once

// A session's read credit as backpressure: the bytes of requests read but
// not yet served, plus the read credit granted, stay within one window. So
// a client that sends faster than its requests are served (a paste, a
// client over --rate) is not read from until they are -- its bytes wait in
// the kernel's buffers, then in the client's -- and is never disconnected
// for it; the session's memory for it stays bounded by the window.

#include <algorithm>
#include <cstddef>

namespace chat {

class read_credit {
public:
  explicit read_credit(size_t window) : window_(window) {
  }

  /// `n` bytes arrived (they used up that much credit).
  void received(size_t n) {
    granted_ -= std::min(granted_, n);
  }

  /// Bytes of requests that now wait to be served.
  void hold(size_t n) {
    held_ += n;
  }

  /// Bytes of requests that were served.
  void release(size_t n) {
    held_ -= std::min(held_, n);
  }

  /// The credit to grant now (0: none); counted as granted. Small top-ups
  /// wait until a quarter of the window is free (fewer, larger reads),
  /// unless the credit ran out.
  size_t top_up() {
    auto target = held_ < window_ ? window_ - held_ : 0;
    if (target <= granted_)
      return 0;
    auto more = target - granted_;
    if (granted_ > 0 && more < window_ / 4)
      return 0;
    granted_ += more;
    return more;
  }

  size_t held() const noexcept {
    return held_;
  }

private:
  size_t window_;
  size_t granted_ = 0;
  size_t held_ = 0;
};

} // namespace chat
