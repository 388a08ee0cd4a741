// The file pool's jobs, worker side: the blocking syscalls of each
// operation (file_job.hpp), with EINTR, short transfers and EOF handled.

#include "actio/drivers/detail/file_job.hpp"
#include "actio/drivers/detail/pread_all.hpp"

#include <cerrno>
#include <new>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace actio {

namespace {

using detail::file_job;
using detail::file_op;

// -- blocking syscalls (worker threads) ---------------------------------------

void do_open(file_job& j) {
  int fd;
  do
    fd = ::openat(AT_FDCWD, j.path.c_str(), j.flags | O_CLOEXEC,
                  static_cast<mode_t>(j.mode));
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    j.sys_err = errno;
  else
    j.fd = fd;
}

/// pread until `len` bytes or EOF; on error the partial data is dropped.
/// Offset `stream_offset`: one read(2) at the current position (pipes,
/// terminals), which returns what is there.
void do_read(file_job& j) {
  if (j.offset == stream_offset) {
    j.buf.resize(j.len);
    for (;;) {
      auto n = ::read(j.fd, j.buf.data(), j.len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        j.sys_err = errno;
        j.buf = byte_buffer{};
        return;
      }
      j.buf.resize(static_cast<size_t>(n));
      return;
    }
  }
  j.sys_err = detail::pread_all(j.fd, j.offset, j.len, j.buf);
}

/// Each offset as `do_read` would read it, one after the other on this
/// worker (other batches run on the other workers); the first error ends
/// the batch.
void do_read_batch(file_job& j) {
  j.sys_err = detail::pread_batch(j.fd, j.offsets, j.len, j.bufs);
}

/// pwrite until all of `buf` is written; short writes continue where they
/// stopped.
void do_write(file_job& j) {
  size_t done = 0;
  while (done < j.buf.size()) {
    auto n = ::pwrite(j.fd, j.buf.data() + done, j.buf.size() - done,
                      static_cast<off_t>(j.offset + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      j.sys_err = errno;
      break;
    }
    if (n == 0) { // not for regular files; do not spin on it
      j.sys_err = EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  j.value = done;
  j.buf = byte_buffer{}; // the data is with the kernel: free it now
}

void do_sync(file_job& j) {
  int rc;
  do
    rc = j.datasync ? ::fdatasync(j.fd) : ::fsync(j.fd);
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    j.sys_err = errno;
}

void do_stat(file_job& j) {
  struct stat st {};
  if (::fstat(j.fd, &st) < 0)
    j.sys_err = errno;
  else
    j.value = static_cast<uint64_t>(st.st_size);
}

/// On Linux the descriptor is gone after close(2) whatever it returns;
/// EINTR is not a failure worth reporting (retrying could close a reused fd).
/// Runs once every other job on the file was delivered, so nobody else
/// uses the descriptor any more.
void do_close(file_job& j) {
  auto fd = std::exchange(j.file->fd, -1);
  if (::close(fd) < 0 && errno != EINTR)
    j.sys_err = errno;
}

} // namespace

/// Runs the job's syscalls on the calling thread. Never throws: running out
/// of memory for a read buffer is reported as ENOMEM.
void detail::file_job::run() noexcept {
  auto& j = *this;
  if (j.file != nullptr && j.kind != file_op::open)
    j.fd = j.file->fd;
  try {
    switch (j.kind) {
      case file_op::open: do_open(j); break;
      case file_op::read: do_read(j); break;
      case file_op::write: do_write(j); break;
      case file_op::sync: do_sync(j); break;
      case file_op::stat: do_stat(j); break;
      case file_op::close: do_close(j); break;
      case file_op::read_batch: do_read_batch(j); break;
    }
  } catch (const std::bad_alloc&) {
    j.sys_err = ENOMEM;
  } catch (const std::length_error&) {
    j.sys_err = ENOMEM; // len beyond what a vector can hold
  }
}

} // namespace actio
