#pragma once

/// Byte streams as CAF 0.17 streams. Elements are chunks or batches, never
/// one element per line (measured 16x slower than a memchr loop).
///
/// Pipeline model: a source actor opens a stream to `dest`, usually a
/// composition `sink * stage2 * stage1` (CAF's actor composition: the
/// handshake goes to stage1, whose output stream goes on to stage2, ...).
/// Backpressure is CAF's credit: a slow sink grants less, stages and the
/// source stop producing, the file or socket source stops reading.
///
/// Two CAF 0.17 pitfalls shape the element types (ARCHITECTURE.md, "Byte
/// streams"):
/// - a stage's finaliser cannot emit, so the end of input travels in-band:
///   the source's last element has `last = true`, and a stage flushes what
///   it holds (a trailing line without newline) when it sees it;
/// - `quit()` in a stage does not stop the stream: a failing stage stops
///   its stream manager with the error, which reaches the sink's finaliser
///   and the source.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actio/drivers/types.hpp"
#include "actio/io/text_pool.hpp"

namespace actio::io {

/// Raw bytes. `last`: nothing follows (may be empty).
struct byte_chunk {
  byte_buffer bytes;
  bool last = false;
};

/// Text lines (without terminators), as produced by `lines`. The lines are
/// stored back to back in `text`, line i ending at `ends[i]`: a batch costs
/// two allocations, not one per line (per-line strings measured 2.5x slower
/// than a memchr loop in bench/lines). A destroyed batch gives `text`'s
/// buffer to `text_pool` (io/text_pool.hpp), from which the `lines` stage
/// takes the next batch's.
struct line_batch {
  std::string text;
  std::vector<uint64_t> ends;
  bool last = false;

  line_batch() = default;
  line_batch(const line_batch&) = default;
  line_batch(line_batch&&) noexcept = default;
  line_batch& operator=(const line_batch&) = default;
  line_batch& operator=(line_batch&&) noexcept = default;
  ~line_batch() {
    if (text.capacity() >= text_pool::min_capacity)
      text_pool::give(text);
  }

  size_t size() const noexcept {
    return ends.size();
  }

  bool empty() const noexcept {
    return ends.empty();
  }

  /// Line `i` (< size()); valid while the batch is unchanged.
  std::string_view operator[](size_t i) const noexcept {
    auto begin = i == 0 ? 0 : ends[i - 1];
    return {text.data() + begin, static_cast<size_t>(ends[i] - begin)};
  }

  void push_back(std::string_view line) {
    text.append(line);
    ends.push_back(text.size());
  }
};

/// Byte segments: `split` segments or decoded frames.
struct buffer_batch {
  std::vector<byte_buffer> items;
  bool last = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, byte_chunk& x) {
  return f(caf::meta::type_name("actio.byte_chunk"), x.bytes, x.last);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line_batch& x) {
  return f(caf::meta::type_name("actio.line_batch"), x.text, x.ends, x.last);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, buffer_batch& x) {
  return f(caf::meta::type_name("actio.buffer_batch"), x.items, x.last);
}

} // namespace actio::io
