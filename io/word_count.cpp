#include "actio/io/word_count.hpp"

namespace actio::io {

namespace {

// GNU wc in the C locale: isspace bytes end a word, printable bytes start
// one, and the other bytes (controls, 0x7f-0xff) do neither.
enum byte_class : uint8_t { other = 0, space = 1, printable = 2 };

struct class_table {
  uint8_t of[256] = {};
  constexpr class_table() {
    for (int c = 33; c < 127; ++c)
      of[c] = printable;
    of[' '] = of['\t'] = of['\n'] = of['\v'] = of['\f'] = of['\r'] = space;
  }
};

constexpr class_table classes{};

} // namespace

void word_count::push(const uint8_t* data, size_t size) noexcept {
  bytes += size;
  auto w = in_word;
  uint64_t l = 0;
  uint64_t n = 0;
  for (size_t i = 0; i < size; ++i) {
    auto c = data[i];
    l += c == '\n';
    switch (classes.of[c]) {
      case space:
        w = false;
        break;
      case printable:
        n += !w;
        w = true;
        break;
      default:
        break;
    }
  }
  lines += l;
  words += n;
  in_word = w;
}

} // namespace actio::io
