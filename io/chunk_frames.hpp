#pragma once

/// `chunk_frames<Frame, Splitter>`: the decoding half of a framed
/// connection's codec (io/codec.hpp) built on a splitter that turns bytes
/// into whole frames in batches: `Splitter::push(data, size, frames)` takes
/// every byte it is given (a partial frame waits inside it) and appends the
/// frames it completed; `Splitter::finish(frames)` at EOF appends the last
/// one or fails. A codec hands out one frame per call, so the batch is kept
/// and drained first. `line_frames` (over `lines_codec`) and `length_frames`
/// (over `length_delimited_codec`) derive from it and add their encoding.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "actio/io/codec.hpp"

namespace actio::io {

template <class Frame, class Splitter>
class chunk_frames {
public:
  /// @param max_frame the splitter's limit (longest frame it accepts).
  explicit chunk_frames(size_t max_frame) : splitter_(max_frame) {
  }

  /// Frames split off earlier go first (consuming nothing); otherwise all
  /// of `data` goes to the splitter, and the first new frame, if any, comes
  /// back. A splitter error (too long, malformed) comes after the frames
  /// split off before it, and then on every call.
  decoded<Frame> decode(const uint8_t* data, size_t size) {
    if (pos_ < ready_.size() || error_ || size == 0)
      return error_ ? failed(0) : next(0);
    if (auto err = splitter_.push(data, size, ready_)) {
      error_ = std::move(err);
      return failed(size);
    }
    return next(size);
  }

  /// At EOF: the rest of the input, then the splitter's last frame (or its
  /// error: EOF inside a frame). One frame per call; what `decode` left
  /// behind is drained by the framework before `finish` (io/framed.hpp).
  decoded<Frame> finish(const uint8_t* data, size_t size) {
    if (pos_ < ready_.size() || error_)
      return error_ ? failed(0) : next(0);
    if (size > 0)
      if (auto err = splitter_.push(data, size, ready_)) {
        error_ = std::move(err);
        return failed(size);
      }
    if (auto err = splitter_.finish(ready_)) {
      error_ = std::move(err);
      return failed(size);
    }
    return next(size);
  }

private:
  /// The next frame split off before, if any.
  decoded<Frame> next(size_t consumed) {
    decoded<Frame> out;
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

  /// The next frame split off before the error, else the error (for good).
  decoded<Frame> failed(size_t consumed) {
    auto out = next(consumed);
    if (!out.frame)
      out.error = error_;
    return out;
  }

  Splitter splitter_;
  std::vector<Frame> ready_; ///< split, not handed out yet (from `pos_`)
  size_t pos_ = 0;
  caf::error error_; ///< found after ready_'s frames: handed out after them
};

} // namespace actio::io
