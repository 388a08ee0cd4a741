#pragma once

/// `split(delimiter)`: like Tokio's `split`, cuts bytes at a delimiter byte,
/// which is dropped; the bytes after the last delimiter are the last
/// segment (emitted by `finish`, if any). Segments longer than
/// `max_length` are an `errc::too_long` error.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/error.hpp>

#include "actio/drivers/types.hpp"

namespace actio::io {

class split_codec {
public:
  explicit split_codec(uint8_t delimiter, size_t max_length = 64 * 1024)
    : delim_(delimiter), max_(max_length) {
  }

  caf::error push(const uint8_t* data, size_t size,
                  std::vector<byte_buffer>& out);

  caf::error finish(std::vector<byte_buffer>& out);

private:
  uint8_t delim_;
  size_t max_;
  byte_buffer partial_;
  bool pending_ = false; // bytes seen since the last delimiter
  uint64_t offset_ = 0;
};

} // namespace actio::io
