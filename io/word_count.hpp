#pragma once

/// Counts lines ('\n'), words and bytes like GNU `wc` in the C locale: a
/// word is a maximal run of bytes other than ' ', '\t', '\n', '\v', '\f',
/// '\r'. Chunk boundaries do not matter (a word may span chunks).

#include <cstddef>
#include <cstdint>

namespace actio::io {

struct word_count {
  uint64_t lines = 0;
  uint64_t words = 0;
  uint64_t bytes = 0;
  bool in_word = false;

  void push(const uint8_t* data, size_t size) noexcept;
};

} // namespace actio::io
