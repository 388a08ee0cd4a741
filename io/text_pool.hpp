#pragma once

/// A process-wide, bounded cache of string buffers for stream batches
/// (`line_batch::text`): the stage that fills a batch takes a buffer, and
/// whoever destroys the batch — usually the sink, on another thread — gives
/// it back, so a pipeline's batch buffers are reused instead of allocated
/// on one thread and freed on another.
///
/// Why: glibc returns a free to the arena of the thread that allocated the
/// block; with 64 KiB batches that arena's top keeps growing and being
/// trimmed (madvise/munmap), and every new batch page-faults its pages in
/// again. Measured in bench/lines: the stream pipeline spent about 40% of
/// its CPU in page faults and unmapping.
///
/// Bounds: only buffers of `min_capacity` to `max_capacity` bytes are
/// cached, at most `max_cached_bytes` in all (others are freed as usual),
/// so the cache never holds more than 4 MiB. Thread-safe (one mutex, held
/// for a few pointer moves).

#include <cstddef>
#include <string>

namespace actio::io::text_pool {

constexpr size_t min_capacity = 16 * 1024;
constexpr size_t max_capacity = 1024 * 1024;
constexpr size_t max_cached_bytes = 4 * 1024 * 1024;

/// An empty string with capacity for at least `size` bytes: a cached
/// buffer if one is large enough, else a new allocation.
std::string take(size_t size);

/// Caches `buf`'s storage if it is within the bounds, else frees it;
/// `buf` is left empty either way.
void give(std::string& buf) noexcept;

/// Bytes currently cached (for tests).
size_t cached_bytes() noexcept;

} // namespace actio::io::text_pool
