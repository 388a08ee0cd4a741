#include "actio/actors/detail/report.hpp"

#include <iostream>

#include "actio/actors/log_limiter.hpp"

namespace actio::detail {

void report_failure(std::string_view key, const std::string& text) {
  if (auto v = warnings().admit(key))
    std::cerr << "actio: " << text << v.note() << '\n';
}

} // namespace actio::detail
