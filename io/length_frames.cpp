#include "actio/io/length_frames.hpp"

namespace actio::io {

caf::error length_frames::encode(const byte_buffer& payload,
                                 byte_buffer& out) const {
  return append_frame(payload.data(), payload.size(), out, max_);
}

} // namespace actio::io
