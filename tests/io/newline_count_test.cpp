// count_newlines (the wc -l fast path) against a plain byte loop, on every
// length around the vector widths and every alignment, with newline-dense,
// newline-free and all-byte-value data.

#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "actio/io/newline_count.hpp"

using namespace actio::io;

namespace {

uint64_t reference(const uint8_t* data, size_t size) {
  uint64_t n = 0;
  for (size_t i = 0; i < size; ++i)
    n += data[i] == '\n';
  return n;
}

std::vector<uint8_t> random_bytes(size_t size, unsigned percent_newline,
                                  unsigned seed) {
  std::mt19937 gen{seed};
  std::vector<uint8_t> v(size);
  for (auto& b : v)
    b = gen() % 100 < percent_newline ? '\n' : static_cast<uint8_t>(gen());
  return v;
}

} // namespace

TEST(newline_count, matches_a_byte_loop_for_all_short_lengths_and_offsets) {
  auto data = random_bytes(4096, 30, 1);
  for (size_t off = 0; off < 33; ++off)
    for (size_t len = 0; len + off <= 600; ++len) {
      ASSERT_EQ(count_newlines(data.data() + off, len),
                reference(data.data() + off, len))
        << "off " << off << " len " << len;
      ASSERT_EQ(count_newlines_portable(data.data() + off, len),
                reference(data.data() + off, len))
        << "off " << off << " len " << len;
    }
}

TEST(newline_count, counts_past_the_per_byte_counter_limit) {
  // All newlines: the AVX2 byte counters would overflow after 255 blocks
  // of 32 bytes if not flushed.
  std::vector<uint8_t> all(1 << 20, '\n');
  EXPECT_EQ(count_newlines(all.data(), all.size()), all.size());
  EXPECT_EQ(count_newlines(all.data() + 3, all.size() - 7), all.size() - 7);
  EXPECT_EQ(count_newlines_portable(all.data(), all.size()), all.size());
}

TEST(newline_count, no_newlines_and_near_newline_bytes_count_zero) {
  std::vector<uint8_t> v;
  for (int i = 0; i < 100000; ++i)
    v.push_back(static_cast<uint8_t>(i % 256 == '\n' ? 0x8a : i % 256));
  EXPECT_EQ(count_newlines(v.data(), v.size()), 0u);
  EXPECT_EQ(count_newlines_portable(v.data(), v.size()), 0u);
  v[0] = v[v.size() - 1] = '\n';
  EXPECT_EQ(count_newlines(v.data(), v.size()), 2u);
}

TEST(newline_count, large_random_buffers_match) {
  for (unsigned percent : {0u, 1u, 5u, 50u, 100u}) {
    auto v = random_bytes(3 * 1024 * 1024 + 77, percent, percent + 7);
    EXPECT_EQ(count_newlines(v.data(), v.size()), reference(v.data(), v.size()))
      << percent << "% newlines";
  }
}
