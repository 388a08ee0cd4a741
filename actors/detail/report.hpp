#pragma once

/// The one place where actors report a failure (a connection actor that
/// threw, a supervised child that crashed): a line "actio: TEXT" on stderr,
/// rate-limited per `key` through `warnings()` (actors/log_limiter.hpp).
/// `key` names the kind of failure from a small fixed set, never a peer.
/// Kept to this one function so it can move to a logging facade.

#include <string>
#include <string_view>

namespace actio::detail {

void report_failure(std::string_view key, const std::string& text);

} // namespace actio::detail
