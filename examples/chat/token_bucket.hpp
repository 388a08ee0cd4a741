#pragma once

// A token bucket: `rate` tokens a second, at most `burst` saved up.

#include <algorithm>
#include <chrono>

namespace chat {

class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  token_bucket(double rate, double burst)
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_),
      last_(clock::now()) {
  }

  /// Takes one token; false when the bucket is empty (rate <= 0: unlimited).
  bool take() {
    if (rate_ <= 0)
      return true;
    refill();
    if (tokens_ < 1)
      return false;
    tokens_ -= 1;
    return true;
  }

  /// How long until `take` succeeds (zero when it would now).
  clock::duration wait() {
    if (rate_ <= 0)
      return clock::duration::zero();
    refill();
    if (tokens_ >= 1)
      return clock::duration::zero();
    auto secs = (1 - tokens_) / rate_;
    return std::chrono::duration_cast<clock::duration>(
             std::chrono::duration<double>(secs))
           + clock::duration{1}; // rounding down would wake up too early
  }

private:
  void refill() {
    auto now = clock::now();
    std::chrono::duration<double> dt = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + dt.count() * rate_);
  }

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

} // namespace chat
