#pragma once

/// The backend selector (drivers/select.cpp): which backends this build has
/// and this machine runs, and the driver for a backend's name. Every
/// `#ifdef` on backends lives in select.cpp, so code that only needs a
/// driver includes driver.hpp and never a backend's header.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actio/drivers/driver.hpp"

namespace actio {

/// Creates a backend by name ("epoll", ...; "auto" picks the best available).
/// Asking for a backend this build or machine lacks is an
/// `errc::backend_unavailable` error with the reason.
caf::expected<std::unique_ptr<driver>>
make_driver(std::string_view backend, caf::actor_system& sys);

/// The backends this build offers and this machine supports, best first.
std::vector<std::string> available_backends();

/// Prepares the process for backends that need it before any thread runs:
/// blocks the aio backend's completion signal in the calling thread, so the
/// threads it starts afterwards inherit that (see drivers/aio/aio_signal.hpp).
/// `actio::config`'s constructor calls it. No-op without such backends.
void prepare_backend_signals() noexcept;

/// One line on every backend: built, available, or why not ("uring:
/// available; epoll: available"), for logging `auto`'s choice.
std::string auto_choice_reason();

/// The same line with the probes `make_driver(..., sys)` uses for
/// `sys.config()` == `cfg` (its `actio.io.uring-probe`).
std::string auto_choice_reason(const caf::actor_system_config& cfg);

} // namespace actio
