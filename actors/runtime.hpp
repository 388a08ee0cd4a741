#pragma once

/// The Actio runtime: the driver threads of one actor system.
///
/// ```
/// actio::config cfg;                       // adds --actio.io.* options
/// cfg.parse(argc, argv);
/// caf::actor_system sys{cfg};
/// auto rt = actio::runtime::start(sys);    // error: unknown/unavailable backend
/// ... (*rt)->next_unit() to place pinned actors ...
/// (*rt)->shutdown();                       // or let it go out of scope
/// ```
///
/// Shutdown is explicit and orderly: every pinned actor is told to exit and
/// completes its pending requests (with `errc::cancelled` where they did not
/// run), the loops keep running until all pinned actors are gone, then the
/// driver threads end. Destroy the runtime before the actor system.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actio/actors/driver_unit.hpp"

namespace actio {

class runtime {
public:
  /// Reads `actio.io.*` from the system's config and starts the drivers.
  static caf::expected<std::unique_ptr<runtime>> start(caf::actor_system& sys);

  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Stops every driver (see above). Idempotent.
  void shutdown();

  /// The backend in use ("epoll", ...).
  const std::string& backend_name() const noexcept {
    return backend_;
  }

  /// Why this backend: "asked for" or what `auto` found.
  const std::string& backend_reason() const noexcept {
    return reason_;
  }

  size_t drivers() const noexcept {
    return units_.size();
  }

  driver_unit& unit(size_t i) noexcept {
    return *units_[i];
  }

  /// Round-robin choice of a driver, for spreading connections.
  driver_unit& next_unit() noexcept;

  caf::actor_system& system() noexcept {
    return sys_;
  }

private:
  explicit runtime(caf::actor_system& sys);

  caf::actor_system& sys_;
  std::string backend_;
  std::string reason_;
  std::vector<std::unique_ptr<driver_unit>> units_;
  std::atomic<size_t> next_{0};
  bool stopped_ = false;
};

} // namespace actio
