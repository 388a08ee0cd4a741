#pragma once

/// `line_frames`: the line codec of framed connections (io/framed.hpp),
/// Tokio's `LinesCodec`. Decoding is `lines_codec`'s (io/lines.hpp; one
/// line splitter for stages and connections): a line ends at LF, a
/// preceding CR is stripped, a last line without newline arrives at EOF,
/// and a line longer than `max_length` bytes (without its terminator) is
/// `errc::too_long` — found as soon as that many bytes arrive without a
/// newline, never buffered beyond. Encoding appends the line and "\n"; a
/// line holding '\n' is `errc::malformed`, one over `max_length` is
/// `errc::too_long`.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actio/io/chunk_frames.hpp"
#include "actio/io/codec.hpp"
#include "actio/io/lines.hpp"

namespace actio::io {

class line_frames : public chunk_frames<std::string, lines_codec> {
public:
  using in_frame = std::string;
  using out_frame = std::string;

  explicit line_frames(size_t max_length = 64 * 1024)
    : chunk_frames(max_length), max_(max_length) {
  }

  caf::error encode(const std::string& line, byte_buffer& out) const;

  size_t max_length() const noexcept {
    return max_;
  }

private:
  size_t max_;
};

} // namespace actio::io
