#pragma once

/// UTF-8 validation (RFC 3629): what a WebSocket text message and a close
/// reason must be (RFC 6455 §8.1).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace actio::http {

/// What a UTF-8 lead byte announces (RFC 3629 §4): how many continuation
/// bytes follow and the range the first of them must lie in. That range
/// rules out overlong forms (E0, F0), the surrogates (ED) and code points
/// above U+10FFFF (F4); the other continuation bytes are 80..BF.
struct utf8_lead_info {
  size_t need;  ///< continuation bytes; 0 for ASCII or a byte that cannot lead
  uint8_t lo;   ///< smallest valid second byte
  uint8_t hi;   ///< largest valid second byte
  bool valid;   ///< false for a continuation byte, C0, C1 or F5..FF
};

/// The `utf8_lead_info` of byte `c`.
constexpr utf8_lead_info utf8_lead(uint8_t c) noexcept {
  if (c < 0x80)
    return {0, 0x80, 0xBF, true};
  if (c >= 0xC2 && c <= 0xDF)
    return {1, 0x80, 0xBF, true};
  if (c >= 0xE0 && c <= 0xEF)
    return {2, c == 0xE0 ? uint8_t{0xA0} : uint8_t{0x80},
            c == 0xED ? uint8_t{0x9F} : uint8_t{0xBF}, true};
  if (c >= 0xF0 && c <= 0xF4)
    return {3, c == 0xF0 ? uint8_t{0x90} : uint8_t{0x80},
            c == 0xF4 ? uint8_t{0x8F} : uint8_t{0xBF}, true};
  return {0, 0x80, 0xBF, false};
}

/// True if `text` is well-formed UTF-8: no overlong forms, no surrogates
/// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool valid_utf8(std::string_view text) noexcept;

} // namespace actio::http
