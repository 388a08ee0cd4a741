#include "actio/drivers/log_limiter.hpp"

#include <algorithm>
#include <utility>

namespace actio {

std::string log_limiter::verdict::note() const {
  if (suppressed == 0)
    return {};
  return " (" + std::to_string(suppressed) + " similar message"
         + (suppressed == 1 ? "" : "s") + " suppressed)";
}

log_limiter::log_limiter(size_t burst, clock::duration interval, clock_fn now)
  : burst_(std::max<size_t>(burst, 1)),
    interval_(interval),
    now_(std::move(now)) {
}

log_limiter::verdict log_limiter::admit(std::string_view key) {
  auto now = now_();
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = windows_.find(key);
  if (i == windows_.end())
    i = windows_.emplace(std::string{key}, window{now}).first;
  auto& w = i->second;
  if (now - w.start >= interval_) {
    // A new window; what the last one dropped is still to be reported.
    w.start = now;
    w.printed = 0;
  }
  if (w.printed >= burst_) {
    ++w.suppressed;
    return {};
  }
  ++w.printed;
  return {true, std::exchange(w.suppressed, 0)};
}

log_limiter& warnings() {
  static log_limiter instance;
  return instance;
}

} // namespace actio
