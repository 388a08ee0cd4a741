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

#include "actio/io/codec.hpp"
#include "actio/io/lines.hpp"

namespace actio::io {

class line_frames {
public:
  using in_frame = std::string;
  using out_frame = std::string;

  explicit line_frames(size_t max_length = 64 * 1024)
    : max_(max_length), lines_(max_length) {
  }

  decoded<std::string> decode(const uint8_t* data, size_t size);

  decoded<std::string> finish(const uint8_t* data, size_t size);

  caf::error encode(const std::string& line, byte_buffer& out) const;

  size_t max_length() const noexcept {
    return max_;
  }

private:
  /// The next line split off before, if any.
  decoded<std::string> next(size_t consumed);
  /// The next frame before `error_`, else `error_`.
  decoded<std::string> failed(size_t consumed);

  size_t max_;
  lines_codec lines_;
  std::vector<std::string> ready_; // split, not handed out yet (from pos_)
  size_t pos_ = 0;
  caf::error error_; // found after ready_'s frames: handed out after them
};

} // namespace actio::io
