#include "actio/io/lines.hpp"

#include <cstring>

#include "actio/actors/errc.hpp"

namespace actio::io {

namespace {

caf::error too_long(size_t max, uint64_t offset) {
  return make_actio_error(errc::too_long,
                          "lines: line at byte " + std::to_string(offset)
                            + " exceeds " + std::to_string(max) + " bytes");
}

} // namespace

caf::error lines_codec::push(const uint8_t* data, size_t size,
                             std::vector<std::string>& out) {
  auto* pos = data;
  auto* end = data + size;
  while (pos < end) {
    auto* nl = static_cast<const uint8_t*>(std::memchr(pos, '\n', end - pos));
    auto* stop = nl != nullptr ? nl : end;
    auto piece = static_cast<size_t>(stop - pos);
    if (nl != nullptr && partial_.empty()) {
      // The common case, a whole line inside this chunk: one string made
      // at its final size (no append into a moved-from partial). Same
      // checks, offsets and errors as the general path below.
      if (piece > max_ + 1)
        return too_long(max_, offset_);
      offset_ += piece + 1;
      auto len = piece > 0 && nl[-1] == '\r' ? piece - 1 : piece;
      if (len > max_)
        return too_long(max_, offset_ - piece - 1);
      out.emplace_back(reinterpret_cast<const char*>(pos), len);
      pos = nl + 1;
      continue;
    }
    // The limit is on the line without its "\r\n": one byte of slack for a
    // '\r' that may still be stripped, checked again once the line is done.
    if (partial_.size() + piece > max_ + 1)
      return too_long(max_, offset_ - partial_.size());
    partial_.append(reinterpret_cast<const char*>(pos), piece);
    offset_ += piece;
    if (nl == nullptr)
      break;
    ++offset_; // the '\n'
    if (!partial_.empty() && partial_.back() == '\r')
      partial_.pop_back();
    if (partial_.size() > max_)
      return too_long(max_, offset_ - partial_.size() - 1);
    out.emplace_back(std::move(partial_));
    partial_.clear();
    pos = nl + 1;
  }
  return caf::none;
}

caf::error lines_codec::finish(std::vector<std::string>& out) {
  if (partial_.size() > max_) // a final "\r" is kept: no newline followed
    return too_long(max_, offset_ - partial_.size());
  if (!partial_.empty()) {
    out.emplace_back(std::move(partial_));
    partial_.clear();
  }
  return caf::none;
}

} // namespace actio::io
