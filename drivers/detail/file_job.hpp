#pragma once

/// One request of the file pool (file_pool.hpp) on its way from submission
/// to delivery, and the descriptor its file's jobs share. Private to the
/// pool: file_pool.cpp submits and completes jobs, file_job.cpp has the
/// blocking syscalls a worker runs.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/detail/engine_job.hpp"
#include "actio/drivers/detail/file_pool.hpp"
#include "actio/drivers/types.hpp"

namespace actio::detail {

enum class file_op : uint8_t { open, read, write, sync, stat, close, read_batch };

/// An open file's descriptor, shared by its slot and the jobs using it: it
/// is closed when the last of them lets go, unless a close job closed it
/// first. So a job abandoned at shutdown (still in a syscall on a worker)
/// keeps its descriptor number from being closed and reused under it.
struct descriptor {
  explicit descriptor(int x) : fd(x) {
  }
  ~descriptor() {
    if (fd >= 0)
      ::close(fd);
  }
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  int fd;
};

/// One request, from submission to delivery. The driver thread fills in the
/// arguments, a worker runs the syscalls and records the outcome (value or
/// errno), and `complete` turns that into the reply on the driver thread. A
/// job that never runs (closed file, cancel, shutdown, nothing to do) is
/// delivered by the next `drain`, carrying its error in `err` if it failed.
/// Of an abandoned job (running at shutdown) the driver touches only `rp`
/// and the arguments, never the outcome.
struct file_job final : engine_job<file_job, file_pool, file_op> {
  using engine_job::engine_job;

  void run() noexcept override;

  /// The call finished after shutdown answered it: nobody learns of a new
  /// descriptor, so it goes; `file` (a slot's) closes with its last user.
  void discard() noexcept override {
    if (kind == file_op::open && fd >= 0)
      ::close(fd);
  }

  // Arguments.
  uint32_t index = no_slot; ///< slot whose `in_flight` counts this job
  std::shared_ptr<descriptor> file; ///< that slot's descriptor
  op_id id = 0;             ///< read/write: the caller's id, for `cancel`
  uint64_t offset = 0;
  size_t len = 0;
  bool datasync = false;
  int flags = 0;
  unsigned mode = 0;
  std::string path; ///< open only: other jobs name their slot's path
  byte_buffer buf;  ///< write: the data; read: the result
  std::vector<uint64_t> offsets; ///< read_batch: where (`len` each)
  std::vector<byte_buffer> bufs; ///< read_batch: the result

  // Outcome (worker, then driver thread).
  int fd = -1;        ///< open: the new descriptor; else `file`'s
  uint64_t value = 0; ///< write: bytes written; stat: the size
  int sys_err = 0;    ///< errno of the failed syscall; 0: success
  caf::error err;     ///< why the job never ran
};

} // namespace actio::detail
