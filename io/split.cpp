#include "actio/io/split.hpp"

#include <cstring>

#include "actio/drivers/errc.hpp"

namespace actio::io {

caf::error split_codec::push(const uint8_t* data, size_t size,
                             std::vector<byte_buffer>& out) {
  auto* pos = data;
  auto* end = data + size;
  while (pos < end) {
    auto* hit = static_cast<const uint8_t*>(std::memchr(pos, delim_, end - pos));
    auto* stop = hit != nullptr ? hit : end;
    auto piece = static_cast<size_t>(stop - pos);
    if (partial_.size() + piece > max_)
      return make_actio_error(errc::too_long,
                              "split: segment at byte "
                                + std::to_string(offset_ - partial_.size())
                                + " exceeds " + std::to_string(max_) + " bytes");
    partial_.insert(partial_.end(), pos, stop);
    pending_ = true;
    offset_ += piece;
    if (hit == nullptr)
      break;
    ++offset_;
    out.emplace_back(std::move(partial_));
    partial_.clear();
    pending_ = false;
    pos = hit + 1;
  }
  return caf::none;
}

caf::error split_codec::finish(std::vector<byte_buffer>& out) {
  // Tokio yields a last segment only if bytes followed the last delimiter.
  if (pending_ && !partial_.empty()) {
    out.emplace_back(std::move(partial_));
    partial_.clear();
  }
  pending_ = false;
  return caf::none;
}

} // namespace actio::io
