#pragma once
// `actio_kv_commands_total{command}`: the commands run, by name, for
// `--metrics-port` (command_metrics.cpp). The label set is bounded: the
// commands actio-kv knows (README.md) by their lower-case name, anything
// else as "other", so a client sending made-up names cannot grow the
// registry.

#include <array>
#include <cstddef>
#include <string_view>

#include "actio/actors/metrics.hpp"

#include "resp_codec.hpp"

namespace kv {

class command_metrics {
public:
  /// The names counted under their own label (the last is "other").
  static constexpr std::array<std::string_view, 22> names{
    "get",   "set",    "ping",    "echo",   "del",  "exists", "incr", "decr",
    "incrby", "decrby", "mget",   "mset",   "expire", "pexpire", "ttl", "pttl",
    "keys",  "scan",   "dbsize",  "info",   "config", "other"};

  /// Makes the series in `reg` (once, at start-up).
  explicit command_metrics(actio::metrics::registry& reg);

  /// Counts `cmd` (any thread: one relaxed add).
  void count(const command& cmd) const noexcept;

  /// The label of a command name ("other" if unknown); case-insensitive.
  static std::string_view label_of(std::string_view name) noexcept;

private:
  std::array<actio::metrics::counter*, names.size()> counters_{};
};

} // namespace kv
