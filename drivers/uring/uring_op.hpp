#pragma once

// One in-flight io_uring operation: owns everything the kernel may touch
// (buffer, path, timespec, statx) until its last CQE. Private to the backend.
//
// Ops are pooled by the driver (`new_op`/`op_done`): a send or a recv takes
// one from a free list instead of the heap, and the live ones sit on an
// intrusive list (freed at shutdown once the kernel gave them back). What
// only some kinds need (paths, statx, addresses, msghdr: ~450 bytes) is in
// `op_ext`, allocated the first time an op needs it, so an idle
// connection's armed recv stays small.

#include <linux/stat.h>
#include <memory>
#include <string>
#include <vector>
#include <sys/socket.h>
#include <sys/uio.h>

#include "actio/drivers/uring/uring_driver.hpp"

namespace actio {

/// The parts of an op only files, connects and datagrams use.
struct uring_op_ext {
  std::string path;
  struct statx stx {};
  sockaddr_storage addr{}; // connect: the kernel reads it after submission
  socklen_t addr_len = 0;
  msghdr msg{}; // recvmsg/sendmsg: points into addr and buf
  iovec iov{};
  // A gathered stream send (uring_send.cpp): its writes in order (the
  // op's `done` counts those completed) and the iovecs of the unsent rest.
  std::vector<detail::write_req> gather;
  std::vector<iovec> iovs;
};

struct uring_driver::op {
  op_kind kind = op_kind::wake;
  bool cancelled = false;
  int fd = -1;
  uint64_t target = 0; // socket_id or file_id
  op_id id = 0;
  write_req w;         // send, shutdown
  size_t done = 0;     // bytes transferred so far (short transfers)
  uint64_t offset = 0; // file position
  byte_buffer buf;     // file read/write data
  caf::response_promise rp;
  read_batch_state* batch = nullptr; // file read of a batch: its answer
  size_t batch_index = 0;            // ... and its place there
  std::unique_ptr<uring_op_ext> x;
  op* prev = nullptr; // the driver's live list, or its free list (next)
  op* next = nullptr;

  uring_op_ext& ext() {
    if (!x)
      x = std::make_unique<uring_op_ext>();
    return *x;
  }

  /// Back to a fresh op of `k`, keeping `x` for reuse.
  void reset(op_kind k) {
    kind = k;
    cancelled = false;
    fd = -1;
    target = 0;
    id = 0;
    w = write_req{};
    done = 0;
    offset = 0;
    byte_buffer{}.swap(buf); // a file read's buffer may be large
    rp = caf::response_promise{};
    batch = nullptr;
    batch_index = 0;
    if (x) {
      x->path.clear();
      x->addr_len = 0;
      x->msg = msghdr{};
      x->gather.clear();
      x->iovs.clear();
    }
  }
};

} // namespace actio
