#include "resp_codec.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "actio/drivers/errc.hpp"

namespace kv {

reply ok() {
  return reply{simple_string{"OK"}};
}
reply error(std::string text) {
  return reply{error_string{std::move(text)}};
}
reply integer(int64_t x) {
  return reply{x};
}
reply bulk(std::string bytes) {
  return reply{bulk_string{std::move(bytes)}};
}
reply null_bulk() {
  return reply{bulk_string{}};
}

namespace {

using frame_result = decoded<command>;

frame_result fail(actio::errc code, const char* what) {
  frame_result r;
  r.error = actio::make_actio_error(code, std::string{"Protocol error: "} + what);
  return r;
}

// Redis's string2ll: an optional '-', digits, nothing else.
bool parse_ll(const uint8_t* first, const uint8_t* last, long long& out) {
  if (first == last)
    return false;
  auto* b = reinterpret_cast<const char*>(first);
  auto* e = reinterpret_cast<const char*>(last);
  if (*b == '+')
    return false;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc{} && p == e;
}

const uint8_t* find_cr(const uint8_t* first, const uint8_t* last) {
  return static_cast<const uint8_t*>(
    std::memchr(first, '\r', static_cast<size_t>(last - first)));
}

} // namespace

frame_result resp_codec::decode(const uint8_t* data, size_t size) {
  if (size == 0)
    return {};
  if (data[0] == '*')
    return decode_multibulk(data, size);
  return decode_inline(data, size, false);
}

frame_result resp_codec::finish(const uint8_t* data, size_t size) {
  if (size == 0 || data[0] == '*') // a command cut short: dropped, as Redis
    return frame_result{std::nullopt, size, {}};
  return decode_inline(data, size, true);
}

// *<count>\r\n then <count> times $<len>\r\n<bytes>\r\n; nothing is kept
// between calls: an incomplete command is parsed again when more arrived
// (the limits bound that work).
frame_result resp_codec::decode_multibulk(const uint8_t* data, size_t size) {
  const uint8_t* end = data + size;
  const uint8_t* cr = find_cr(data, end);
  if (cr == nullptr || cr + 1 >= end) {
    if (size > limits_.max_inline)
      return fail(actio::errc::too_long, "too big mbulk count string");
    return {};
  }
  long long count = 0;
  if (!parse_ll(data + 1, cr, count) || count > static_cast<long long>(limits_.max_args))
    return fail(actio::errc::malformed, "invalid multibulk length");
  const uint8_t* pos = cr + 2;
  if (count <= 0) // "*0" and "*-1": nothing to run
    return frame_result{std::nullopt, static_cast<size_t>(pos - data), {}};
  // Only the arguments that arrived are counted before reserving.
  command cmd;
  cmd.reserve(std::min<size_t>(static_cast<size_t>(count), 64));
  for (long long i = 0; i < count; ++i) {
    if (pos >= end)
      return {};
    if (*pos != '$') {
      std::string what = "expected '$', got '";
      what += static_cast<char>(*pos);
      what += '\'';
      return fail(actio::errc::malformed, what.c_str());
    }
    cr = find_cr(pos, end);
    if (cr == nullptr || cr + 1 >= end) {
      if (static_cast<size_t>(end - pos) > limits_.max_inline)
        return fail(actio::errc::too_long, "too big bulk count string");
      return {};
    }
    long long len = 0;
    if (!parse_ll(pos + 1, cr, len) || len < 0
        || static_cast<unsigned long long>(len) > limits_.max_bulk)
      return fail(actio::errc::malformed, "invalid bulk length");
    const uint8_t* body = cr + 2;
    size_t need = static_cast<size_t>(body - data) + static_cast<size_t>(len) + 2;
    if (need > limits_.max_command)
      return fail(actio::errc::too_long, "command too long");
    if (need > size)
      return {};
    cmd.emplace_back(reinterpret_cast<const char*>(body), static_cast<size_t>(len));
    pos = body + len + 2; // the CRLF after the bytes is skipped, as Redis
  }
  return frame_result{std::move(cmd), static_cast<size_t>(pos - data), {}};
}

// A line split on blanks, with "double" (backslash escapes, \xHH) and
// 'single' quotes as redis-cli and Redis's sdssplitargs read them.
frame_result resp_codec::decode_inline(const uint8_t* data, size_t size, bool eof) {
  const uint8_t* end = data + size;
  auto* nl = static_cast<const uint8_t*>(std::memchr(data, '\n', size));
  if (nl == nullptr && !eof) {
    if (size > limits_.max_inline)
      return fail(actio::errc::too_long, "too big inline request");
    return {};
  }
  const uint8_t* line_end = nl ? nl : end;
  size_t consumed = static_cast<size_t>(line_end - data) + (nl ? 1 : 0);
  if (static_cast<size_t>(line_end - data) > limits_.max_inline)
    return fail(actio::errc::too_long, "too big inline request");
  if (line_end > data && line_end[-1] == '\r')
    --line_end;
  command cmd;
  const uint8_t* p = data;
  auto hex = [](uint8_t c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto blank = [](uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  for (;;) {
    while (p < line_end && blank(*p))
      ++p;
    if (p == line_end)
      break;
    std::string arg;
    bool dq = false, sq = false, done = false;
    while (!done) {
      if (dq) {
        if (p == line_end)
          return fail(actio::errc::malformed, "unbalanced quotes in request");
        if (*p == '\\' && p + 3 < line_end && p[1] == 'x' && hex(p[2]) >= 0 && hex(p[3]) >= 0) {
          arg += static_cast<char>(hex(p[2]) * 16 + hex(p[3]));
          p += 3;
        } else if (*p == '\\' && p + 1 < line_end) {
          ++p;
          char c = static_cast<char>(*p);
          switch (c) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: break;
          }
          arg += c;
        } else if (*p == '"') {
          // closing quote must be followed by a blank or the end
          if (p + 1 < line_end && !blank(p[1]))
            return fail(actio::errc::malformed, "unbalanced quotes in request");
          done = true;
        } else {
          arg += static_cast<char>(*p);
        }
      } else if (sq) {
        if (p == line_end)
          return fail(actio::errc::malformed, "unbalanced quotes in request");
        if (*p == '\\' && p + 1 < line_end && p[1] == '\'') {
          ++p;
          arg += '\'';
        } else if (*p == '\'') {
          if (p + 1 < line_end && !blank(p[1]))
            return fail(actio::errc::malformed, "unbalanced quotes in request");
          done = true;
        } else {
          arg += static_cast<char>(*p);
        }
      } else {
        if (p == line_end || blank(*p)) {
          done = true;
          continue; // p stays at the blank
        }
        if (*p == '"')
          dq = true;
        else if (*p == '\'')
          sq = true;
        else
          arg += static_cast<char>(*p);
      }
      if (p < line_end)
        ++p;
    }
    cmd.push_back(std::move(arg));
  }
  if (cmd.empty())
    return frame_result{std::nullopt, consumed, {}};
  return frame_result{std::move(cmd), consumed, {}};
}

namespace {

void append(actio::byte_buffer& out, const char* s, size_t n) {
  out.insert(out.end(), reinterpret_cast<const uint8_t*>(s),
             reinterpret_cast<const uint8_t*>(s) + n);
}
void append(actio::byte_buffer& out, const std::string& s) {
  append(out, s.data(), s.size());
}
void append_header(actio::byte_buffer& out, char kind, long long n) {
  char buf[24];
  buf[0] = kind;
  auto [p, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  *p++ = '\r';
  *p++ = '\n';
  append(out, buf, static_cast<size_t>(p - buf));
}
// Simple strings and errors may not hold CR or LF: they would end the line.
void append_line(actio::byte_buffer& out, char kind, const std::string& s) {
  out.push_back(static_cast<uint8_t>(kind));
  for (char c : s)
    out.push_back(static_cast<uint8_t>(c == '\r' || c == '\n' ? ' ' : c));
  append(out, "\r\n", 2);
}

} // namespace

void resp_codec::encode(const out_frame& r, actio::byte_buffer& out) const {
  struct visitor {
    actio::byte_buffer& out;
    const resp_codec& codec;
    void operator()(const simple_string& x) { append_line(out, '+', x.text); }
    void operator()(const error_string& x) { append_line(out, '-', x.text); }
    void operator()(int64_t x) { append_header(out, ':', x); }
    void operator()(const bulk_string& x) {
      if (!x.bytes) {
        append(out, "$-1\r\n", 5);
        return;
      }
      append_header(out, '$', static_cast<long long>(x.bytes->size()));
      append(out, *x.bytes);
      append(out, "\r\n", 2);
    }
    void operator()(const reply_array& x) {
      if (!x.items) {
        append(out, "*-1\r\n", 5);
        return;
      }
      append_header(out, '*', static_cast<long long>(x.items->size()));
      for (auto& item : *x.items)
        codec.encode(item, out);
    }
  };
  std::visit(visitor{out, *this}, r.value);
}

std::string resp_codec::error_text(const caf::error& err) {
  if (err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  return "Protocol error";
}

decoded<request> resp_frames::wrap(decoded<command> r, size_t size) {
  decoded<request> d;
  if (r.error) {
    failed_ = true;
    d.frame = request{{}, "ERR " + resp_codec::error_text(r.error)};
    d.consumed = size;
    return d;
  }
  d.consumed = r.consumed;
  if (r.frame)
    d.frame = request{std::move(*r.frame), {}};
  return d;
}

} // namespace kv
