#pragma once

// One in-flight io_uring operation: owns everything the kernel may touch
// (buffer, path, timespec, statx) until its last CQE. Private to the backend.

#include <linux/stat.h>
#include <string>
#include <sys/socket.h>
#include <sys/uio.h>

#include "actio/drivers/uring/uring_driver.hpp"

namespace actio {

struct uring_driver::op {
  op_kind kind = op_kind::wake;
  uint64_t target = 0; // socket_id or file_id
  op_id id = 0;
  write_req w;         // send, shutdown
  size_t done = 0;     // bytes transferred so far (short transfers)
  uint64_t offset = 0; // file position
  byte_buffer buf;     // file read/write data
  caf::response_promise rp;
  caf::strong_actor_ptr owner; // timers
  __kernel_timespec ts{};
  std::string path;
  struct statx stx {};
  sockaddr_storage addr{}; // connect: the kernel reads it after submission
  socklen_t addr_len = 0;
  msghdr msg{}; // recvmsg/sendmsg: points into addr and buf
  iovec iov{};
  int fd = -1;
  bool cancelled = false;
};

} // namespace actio
