#pragma once

/// Copies between two open files on helper threads, for the file service's
/// `file_copy_atom` (file_service.hpp): copy_file_range(2), so the bytes
/// move inside the kernel (no copy through user space; a reflink where the
/// file system shares extents), with a pread/pwrite fallback where the
/// kernel refuses (across file systems of different kinds, special files,
/// no copy_file_range), as `cp` and Tokio's `fs::copy` do.
///
/// No backend has a non-blocking copy_file_range (io_uring has no such
/// opcode; epoll cannot wait for a regular file), so every backend runs it
/// here, the same way:
/// - the file service (its driver thread) asks the backend for a second
///   descriptor of each file (`file_backend::dup_file`) and queues a job;
///   a worker (at most `threads`, started on demand, `blocking_pool`) runs
///   the copy on those descriptors and closes them when done, so a
///   `file_close_atom` or a shutdown in the meantime cannot make it write
///   into a reused descriptor number;
/// - the worker `wake`s the service (a message), which `drain`s: each job is
///   answered on the driver thread, exactly once: the bytes copied, or an
///   `actio` error "copy_range SRC -> DST: <reason>";
/// - `stop()` (the service exits) answers what is queued or running with
///   `errc::cancelled`; a running call finishes on its worker, which then
///   drops its result.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <memory>

#include <caf/response_promise.hpp>

namespace actio {
class blocking_pool; // drivers/detail/blocking_pool.hpp
} // namespace actio

namespace actio::io {

/// One copy's arguments: two descriptors the job owns (closes) and where.
struct copy_range_args {
  int in_fd = -1;
  int out_fd = -1;
  std::string in_path;  ///< for error texts
  std::string out_path; ///< for error texts
  uint64_t in_offset = 0;
  uint64_t out_offset = 0;
  uint64_t len = 0;
};

/// The blocking copy itself (a worker runs it; tests call it directly):
/// copies up to `len` bytes and returns how many, fewer only where the
/// input ends; sets `err` to the errno of a failure (the bytes copied
/// before it are then reported as 0: the destination may hold some of the
/// range, as after a failed write). Falls back to pread/pwrite, in chunks
/// of 256 KiB, where copy_file_range fails before copying anything with
/// EXDEV, ENOSYS, EOPNOTSUPP, EINVAL, EPERM or EBADF, or copies nothing at
/// its first call (procfs and other files that report no size).
/// `used_kernel_copy` (if not null) says which path was taken.
uint64_t copy_file_bytes(int in_fd, uint64_t in_offset, int out_fd,
                         uint64_t out_offset, uint64_t len, int& err,
                         bool* used_kernel_copy = nullptr) noexcept;

class file_copier {
public:
  /// @param wake called from a worker (under the pool's lock: cheap, no
  ///        call back into this object) when a job finished; the owner then
  ///        calls `drain()` on its own thread.
  /// @param threads most copies running at once (helper threads, started
  ///        on demand; at least one).
  explicit file_copier(std::function<void()> wake, size_t threads = 2);

  /// `stop()`.
  ~file_copier();

  file_copier(const file_copier&) = delete;
  file_copier& operator=(const file_copier&) = delete;

  /// Queues one copy; `rp` gets the bytes copied or the error. Takes the
  /// descriptors in `args` in every case (closed when the job ends, or at
  /// once if no worker can start: then `rp` gets EAGAIN).
  void start(copy_range_args args, caf::response_promise rp);

  /// Answers every finished job. Returns how many.
  size_t drain();

  /// Answers every queued and running job with `errc::cancelled`. Usable
  /// again afterwards.
  void stop();

  /// Jobs queued or running. For tests.
  size_t pending() const;

private:
  std::unique_ptr<blocking_pool> pool_;
};

} // namespace actio::io
