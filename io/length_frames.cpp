#include "actio/io/length_frames.hpp"

#include "actio/drivers/errc.hpp"

namespace actio::io {

caf::error append_frame(const uint8_t* payload, size_t size, byte_buffer& out,
                        size_t max_frame) {
  if (size > max_frame || size > UINT32_MAX)
    return make_actio_error(errc::too_long,
                            "frame of " + std::to_string(size)
                              + " bytes exceeds the maximum of "
                              + std::to_string(max_frame));
  auto n = static_cast<uint32_t>(size);
  uint8_t header[4] = {static_cast<uint8_t>(n >> 24),
                       static_cast<uint8_t>(n >> 16),
                       static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  out.insert(out.end(), header, header + 4);
  out.insert(out.end(), payload, payload + size);
  return caf::none;
}

decoded<byte_buffer> length_frames::next(size_t consumed) {
  decoded<byte_buffer> out;
  out.consumed = consumed;
  if (pos_ < ready_.size()) {
    out.frame = std::move(ready_[pos_++]);
    if (pos_ == ready_.size()) {
      ready_.clear();
      pos_ = 0;
    }
  }
  return out;
}

decoded<byte_buffer> length_frames::failed(size_t consumed) {
  // Frames split off before the error go first, then the error, for good.
  auto out = next(consumed);
  if (!out.frame)
    out.error = error_;
  return out;
}

decoded<byte_buffer> length_frames::decode(const uint8_t* data, size_t size) {
  // Frames split off earlier go first; the splitter takes every byte it is
  // given (a partial frame waits inside it, at most `max_` bytes).
  if (pos_ < ready_.size() || error_ || size == 0)
    return error_ ? failed(0) : next(0);
  if (auto err = frames_.push(data, size, ready_)) {
    error_ = std::move(err);
    return failed(size);
  }
  return next(size);
}

decoded<byte_buffer> length_frames::finish(const uint8_t* data, size_t size) {
  if (pos_ < ready_.size() || error_)
    return error_ ? failed(0) : next(0);
  if (size > 0)
    if (auto err = frames_.push(data, size, ready_)) {
      error_ = std::move(err);
      return failed(size);
    }
  if (auto err = frames_.finish(ready_)) {
    error_ = std::move(err);
    return failed(size);
  }
  // At EOF one frame is handed out per call; what `decode` left behind is
  // drained by the framework before `finish` (see framed.hpp).
  return next(size);
}

caf::error length_frames::encode(const byte_buffer& payload,
                                 byte_buffer& out) const {
  return append_frame(payload.data(), payload.size(), out, max_);
}

} // namespace actio::io
