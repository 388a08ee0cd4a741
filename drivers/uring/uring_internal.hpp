#pragma once

// What the io_uring backend's .cpp files share besides the class
// (uring_driver.hpp) and the op (uring_op.hpp). Private to the backend.

#include <chrono>
#include <cstdint>

#include <liburing.h>

#include "actio/drivers/driver.hpp"

namespace actio::detail {

/// The provided-buffer group of the multishot recvs.
inline constexpr uint16_t uring_buf_group = 1;

/// user_data of requests whose CQE nobody needs (cancel, timeout-remove).
inline constexpr uint64_t uring_ignore_token = 0;

inline __kernel_timespec to_timespec(driver::clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns < 0)
    ns = 0;
  __kernel_timespec ts{};
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  return ts;
}

} // namespace actio::detail
