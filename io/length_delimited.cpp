#include "actio/io/length_delimited.hpp"

#include <algorithm>

#include <caf/expected.hpp>

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

caf::expected<byte_buffer> encode_frame(const uint8_t* payload, size_t size,
                                        size_t max_frame) {
  byte_buffer out;
  if (size <= max_frame)
    out.reserve(4 + size);
  if (auto err = append_frame(payload, size, out, max_frame))
    return err;
  return out;
}

caf::error length_delimited_codec::push(const uint8_t* data, size_t size,
                                        std::vector<byte_buffer>& out) {
  size_t i = 0;
  while (i < size) {
    if (!in_payload_) {
      if (header_fill_ == 0)
        frame_start_ = offset_;
      auto take = std::min(size - i, 4 - header_fill_);
      std::copy(data + i, data + i + take, header_ + header_fill_);
      header_fill_ += take;
      i += take;
      offset_ += take;
      if (header_fill_ < 4)
        break;
      need_ = (size_t{header_[0]} << 24) | (size_t{header_[1]} << 16)
              | (size_t{header_[2]} << 8) | size_t{header_[3]};
      header_fill_ = 0;
      if (need_ > max_)
        return make_actio_error(errc::too_long,
                                "frame at byte " + std::to_string(frame_start_)
                                  + " declares " + std::to_string(need_)
                                  + " bytes, maximum is " + std::to_string(max_));
      in_payload_ = true;
      payload_.clear();
      payload_.reserve(need_);
    }
    auto take = std::min(size - i, need_ - payload_.size());
    payload_.insert(payload_.end(), data + i, data + i + take);
    i += take;
    offset_ += take;
    if (payload_.size() == need_) {
      out.emplace_back(std::move(payload_));
      payload_ = byte_buffer{};
      in_payload_ = false;
    }
  }
  return caf::none;
}

caf::error length_delimited_codec::finish(std::vector<byte_buffer>&) {
  if (in_payload_ || header_fill_ > 0)
    return make_actio_error(errc::malformed,
                            "frame at byte " + std::to_string(frame_start_)
                              + " is truncated: input ended after "
                              + std::to_string(offset_ - frame_start_)
                              + " of its bytes");
  return caf::none;
}

} // namespace actio::io
