#include "actio/io/line_frames.hpp"

#include <cstring>

#include "actio/drivers/errc.hpp"

namespace actio::io {

decoded<std::string> line_frames::next(size_t consumed) {
  decoded<std::string> out;
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

decoded<std::string> line_frames::failed(size_t consumed) {
  // Frames split off before the error go first, then the error, for good.
  auto out = next(consumed);
  if (!out.frame)
    out.error = error_;
  return out;
}

decoded<std::string> line_frames::decode(const uint8_t* data, size_t size) {
  // Frames split off earlier go first; the splitter takes every byte it is
  // given (a partial frame waits inside it, at most `max_` bytes).
  if (pos_ < ready_.size() || error_ || size == 0)
    return error_ ? failed(0) : next(0);
  if (auto err = lines_.push(data, size, ready_)) {
    error_ = std::move(err);
    return failed(size);
  }
  return next(size);
}

decoded<std::string> line_frames::finish(const uint8_t* data, size_t size) {
  if (pos_ < ready_.size() || error_)
    return error_ ? failed(0) : next(0);
  if (size > 0)
    if (auto err = lines_.push(data, size, ready_)) {
      error_ = std::move(err);
      return failed(size);
    }
  if (auto err = lines_.finish(ready_)) {
    error_ = std::move(err);
    return failed(size);
  }
  // At EOF one frame is handed out per call; what `decode` left behind is
  // drained by the framework before `finish` (see framed.hpp).
  return next(size);
}

caf::error line_frames::encode(const std::string& line, byte_buffer& out) const {
  if (line.size() > max_)
    return make_actio_error(errc::too_long,
                            "line of " + std::to_string(line.size())
                              + " bytes exceeds " + std::to_string(max_));
  if (std::memchr(line.data(), '\n', line.size()) != nullptr)
    return make_actio_error(errc::malformed, "line to send holds a newline");
  out.insert(out.end(), line.begin(), line.end());
  out.push_back('\n');
  return caf::none;
}

} // namespace actio::io
