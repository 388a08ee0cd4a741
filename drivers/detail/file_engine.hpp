#pragma once

/// A file backend that runs beside a readiness driver's loop rather than
/// inside its kernel object: the blocking pool (`file_pool`, epoll and
/// kqueue) and POSIX AIO (`aio_files`, the aio backend). The readiness
/// driver (drivers/readiness/readiness_driver.hpp) owns one and calls these
/// hooks from its loop, on the driver thread:
///
/// - `process()` in every `driver::process()`: deliver what finished;
/// - `notify_fd()`, if not -1, is watched for readability in the driver's
///   poller, and `notified()` runs when it is readable (the AIO engine's
///   signalfd or kqueue);
/// - `max_sleep()` caps every `driver::poll()` timeout;
/// - `shutdown()` in `driver::close_all()` and before the driver goes:
///   complete every request (cancelled where it cannot finish), the engine
///   stays usable.
///
/// An engine gets the driver's waker when it is made (`file_engine_factory`):
/// helper threads call it to have the loop run `process()` soon.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <caf/expected.hpp>

#include "actio/drivers/file_backend.hpp"

namespace actio {

class file_engine : public file_backend {
public:
  /// Delivers finished requests. True if completions are still waiting (the
  /// loop must not block).
  virtual bool process() = 0;

  /// Descriptor to watch for readability, or -1.
  virtual int notify_fd() const noexcept {
    return -1;
  }

  /// `notify_fd()` was readable.
  virtual void notified() {
  }

  /// Longest the loop may sleep (nullopt: no limit).
  virtual std::optional<std::chrono::milliseconds> max_sleep() const noexcept {
    return std::nullopt;
  }

  /// Completes everything (see above); idempotent.
  virtual void shutdown() = 0;
};

/// Makes a driver's file engine, given the driver's waker (callable from
/// any thread).
using file_engine_factory
  = std::function<caf::expected<std::unique_ptr<file_engine>>(
    std::function<void()> wake)>;

} // namespace actio
