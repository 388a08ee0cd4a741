#include "actio/actors/cli/values.hpp"

#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace actio::cli {

std::optional<long long> parse_integer(std::string_view text, long long lo,
                                       long long hi) {
  std::string s{text}; // strtoll needs the terminating NUL
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0])))
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return std::nullopt;
  return v;
}

std::optional<double> parse_number(std::string_view text, double lo,
                                   double hi) {
  std::string s{text};
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0])))
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
    return std::nullopt;
  return v;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (auto v = parse_integer(text, 0, 65535))
    return static_cast<uint16_t>(*v);
  return std::nullopt;
}

std::string integer_range(long long lo, long long hi) {
  return "an integer (" + std::to_string(lo) + "-" + std::to_string(hi) + ")";
}

std::string number_range(double lo, double hi, std::string_view unit) {
  std::ostringstream out;
  out << "a number ";
  if (!unit.empty())
    out << "of " << unit << ' ';
  out << '(' << lo << '-' << hi << ')';
  return out.str();
}

} // namespace actio::cli
