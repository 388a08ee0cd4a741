#pragma once

/// File I/O as a driver offers it (`driver::files()`): open, positional
/// read and write, sync, stat, close, cancel. Three implementations:
///
/// | implementation | where | used by |
/// |---|---|---|
/// | io_uring ops on the driver's own ring | drivers/uring/uring_files.cpp | uring |
/// | blocking calls on helper threads | drivers/detail/file_pool.hpp | epoll, kqueue |
/// | POSIX AIO | drivers/aio/aio_files.hpp | aio (with epoll or kqueue networking) |
///
/// The last two are *engines* (drivers/detail/file_engine.hpp) that a
/// readiness driver hosts; io_uring's file operations share the ring with
/// the sockets, so the uring driver is its own file backend.
///
/// Rules every implementation keeps, as the driver's socket calls do:
/// - driver thread only;
/// - every request completes exactly once through `rp`: the value, or an
///   `actio` error naming the operation, the path and the OS reason; also on
///   close, cancel and shutdown;
/// - no completion is delivered from inside a request call;
/// - buffers stay with the backend until the kernel is done with them, also
///   when the requester is gone.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/types.hpp"

namespace actio {

/// What `file_backend::dup_file` returns.
struct dup_file_result {
  int fd = -1;      ///< the caller's to close
  std::string path; ///< the path the file was opened with
};

class file_backend {
public:
  virtual ~file_backend();

  /// openat(path, flags | O_CLOEXEC, mode) -> file_id (uint64_t).
  virtual void open_file(std::string path, int flags, unsigned mode,
                         caf::response_promise rp) = 0;

  /// Reads `len` bytes at `offset` -> byte_buffer (shorter only at EOF).
  /// With `offset == stream_offset`: one read at the current position, for
  /// pipes and terminals; shorter whenever less is there, empty at EOF.
  virtual void read_at(file_id file, uint64_t offset, size_t len, op_id id,
                       caf::response_promise rp) = 0;

  /// Reads `len` bytes at each of `offsets` -> std::vector<byte_buffer>,
  /// one per offset in their order, each shorter only at EOF. One answer
  /// for the whole batch, after every read of it finished: all buffers, or
  /// the first error (a read that failed, `errc::cancelled` at shutdown).
  /// For many small reads: the kernel gets them together and the requester
  /// one message (not cancellable; callers bound the batch, see
  /// io/file_service.hpp). Empty `offsets` or `len == 0`: empty buffers.
  virtual void read_batch(file_id file, std::vector<uint64_t> offsets,
                          size_t len, caf::response_promise rp) = 0;

  /// Writes all of `buf` at `offset` -> uint64_t bytes written.
  virtual void write_at(file_id file, uint64_t offset, byte_buffer buf,
                        op_id id, caf::response_promise rp) = 0;

  /// fsync (or fdatasync) -> unit.
  virtual void sync_file(file_id file, bool datasync,
                         caf::response_promise rp) = 0;

  /// Size of the file -> uint64_t.
  virtual void stat_file(file_id file, caf::response_promise rp) = 0;

  /// Closes after in-flight operations finished -> unit. Later requests on
  /// `file` fail with `errc::closed`.
  virtual void close_file(file_id file, caf::response_promise rp) = 0;

  /// Cancels the in-flight read_at/write_at `id`: it completes with
  /// `errc::cancelled` (or its result, if the kernel was faster). Returns
  /// false if no such operation is in flight (or it can no longer be
  /// cancelled: the blocking pool cancels only what has not started).
  virtual bool cancel_file_op(op_id id) = 0;

  /// A second descriptor of the open file `file` (fcntl F_DUPFD_CLOEXEC),
  /// which the caller owns and closes, and the file's path for error
  /// texts; `errc::closed` if `file` is not open (or closing), the OS
  /// error (EMFILE) if the dup fails. For work that has to run a blocking
  /// call on the file outside the backend (copy_file_range on a helper
  /// thread, io/file_copy.hpp): the descriptor stays valid whatever the
  /// backend does with its own, so a close or a shutdown cannot make the
  /// call hit a reused descriptor number. Unlike the calls above it
  /// answers at once, by its return value.
  virtual caf::expected<dup_file_result> dup_file(file_id file,
                                                  const char* what) = 0;
};

} // namespace actio

/// Declares every `file_backend` override inside an implementing class
/// (file_pool, aio_files, uring_driver): the interface is listed once,
/// here, so an implementation cannot drift from it, and the contracts are
/// read above rather than in three copies. Each implementation's header
/// says only what differs (e.g. which operations can be cancelled).
#define ACTIO_FILE_BACKEND_OVERRIDES                                           \
  void open_file(std::string path, int flags, unsigned mode,                   \
                 caf::response_promise rp) override;                           \
  void read_at(actio::file_id file, uint64_t offset, size_t len,               \
               actio::op_id id, caf::response_promise rp) override;            \
  void read_batch(actio::file_id file, std::vector<uint64_t> offsets,          \
                  size_t len, caf::response_promise rp) override;              \
  void write_at(actio::file_id file, uint64_t offset, actio::byte_buffer buf,  \
                actio::op_id id, caf::response_promise rp) override;           \
  void sync_file(actio::file_id file, bool datasync,                           \
                 caf::response_promise rp) override;                           \
  void stat_file(actio::file_id file, caf::response_promise rp) override;      \
  void close_file(actio::file_id file, caf::response_promise rp) override;     \
  bool cancel_file_op(actio::op_id id) override;                               \
  caf::expected<actio::dup_file_result> dup_file(actio::file_id file,          \
                                                 const char* what) override
