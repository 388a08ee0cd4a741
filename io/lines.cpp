#include "actio/io/lines.hpp"

#include <cstring>

#include "actio/drivers/errc.hpp"

namespace actio::io {

namespace {

caf::error too_long(size_t max, uint64_t offset) {
  return make_actio_error(errc::too_long,
                          "lines: line at byte " + std::to_string(offset)
                            + " exceeds " + std::to_string(max) + " bytes");
}

void add(std::vector<std::string>& out, const char* data, size_t size) {
  out.emplace_back(data, size);
}

void add(line_batch& out, const char* data, size_t size) {
  out.push_back(std::string_view{data, size});
}

} // namespace

template <class Out>
caf::error lines_codec::push_to(const uint8_t* data, size_t size, Out& out) {
  auto* pos = data;
  auto* end = data + size;
  while (pos < end) {
    auto* nl = static_cast<const uint8_t*>(std::memchr(pos, '\n', end - pos));
    auto* stop = nl != nullptr ? nl : end;
    auto piece = static_cast<size_t>(stop - pos);
    if (nl != nullptr && partial_.empty()) {
      // The common case, a whole line inside this chunk: copied once, to
      // its place in `out` (not through `partial_`). Same checks, offsets
      // and errors as the general path below.
      if (piece > max_ + 1)
        return too_long(max_, offset_);
      offset_ += piece + 1;
      auto len = piece > 0 && nl[-1] == '\r' ? piece - 1 : piece;
      if (len > max_)
        return too_long(max_, offset_ - piece - 1);
      add(out, reinterpret_cast<const char*>(pos), len);
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
    add(out, partial_.data(), partial_.size());
    partial_.clear();
    pos = nl + 1;
  }
  return caf::none;
}

template <class Out>
caf::error lines_codec::finish_to(Out& out) {
  if (partial_.size() > max_) // a final "\r" is kept: no newline followed
    return too_long(max_, offset_ - partial_.size());
  if (!partial_.empty()) {
    add(out, partial_.data(), partial_.size());
    partial_.clear();
  }
  return caf::none;
}

caf::error lines_codec::push(const uint8_t* data, size_t size,
                             std::vector<std::string>& out) {
  return push_to(data, size, out);
}

caf::error lines_codec::push(const uint8_t* data, size_t size, line_batch& out) {
  return push_to(data, size, out);
}

caf::error lines_codec::finish(std::vector<std::string>& out) {
  return finish_to(out);
}

caf::error lines_codec::finish(line_batch& out) {
  return finish_to(out);
}

} // namespace actio::io
