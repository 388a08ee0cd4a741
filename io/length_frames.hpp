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

#include "actio/io/chunk_frames.hpp"
#include "actio/io/codec.hpp"
#include "actio/io/length_delimited.hpp"

namespace actio::io {

class length_frames : public chunk_frames<byte_buffer, length_delimited_codec> {
public:
  using in_frame = byte_buffer;
  using out_frame = byte_buffer;

  explicit length_frames(size_t max_frame = 8 * 1024 * 1024)
    : chunk_frames(max_frame), max_(max_frame) {
  }

  caf::error encode(const byte_buffer& payload, byte_buffer& out) const;

  size_t max_frame() const noexcept {
    return max_;
  }

private:
  size_t max_;
};

} // namespace actio::io
