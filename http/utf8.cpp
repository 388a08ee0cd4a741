#include "actio/http/utf8.hpp"

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
    auto lead = utf8_lead(c);
    if (!lead.valid)
      return false; // a continuation byte, C0, C1 or F5..FF
    auto n = lead.need;
    if (static_cast<size_t>(end - p) <= n)
      return false;
    if (p[1] < lead.lo || p[1] > lead.hi)
      return false;
    for (size_t i = 2; i <= n; ++i)
      if ((p[i] & 0xC0) != 0x80)
        return false;
    p += n + 1;
  }
  return true;
}

} // namespace actio::http
