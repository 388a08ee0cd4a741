#pragma once

/// `length_frames`: length-delimited frames for framed connections
/// (io/framed.hpp), Tokio's `LengthDelimitedCodec` in the format of
/// io/length_delimited.hpp (u32 big-endian payload length, then the
/// payload; the same decoder). A declared length over `max_frame` is
/// `errc::too_long` before any payload is buffered; EOF inside a frame is
/// `errc::malformed`; encoding a payload over `max_frame` is `errc::too_long`.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/error.hpp>

#include "actio/io/codec.hpp"
#include "actio/io/length_delimited.hpp"

namespace actio::io {

class length_frames {
public:
  using in_frame = byte_buffer;
  using out_frame = byte_buffer;

  explicit length_frames(size_t max_frame = 8 * 1024 * 1024)
    : max_(max_frame), frames_(max_frame) {
  }

  decoded<byte_buffer> decode(const uint8_t* data, size_t size);

  decoded<byte_buffer> finish(const uint8_t* data, size_t size);

  caf::error encode(const byte_buffer& payload, byte_buffer& out) const;

  size_t max_frame() const noexcept {
    return max_;
  }

private:
  decoded<byte_buffer> next(size_t consumed);
  /// The next frame before `error_`, else `error_`.
  decoded<byte_buffer> failed(size_t consumed);

  size_t max_;
  length_delimited_codec frames_;
  std::vector<byte_buffer> ready_; // decoded, not handed out yet (from pos_)
  size_t pos_ = 0;
  caf::error error_; // found after ready_'s frames: handed out after them
};

/// Appends one frame (header and payload) to `out`; `errc::too_long` over
/// `max_frame` (then `out` is unchanged).
caf::error append_frame(const uint8_t* payload, size_t size, byte_buffer& out,
                        size_t max_frame = 8 * 1024 * 1024);

} // namespace actio::io
