#include "actio/io/word_count.hpp"

namespace actio::io {

namespace {

// 1 for the C locale's isspace bytes.
struct space_table {
  bool is[256] = {};
  constexpr space_table() {
    is[' '] = is['\t'] = is['\n'] = is['\v'] = is['\f'] = is['\r'] = true;
  }
};

constexpr space_table spaces{};

} // namespace

void word_count::push(const uint8_t* data, size_t size) noexcept {
  bytes += size;
  auto w = in_word;
  uint64_t l = 0;
  uint64_t n = 0;
  for (size_t i = 0; i < size; ++i) {
    auto c = data[i];
    l += c == '\n';
    bool space = spaces.is[c];
    n += !space && !w;
    w = !space;
  }
  lines += l;
  words += n;
  in_word = w;
}

} // namespace actio::io
