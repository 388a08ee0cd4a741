#pragma once

// The blocking positioned reads the helper-thread file engines share (the
// file pool's jobs, the aio engine's batch reads): pread until the length
// or EOF, EINTR retried. Internal; worker threads only.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <unistd.h>

#include "actio/drivers/types.hpp"

namespace actio::detail {

/// Reads `len` bytes at `offset` into `buf` (resized to what was read:
/// shorter only at EOF). Returns 0, or the errno of a failure (`buf` then
/// empty). May throw std::bad_alloc / std::length_error from the resize.
inline int pread_all(int fd, uint64_t offset, size_t len, byte_buffer& buf) {
  buf.resize(len);
  size_t got = 0;
  while (got < len) {
    auto n = ::pread(fd, buf.data() + got, len - got,
                     static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      buf = byte_buffer{};
      return errno;
    }
    if (n == 0)
      break; // EOF
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return 0;
}

/// `pread_all` for each offset, one after the other, into `bufs` (one per
/// offset). Returns 0, or the first failure's errno (`bufs` then empty).
inline int pread_batch(int fd, const std::vector<uint64_t>& offsets, size_t len,
                       std::vector<byte_buffer>& bufs) {
  bufs.resize(offsets.size());
  for (size_t i = 0; i < offsets.size(); ++i)
    if (int err = pread_all(fd, offsets[i], len, bufs[i]); err != 0) {
      bufs.clear();
      return err;
    }
  return 0;
}

} // namespace actio::detail
