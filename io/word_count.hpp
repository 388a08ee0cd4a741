#pragma once

/// Counts lines (newline bytes), words and bytes like GNU `wc` (coreutils 9) in the
/// C locale: a printable byte (0x21-0x7e) outside a word starts one, a space
/// byte (space, tab, newline, vertical tab, form feed, carriage return) ends it, and other bytes
/// (controls, 0x7f-0xff) do neither. Chunk boundaries do not matter.

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
