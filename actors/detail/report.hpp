#pragma once

/// The one place where actors report a failure (a connection actor that
/// threw, a supervised child that crashed): an error line from the
/// component "actio" through the log (drivers/log.hpp), rate-limited per
/// `key` by the repeated-warning limit. `key` names the kind of failure from
/// a small fixed set, never a peer; `peer` (if any) goes into the line.

#include <string>
#include <string_view>

namespace actio::detail {

void report_failure(std::string_view key, const std::string& text,
                    std::string_view peer = {});

} // namespace actio::detail
