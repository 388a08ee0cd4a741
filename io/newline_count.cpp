#include "actio/io/newline_count.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define ACTIO_NEWLINE_AVX2 1
#  include <immintrin.h>
#endif

namespace actio::io {

uint64_t count_newlines_portable(const uint8_t* data, size_t size) noexcept {
  // 8 bytes at a time: a byte of x = w ^ 0x0a.. is zero where w had '\n';
  // the exact zero-byte test (no false positives from borrows).
  constexpr uint64_t ones = 0x0101010101010101ull;
  constexpr uint64_t high = 0x8080808080808080ull;
  constexpr uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
  uint64_t n = 0;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    auto x = w ^ (ones * '\n');
    auto zero = ~(((x & low7) + low7) | x | low7) & high;
    n += static_cast<uint64_t>(__builtin_popcountll(zero));
  }
  for (; i < size; ++i)
    n += data[i] == '\n';
  return n;
}

#ifdef ACTIO_NEWLINE_AVX2

namespace {

__attribute__((target("avx2"))) uint64_t count_avx2(const uint8_t* data,
                                                     size_t size) noexcept {
  const auto nl = _mm256_set1_epi8('\n');
  const auto zero = _mm256_setzero_si256();
  uint64_t n = 0;
  size_t i = 0;
  while (i + 32 <= size) {
    // Per-byte counters (cmpeq gives -1 per match) for at most 255 blocks,
    // then summed into four 64-bit lanes.
    auto acc = _mm256_setzero_si256();
    auto blocks = std::min<size_t>((size - i) / 32, 255);
    size_t k = 0;
    for (; k + 4 <= blocks; k += 4, i += 128) {
      auto* p = reinterpret_cast<const __m256i*>(data + i);
      auto a = _mm256_cmpeq_epi8(_mm256_loadu_si256(p), nl);
      auto b = _mm256_cmpeq_epi8(_mm256_loadu_si256(p + 1), nl);
      auto c = _mm256_cmpeq_epi8(_mm256_loadu_si256(p + 2), nl);
      auto d = _mm256_cmpeq_epi8(_mm256_loadu_si256(p + 3), nl);
      acc = _mm256_sub_epi8(acc, _mm256_add_epi8(_mm256_add_epi8(a, b),
                                                 _mm256_add_epi8(c, d)));
    }
    for (; k < blocks; ++k, i += 32) {
      auto v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(v, nl));
    }
    auto sums = _mm256_sad_epu8(acc, zero);
    n += static_cast<uint64_t>(_mm256_extract_epi64(sums, 0))
         + static_cast<uint64_t>(_mm256_extract_epi64(sums, 1))
         + static_cast<uint64_t>(_mm256_extract_epi64(sums, 2))
         + static_cast<uint64_t>(_mm256_extract_epi64(sums, 3));
  }
  return n + count_newlines_portable(data + i, size - i);
}

bool have_avx2() noexcept {
  static const bool yes = __builtin_cpu_supports("avx2") != 0;
  return yes;
}

} // namespace

uint64_t count_newlines(const uint8_t* data, size_t size) noexcept {
  if (size >= 64 && have_avx2())
    return count_avx2(data, size);
  return count_newlines_portable(data, size);
}

#else

uint64_t count_newlines(const uint8_t* data, size_t size) noexcept {
  return count_newlines_portable(data, size);
}

#endif

} // namespace actio::io
