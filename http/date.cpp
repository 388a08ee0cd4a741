#include "actio/http/date.hpp"

#include <time.h>

namespace actio::http {

std::string format_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

const std::string& current_date() {
  thread_local std::time_t last = 0;
  thread_local std::string text;
  auto now = std::time(nullptr);
  if (now != last || text.empty()) {
    last = now;
    text = format_date(now);
  }
  return text;
}

std::optional<std::time_t> parse_date(std::string_view text) {
  std::string s{text};
  std::tm tm{};
  // strptime's %a/%b are locale-dependent; the C locale (the default of a
  // program that never calls setlocale) gives the English names.
  auto* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  return timegm(&tm);
}

} // namespace actio::http
