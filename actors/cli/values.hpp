#pragma once

/// Option values for programs with their own option parser: whole-string
/// parsing (no trailing junk, no silent wrap-around) and the "expected"
/// text for `tool::bad_value`, so every tool words a bad value alike:
///
///     if (auto n = cli::parse_integer(v, 1, 4096)) depth = *n;
///     else return tool.bad_value("--depth", v, cli::integer_range(1, 4096));

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actio::cli {

/// A decimal integer in [lo, hi], or nothing.
std::optional<long long> parse_integer(std::string_view text, long long lo,
                                       long long hi);

/// A finite decimal number in [lo, hi], or nothing.
std::optional<double> parse_number(std::string_view text, double lo,
                                   double hi);

/// A port number (0-65535), or nothing.
std::optional<uint16_t> parse_port(std::string_view text);

/// "an integer (LO-HI)"
std::string integer_range(long long lo, long long hi);

/// "a number (LO-HI)", or with a unit "a number of UNIT (LO-HI)"
std::string number_range(double lo, double hi, std::string_view unit = {});

/// "a port number (0-65535)"
inline constexpr std::string_view port_expected = "a port number (0-65535)";

} // namespace actio::cli
