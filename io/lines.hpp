#pragma once

/// `lines()`: splits bytes into lines with Tokio's semantics: on LF, with
/// a preceding CR stripped; a last line without newline is still a line
/// (emitted by `finish`); a trailing partial line is never lost, whatever
/// the chunk boundaries (also inside CR LF). Lines longer than
/// `max_length` (without the terminator) are an `errc::too_long` error, not
/// unbounded memory.
///
/// This is the chunk-level codec; `io/stages.hpp` runs it as a stream stage.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actio/io/stream.hpp"

namespace actio::io {

class lines_codec {
public:
  explicit lines_codec(size_t max_length = 64 * 1024) : max_(max_length) {
  }

  /// Appends every line completed by `data` to `out`.
  caf::error push(const uint8_t* data, size_t size,
                  std::vector<std::string>& out);

  /// The same into a batch (no allocation per line; what the stage uses).
  caf::error push(const uint8_t* data, size_t size, line_batch& out);

  /// End of input: a pending partial line becomes the last line.
  caf::error finish(std::vector<std::string>& out);

  /// The same into a batch.
  caf::error finish(line_batch& out);

  /// Bytes consumed so far (for error offsets).
  uint64_t offset() const noexcept {
    return offset_;
  }

private:
  template <class Out>
  caf::error push_to(const uint8_t* data, size_t size, Out& out);

  template <class Out>
  caf::error finish_to(Out& out);

  size_t max_;
  std::string partial_;
  uint64_t offset_ = 0;
};

} // namespace actio::io
