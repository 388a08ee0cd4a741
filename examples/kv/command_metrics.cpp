#include "command_metrics.hpp"

#include <string>

namespace kv {

namespace {

// Index of `name` in `command_metrics::names`; the last ("other") if none.
size_t index_of(std::string_view name) noexcept {
  constexpr auto& names = command_metrics::names;
  constexpr size_t other = names.size() - 1;
  if (name.size() > 7) // longer than any known name
    return other;
  char low[8];
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    low[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
  }
  std::string_view key{low, name.size()};
  for (size_t i = 0; i < other; ++i)
    if (names[i] == key)
      return i;
  return other;
}

} // namespace

command_metrics::command_metrics(actio::metrics::registry& reg) {
  for (size_t i = 0; i < names.size(); ++i)
    counters_[i] = &reg.counter("actio_kv_commands_total",
                                "Commands run, by name (unknown ones as \"other\"; "
                                "QUIT and protocol errors not counted)",
                                {{"command", std::string{names[i]}}});
}

void command_metrics::count(const command& cmd) const noexcept {
  counters_[index_of(cmd.empty() ? std::string_view{} : std::string_view{cmd[0]})]->add();
}

std::string_view command_metrics::label_of(std::string_view name) noexcept {
  return names[index_of(name)];
}

} // namespace kv
