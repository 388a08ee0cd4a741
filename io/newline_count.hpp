#pragma once

/// Counts '\n' bytes, vectorised: AVX2 where the CPU has it (checked once
/// at run time), else a portable word-at-a-time loop. The fast path of
/// `wc -l` / `wc -c` (no word counting), as GNU wc's own AVX2 line count.

#include <cstddef>
#include <cstdint>

namespace actio::io {

uint64_t count_newlines(const uint8_t* data, size_t size) noexcept;

/// The portable loop alone (tests compare both paths).
uint64_t count_newlines_portable(const uint8_t* data, size_t size) noexcept;

} // namespace actio::io
