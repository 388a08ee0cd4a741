#pragma once

/// Actio's log: leveled, timestamped lines naming the component and, where
/// there is one, the connection or peer. The library writes its diagnostics
/// here and never to `std::cerr`; programs may use it for theirs.
///
///     actio::log::warn("driver", "{} pinned actors did not exit", n);
///     actio::log::info({"listener", "127.0.0.1:7000"}, "accepts again");
///     actio::log::warn_limited("udp-echo truncated", {"udp-echo", peer},
///                              "datagram truncated to {} bytes", size);
///
/// Each `{}` in the pattern is replaced by the next argument (strings as
/// they are, types with an ADL `to_string` by it, others by `operator<<`);
/// there are no format specifications.
///
/// Output, one line per record (timestamps in UTC, microseconds):
///
///     text: 2026-12-06T01:07:25.123456Z warn udp-echo peer=127.0.0.1:5555: datagram truncated to 16 bytes
///     json: {"ts":"2026-12-06T01:07:25.123456Z","level":"warn","component":"udp-echo","peer":"127.0.0.1:5555","msg":"datagram truncated to 16 bytes"}
///
/// By default lines at `info` and above go to stderr as text. When stderr is
/// connected to journald (`JOURNAL_STREAM` names it), each line starts with
/// its syslog priority (`<4>` for warn), which journald takes as the level.
/// `configure` (or the `actio.log.*` options of `actio::config`) changes
/// level, destination and format, at any time, also before a runtime starts.
///
/// Thread-safe. Written with spdlog; its headers stay out of this one.

#include <concepts>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace actio::log {

/// Severity, lowest first; `off` as a threshold silences everything.
enum class level : int { trace, debug, info, warn, error, off };

/// The line format: human-readable text, or one JSON object per line.
enum class format { text, json };

/// "trace", "debug", "info", "warn", "error", "off".
std::string_view to_string(level lv) noexcept;

/// Parses a level name (as `to_string` spells it). @returns false if unknown
bool parse(std::string_view name, level& out) noexcept;

/// Parses "text" or "json". @returns false if unknown
bool parse(std::string_view name, format& out) noexcept;

/// Where and what to log.
struct settings {
  /// Lines below this level are dropped.
  level threshold = level::info;
  /// Appended to when set (created if missing, with its directories);
  /// stderr when empty.
  std::string file;
  format style = format::text;
};

/// Replaces the current settings. On error (the file cannot be opened)
/// nothing changes. @returns an error text, empty on success
std::string configure(const settings& s);

/// The settings in effect.
settings current();

/// Whether a line at `lv` would be written.
bool enabled(level lv) noexcept;

/// Who writes a line: the component ("driver", "listener", "udp-echo") and
/// optionally the connection or peer (an address, a node name).
struct origin {
  std::string_view component;
  std::string_view peer;

  origin(const char* c) : component(c) {}
  origin(std::string_view c) : component(c) {}
  origin(const std::string& c) : component(c) {}
  origin(std::string_view c, std::string_view p) : component(c), peer(p) {}
};

namespace detail {

template <class T>
std::string to_text(const T& x) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string{std::string_view{x}};
  } else if constexpr (requires {
                         { to_string(x) } -> std::convertible_to<std::string>;
                       }) {
    return to_string(x);
  } else {
    std::ostringstream out;
    out << x;
    return out.str();
  }
}

/// `pattern` with its `{}` replaced by `args[0..n)` in order.
std::string substitute(std::string_view pattern, const std::string* args,
                       size_t n);

/// Writes one record (no level check).
void write(level lv, const origin& from, std::string_view message);

/// Writes one record if the process-wide limiter admits `kind`, with the
/// count of suppressed ones appended.
void write_limited(std::string_view kind, level lv, const origin& from,
                   std::string message);

template <class... Ts>
std::string render(std::string_view pattern, const Ts&... xs) {
  if constexpr (sizeof...(Ts) == 0) {
    return std::string{pattern};
  } else {
    const std::string args[] = {to_text(xs)...};
    return substitute(pattern, args, sizeof...(Ts));
  }
}

} // namespace detail

/// Writes a line at `lv` (the arguments are formatted only if it is enabled).
template <class... Ts>
void emit(level lv, const origin& from, std::string_view pattern,
          const Ts&... xs) {
  if (enabled(lv))
    detail::write(lv, from, detail::render(pattern, xs...));
}

template <class... Ts>
void trace(const origin& from, std::string_view pattern, const Ts&... xs) {
  emit(level::trace, from, pattern, xs...);
}

template <class... Ts>
void debug(const origin& from, std::string_view pattern, const Ts&... xs) {
  emit(level::debug, from, pattern, xs...);
}

template <class... Ts>
void info(const origin& from, std::string_view pattern, const Ts&... xs) {
  emit(level::info, from, pattern, xs...);
}

template <class... Ts>
void warn(const origin& from, std::string_view pattern, const Ts&... xs) {
  emit(level::warn, from, pattern, xs...);
}

template <class... Ts>
void error(const origin& from, std::string_view pattern, const Ts&... xs) {
  emit(level::error, from, pattern, xs...);
}

/// A warning that can repeat (once per datagram, connection, request):
/// rate-limited by `actio::warnings()` (actio/drivers/log_limiter.hpp) under
/// `kind`, a fixed name of the message's kind ("udp-echo truncated"), never
/// a variable part such as a peer. A line that passes after suppressed ones
/// ends with " (N similar messages suppressed)".
template <class... Ts>
void warn_limited(std::string_view kind, const origin& from,
                  std::string_view pattern, const Ts&... xs) {
  if (enabled(level::warn))
    detail::write_limited(kind, level::warn, from,
                          detail::render(pattern, xs...));
}

} // namespace actio::log
