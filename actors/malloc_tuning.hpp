#pragma once

/// How much freed memory glibc's allocator may keep instead of handing it
/// back to the kernel at once, set by `runtime::start` from
/// `actio.io.malloc-retain` (bytes; default 64 MiB; 0 leaves glibc's
/// settings, and `GLIBC_TUNABLES`, alone).
///
/// Why: with glibc's defaults a heap whose top grows past 128 KiB of free
/// memory is trimmed (`madvise(MADV_DONTNEED)` in a thread's arena), and
/// the next allocation faults the pages back in. A server whose buffers
/// come and go in the tens of KiB (16 KiB echoes, 64 KiB reads) did that on
/// every message: 73 µs of CPU per 16 KiB echo instead of 7 µs, most of it
/// page faults, on a VM where a fault is expensive. Setting the trim
/// threshold fixes glibc's mmap threshold too (it stops adapting), so it
/// is set with it: blocks up to 4 MiB come from the heap, larger ones are
/// mapped and unmapped as before. The cost: up to `retain` bytes of freed
/// memory per arena stay resident until reused.
///
/// Process-wide (glibc has one allocator per process); a no-op under the
/// sanitizers, whose allocator does not read these settings.

#include <cstddef>

namespace actio {

/// The default of `actio.io.malloc-retain`.
inline constexpr size_t default_malloc_retain = size_t{64} << 20;

/// Blocks below this come from the heap while tuning is on.
inline constexpr size_t tuned_mmap_threshold = size_t{4} << 20;

/// Sets glibc's trim threshold to `retain` and its mmap threshold to
/// `tuned_mmap_threshold`; does nothing when `retain` is 0.
void tune_malloc(size_t retain) noexcept;

} // namespace actio
