#pragma once

/// A response handler that takes any response as a `caf::message` (CAF
/// 0.17's `then` wants typed handlers): for actors that pass responses on.

#include <functional>

#include <caf/behavior.hpp>

namespace actio::detail {

caf::behavior any_response(std::function<void(caf::message&)> fn);

} // namespace actio::detail
