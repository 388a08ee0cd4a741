#include "actio/http/utf8.hpp"

#include <cstdint>

namespace actio::http {

bool valid_utf8(std::string_view text) noexcept {
  auto* p = reinterpret_cast<const uint8_t*>(text.data());
  auto* end = p + text.size();
  while (p < end) {
    auto c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // The second byte's range rules out overlong forms (E0, F0), the
    // surrogates (ED) and code points above U+10FFFF (F4) (RFC 3629 §4).
    size_t n;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      return false; // a continuation byte, C0, C1 or F5..FF
    }
    if (static_cast<size_t>(end - p) <= n)
      return false;
    if (p[1] < lo || p[1] > hi)
      return false;
    for (size_t i = 2; i <= n; ++i)
      if ((p[i] & 0xC0) != 0x80)
        return false;
    p += n + 1;
  }
  return true;
}

} // namespace actio::http
