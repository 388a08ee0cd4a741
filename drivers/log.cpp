// actio::log on spdlog: spdlog owns the outputs (stderr, an appended file),
// their locking and flushing, and the timestamp; the facade builds the rest
// of the line (level, component, peer, message) in the chosen format.

#include "actio/drivers/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <utility>

#include <sys/stat.h>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "actio/drivers/log_limiter.hpp"

namespace actio::log {

namespace {

constexpr std::string_view names[] = {"trace", "debug", "info",
                                      "warn",  "error", "off"};

spdlog::level::level_enum to_spdlog(level lv) {
  switch (lv) {
    case level::trace:
      return spdlog::level::trace;
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
    case level::off:
      break;
  }
  return spdlog::level::off;
}

// "<N>": the syslog priority journald reads from the start of a line.
class priority_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    int prio = 7; // debug (and trace)
    switch (msg.level) {
      case spdlog::level::info:
        prio = 6;
        break;
      case spdlog::level::warn:
        prio = 4;
        break;
      case spdlog::level::err:
        prio = 3;
        break;
      case spdlog::level::critical:
        prio = 2;
        break;
      default:
        break;
    }
    const char text[] = {'<', static_cast<char>('0' + prio), '>'};
    dest.append(text, text + sizeof(text));
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<priority_flag>();
  }
};

// Whether fd 2 is the stream journald gave this process: JOURNAL_STREAM is
// "DEVICE:INODE" of it (systemd.exec(5)); a child whose stderr was
// redirected inherits the variable but not the stream.
bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (env == nullptr || fstat(2, &st) != 0)
    return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2)
    return false;
  return dev == st.st_dev && ino == st.st_ino;
}

struct state {
  std::mutex mtx;
  settings now;
  std::shared_ptr<spdlog::logger> out;
  std::atomic<int> threshold{static_cast<int>(level::info)};
};

std::shared_ptr<spdlog::logger> make_logger(const settings& s) {
  spdlog::sink_ptr sink;
  bool journal = false;
  if (s.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    journal = stderr_is_journal();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(s.file, false);
  }
  std::string pattern = journal ? "%*" : "";
  pattern += s.style == format::json ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ",%v})"
                                     : "%Y-%m-%dT%H:%M:%S.%fZ %v";
  auto fmt = std::make_unique<spdlog::pattern_formatter>(
    spdlog::pattern_time_type::utc);
  fmt->add_flag<priority_flag>('*').set_pattern(std::move(pattern));
  sink->set_formatter(std::move(fmt));
  auto logger = std::make_shared<spdlog::logger>("actio", std::move(sink));
  logger->set_level(spdlog::level::trace); // the facade filters
  logger->flush_on(spdlog::level::trace);  // whole lines, at once
  return logger;
}

state& global() {
  static state* s = [] {
    auto* st = new state; // never destroyed: lines may come at exit
    st->out = make_logger(st->now);
    return st;
  }();
  return *s;
}

// Text: control characters as \n, \t, \xNN so a record stays one line.
void append_text(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
      continue;
    }
    static constexpr char hex[] = "0123456789abcdef";
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
  }
}

// A JSON string's contents (RFC 8259 escapes; other bytes as they are).
void append_json(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

void append_field(std::string& out, std::string_view key,
                  std::string_view value) {
  out.append(",\"").append(key).append("\":\"");
  append_json(out, value);
  out += '"';
}

} // namespace

std::string_view to_string(level lv) noexcept {
  auto i = static_cast<size_t>(lv);
  return i < std::size(names) ? names[i] : "?";
}

bool parse(std::string_view name, level& out) noexcept {
  for (size_t i = 0; i < std::size(names); ++i)
    if (names[i] == name) {
      out = static_cast<level>(i);
      return true;
    }
  return false;
}

bool parse(std::string_view name, format& out) noexcept {
  if (name == "text")
    out = format::text;
  else if (name == "json")
    out = format::json;
  else
    return false;
  return true;
}

std::string configure(const settings& s) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    logger = make_logger(s);
  } catch (const std::exception& e) {
    return "cannot open log file '" + s.file + "': " + e.what();
  }
  auto& g = global();
  std::lock_guard<std::mutex> guard{g.mtx};
  g.now = s;
  g.out = std::move(logger);
  g.threshold.store(static_cast<int>(s.threshold), std::memory_order_relaxed);
  return {};
}

settings current() {
  auto& g = global();
  std::lock_guard<std::mutex> guard{g.mtx};
  return g.now;
}

bool enabled(level lv) noexcept {
  return lv != level::off
         && static_cast<int>(lv)
              >= global().threshold.load(std::memory_order_relaxed);
}

namespace detail {

std::string substitute(std::string_view pattern, const std::string* args,
                       size_t n) {
  std::string out;
  out.reserve(pattern.size() + 16 * n);
  size_t next = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 1 < pattern.size() && pattern[i + 1] == '}'
        && next < n) {
      out += args[next++];
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

void write(level lv, const origin& from, std::string_view message) {
  auto& g = global();
  std::shared_ptr<spdlog::logger> logger;
  format style;
  {
    std::lock_guard<std::mutex> guard{g.mtx};
    logger = g.out;
    style = g.now.style;
  }
  std::string line;
  line.reserve(message.size() + from.component.size() + from.peer.size() + 64);
  if (style == format::json) {
    line.append("\"level\":\"").append(to_string(lv)).append("\"");
    append_field(line, "component", from.component);
    if (!from.peer.empty())
      append_field(line, "peer", from.peer);
    append_field(line, "msg", message);
  } else {
    line.append(to_string(lv)).append(" ");
    append_text(line, from.component);
    if (!from.peer.empty()) {
      line.append(" peer=");
      append_text(line, from.peer);
    }
    line.append(": ");
    append_text(line, message);
  }
  try {
    logger->log(to_spdlog(lv), spdlog::string_view_t{line.data(), line.size()});
  } catch (...) {
    // A log line that cannot be written is lost, never the caller's error.
  }
}

void write_limited(std::string_view kind, level lv, const origin& from,
                   std::string message) {
  if (auto v = warnings().admit(kind)) {
    message += v.note();
    write(lv, from, message);
  }
}

} // namespace detail

} // namespace actio::log
