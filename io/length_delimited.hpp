#pragma once

/// Length-delimited framing: each frame is a u32 big-endian payload length,
/// then the payload. Frames larger than `max_frame` are an
/// `errc::too_long` error naming the offset (the declared length is
/// checked before any payload is buffered); input that ends inside a frame
/// is `errc::malformed`.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actio/drivers/types.hpp"

namespace actio::io {

/// Prepends the 4-byte header. Payloads over `max_frame` are an error.
caf::expected<byte_buffer> encode_frame(const uint8_t* payload, size_t size,
                                        size_t max_frame = 8 * 1024 * 1024);

/// Appends one frame (header and payload) to `out`; `errc::too_long` over
/// `max_frame` (then `out` is unchanged).
caf::error append_frame(const uint8_t* payload, size_t size, byte_buffer& out,
                        size_t max_frame = 8 * 1024 * 1024);

class length_delimited_codec {
public:
  explicit length_delimited_codec(size_t max_frame = 8 * 1024 * 1024)
    : max_(max_frame) {
  }

  /// Appends every frame payload completed by `data` to `out`.
  caf::error push(const uint8_t* data, size_t size,
                  std::vector<byte_buffer>& out);

  /// End of input: an error if it ends inside a frame.
  caf::error finish(std::vector<byte_buffer>& out);

  /// Offset (in the input) of the frame being decoded.
  uint64_t frame_offset() const noexcept {
    return frame_start_;
  }

private:
  size_t max_;
  uint8_t header_[4] = {};
  size_t header_fill_ = 0;
  bool in_payload_ = false;
  size_t need_ = 0;
  byte_buffer payload_;
  uint64_t offset_ = 0;
  uint64_t frame_start_ = 0;
};

} // namespace actio::io
