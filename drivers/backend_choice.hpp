#pragma once

/// `auto_choice_reason` as `make_driver` sees it for one actor system: with
/// its `actio.io.uring-probe` (drivers/select.cpp).

#include <string>

#include <caf/fwd.hpp>

namespace actio {

/// One line on every backend, as `auto_choice_reason()`, but with the
/// probes `make_driver(..., sys)` uses for `sys.config()` == `cfg`.
std::string auto_choice_reason(const caf::actor_system_config& cfg);

} // namespace actio
