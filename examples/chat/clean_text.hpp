#pragma once

// The one rule for text a client (or a peer node) hands the chat: what the
// server passes on is valid UTF-8 without control characters, so every
// client -- a terminal, actio-chat-client, a protobuf program (proto3
// strings must be UTF-8) -- and every node sees the same line, and nobody
// can move a terminal's cursor or inject lines.
//
//   - each ill-formed UTF-8 sequence (maximal subpart, as Unicode and the
//     WHATWG decoder count them: a bad lead byte, a truncated sequence, an
//     overlong form, a surrogate, a code point over U+10FFFF) becomes one
//     U+FFFD;
//   - each control character -- C0 (U+0000..U+001F) but TAB, DEL (U+007F)
//     and C1 (U+0080..U+009F, which some terminals obey like ESC [) --
//     becomes U+FFFD. TAB stays: pasted code keeps its indentation and a
//     tab moves no cursor anywhere a line could not.
//
// Header-only: actio-chat-client and the tests use it too.

#include <string>
#include <string_view>

#include "actio/http/utf8.hpp"

namespace chat {

namespace detail {

inline bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

inline void append_replacement(std::string& out) {
  out.append("\xEF\xBF\xBD"); // U+FFFD
}

} // namespace detail

/// `in` with every ill-formed UTF-8 sequence and every control character
/// but TAB replaced by U+FFFD.
inline std::string clean_text(std::string_view in) {
  auto clean_ascii = [](unsigned char c) {
    return (c >= 0x20 && c < 0x7F) || c == '\t';
  };
  size_t i = 0;
  while (i < in.size() && clean_ascii(static_cast<unsigned char>(in[i])))
    ++i;
  if (i == in.size())
    return std::string{in}; // the common case: printable ASCII
  std::string out{in.substr(0, i)};
  out.reserve(in.size() + 8);
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (clean_ascii(c))
        out.push_back(static_cast<char>(c));
      else
        detail::append_replacement(out);
      ++i;
      continue;
    }
    auto [need, lo, hi, valid] = actio::http::utf8_lead(c);
    if (!valid) {
      detail::append_replacement(out); // 0x80..0xC1, 0xF5..0xFF
      ++i;
      continue;
    }
    size_t n = 1; // bytes of a valid prefix so far
    while (n <= need && i + n < in.size()) {
      auto d = static_cast<unsigned char>(in[i + n]);
      bool ok = n == 1 ? d >= lo && d <= hi : detail::is_continuation(d);
      if (!ok)
        break;
      ++n;
    }
    if (n != need + 1) {
      detail::append_replacement(out); // the maximal subpart, once
      i += n;
      continue;
    }
    // C1 controls: U+0080..U+009F, encoded C2 80..C2 9F.
    if (c == 0xC2 && static_cast<unsigned char>(in[i + 1]) < 0xA0)
      detail::append_replacement(out);
    else
      out.append(in.substr(i, n));
    i += n;
  }
  return out;
}

} // namespace chat
