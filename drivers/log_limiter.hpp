#pragma once

/// Rate limit for repeated warnings: at most `burst` lines per `interval`
/// for each key; the lines beyond are counted, and the next line that passes
/// says how many were dropped.
///
/// Whatever can warn once per datagram, connection or request goes through
/// one: a flood must not turn stderr into the bottleneck and bury every
/// other line (actio-udp-echo once wrote 71,000 "truncated" lines in 7 s).
/// A key names the *kind* of message ("udp-echo truncated"), never its
/// variable part such as a peer address: the table holds one entry per key
/// and is never pruned, so keys must come from a small fixed set.
///
/// Use:
///
///     if (auto v = actio::warnings().admit("udp-echo truncated"))
///       ... write the line, ending with v.note() ...
///
/// `actio::log::warn_limited` (actio/drivers/log.hpp) does this for log lines.
///
/// Thread-safe. Suppressed lines are reported only when a later line of the
/// same key passes (there is no timer: a limiter that owned one would need
/// a thread or an actor of its own).

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace actio {

class log_limiter {
public:
  using clock = std::chrono::steady_clock;
  /// Where the limiter reads the time (tests inject their own).
  using clock_fn = std::function<clock::time_point()>;

  /// The answer for one line.
  struct verdict {
    /// Print this line.
    bool print = false;
    /// Lines of this key dropped since the last printed one (set only when
    /// `print`: the count to report with this line).
    size_t suppressed = 0;

    explicit operator bool() const noexcept {
      return print;
    }

    /// " (N similar messages suppressed)" when `suppressed > 0`, else "".
    std::string note() const;
  };

  /// Default: the kernel's printk rate limit, 10 lines per 5 s and key.
  static constexpr size_t default_burst = 10;
  static constexpr clock::duration default_interval = std::chrono::seconds{5};

  /// At most `burst` (at least 1) lines per `interval` and key, timed by `now`.
  explicit log_limiter(size_t burst = default_burst,
                       clock::duration interval = default_interval,
                       clock_fn now = &clock::now);

  log_limiter(const log_limiter&) = delete;
  log_limiter& operator=(const log_limiter&) = delete;

  /// Whether a line of kind `key` may be printed now (and counts it).
  verdict admit(std::string_view key);

private:
  struct window {
    clock::time_point start;
    size_t printed = 0;
    size_t suppressed = 0;
  };

  const size_t burst_;
  const clock::duration interval_;
  const clock_fn now_;
  std::mutex mtx_;
  std::map<std::string, window, std::less<>> windows_;
};

/// The process-wide limiter (default limits) for warnings that may repeat.
log_limiter& warnings();

} // namespace actio
