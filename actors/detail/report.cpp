#include "actio/actors/detail/report.hpp"

#include "actio/drivers/log.hpp"

namespace actio::detail {

void report_failure(std::string_view key, const std::string& text,
                    std::string_view peer) {
  log::warn_limited(key, {"actio", peer}, "{}", text);
}

} // namespace actio::detail
