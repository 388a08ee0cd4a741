#include "actio/io/file_copy.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "actio/drivers/detail/blocking_pool.hpp"
#include "actio/drivers/errc.hpp"

namespace actio::io {

namespace {

constexpr size_t fallback_chunk = 256 * 1024;
constexpr uint64_t max_call = uint64_t{1} << 30; // per copy_file_range call

/// Errors copy_file_range gives where a plain read/write copy still works:
/// EXDEV (different file system kinds), ENOSYS (old kernel), EOPNOTSUPP
/// and EINVAL (file system or file kind without it), EPERM (some
/// overlay/immutable cases), EBADF (e.g. an O_APPEND destination).
bool falls_back(int err) {
  return err == EXDEV || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL
         || err == EPERM || err == EBADF;
}

/// pread/pwrite until `len` bytes or the input's end.
uint64_t copy_through_buffer(int in_fd, uint64_t in_off, int out_fd,
                             uint64_t out_off, uint64_t len, int& err) {
  std::unique_ptr<std::byte[]> buf{new (std::nothrow) std::byte[fallback_chunk]};
  if (!buf) {
    err = ENOMEM;
    return 0;
  }
  uint64_t done = 0;
  while (done < len) {
    auto want = static_cast<size_t>(std::min<uint64_t>(len - done, fallback_chunk));
    auto n = ::pread(in_fd, buf.get(), want, static_cast<off_t>(in_off + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = errno;
      return 0;
    }
    if (n == 0)
      break; // the input's end
    size_t put = 0;
    while (put < static_cast<size_t>(n)) {
      auto w = ::pwrite(out_fd, buf.get() + put, static_cast<size_t>(n) - put,
                        static_cast<off_t>(out_off + done + put));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        err = w < 0 ? errno : EIO; // 0: not for regular files; never spin
        return 0;
      }
      put += static_cast<size_t>(w);
    }
    done += static_cast<uint64_t>(n);
  }
  return done;
}

/// One queued copy: the descriptors (closed with the job), the outcome
/// (worker) and the promise (driver thread).
struct copy_job final : blocking_job {
  copy_job(copy_range_args a, caf::response_promise p)
    : args(std::move(a)), rp(std::move(p)) {
  }

  ~copy_job() override {
    if (args.in_fd >= 0)
      ::close(args.in_fd);
    if (args.out_fd >= 0)
      ::close(args.out_fd);
  }

  void run() noexcept override {
    copied = copy_file_bytes(args.in_fd, args.in_offset, args.out_fd,
                             args.out_offset, args.len, sys_err);
  }

  void complete() override {
    if (!rp.pending())
      return;
    if (sys_err != 0)
      rp.deliver(make_path_error("copy_range", args.in_path + " -> " + args.out_path,
                                 sys_err));
    else
      rp.deliver(copied);
  }

  /// Stop: the job never runs, or its worker's result is dropped.
  void cancel(const char* why) {
    if (rp.pending())
      rp.deliver(make_actio_error(errc::cancelled, "copy_range " + args.in_path
                                                     + " -> " + args.out_path
                                                     + ": cancelled" + why));
  }

  copy_range_args args;
  caf::response_promise rp; // driver thread only
  uint64_t copied = 0;      // worker, then driver thread
  int sys_err = 0;
};

} // namespace

uint64_t copy_file_bytes(int in_fd, uint64_t in_offset, int out_fd,
                         uint64_t out_offset, uint64_t len, int& err,
                         bool* used_kernel_copy) noexcept {
  err = 0;
  if (used_kernel_copy != nullptr)
    *used_kernel_copy = false;
  if (len == 0)
    return 0;
  uint64_t done = 0;
#if defined(__linux__) || defined(__FreeBSD__)
  auto in_pos = static_cast<off_t>(in_offset);
  auto out_pos = static_cast<off_t>(out_offset);
  while (done < len) {
    auto want = static_cast<size_t>(std::min(len - done, max_call));
    auto n = ::copy_file_range(in_fd, &in_pos, out_fd, &out_pos, want, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      if (done == 0 && falls_back(errno))
        break; // to the buffer copy below
      err = errno;
      return 0;
    }
    if (n == 0) {
      if (done == 0)
        break; // the end, or a file that reports no size: read to be sure
      if (used_kernel_copy != nullptr)
        *used_kernel_copy = true;
      return done; // the input's end
    }
    done += static_cast<uint64_t>(n);
  }
  if (done > 0) {
    if (used_kernel_copy != nullptr)
      *used_kernel_copy = true;
    return done;
  }
#endif
  return copy_through_buffer(in_fd, in_offset, out_fd, out_offset, len, err);
}

file_copier::file_copier(std::function<void()> wake, size_t threads)
  : pool_(std::make_unique<blocking_pool>(std::move(wake),
                                          std::max<size_t>(threads, 1))) {
}

file_copier::~file_copier() {
  stop();
}

void file_copier::start(copy_range_args args, caf::response_promise rp) {
  auto job = std::make_shared<copy_job>(std::move(args), std::move(rp));
  if (pool_->submit(job))
    return;
  // Not even one worker could start: answered now (by the job's promise;
  // its descriptors close with it).
  job->sys_err = EAGAIN;
  job->complete();
}

size_t file_copier::drain() {
  return pool_->drain();
}

void file_copier::stop() {
  auto left = pool_->stop();
  for (auto& j : left.queued)
    static_cast<copy_job&>(*j).cancel(", file service stopped");
  for (auto& j : left.abandoned)
    static_cast<copy_job&>(*j).cancel(", file service stopped while it ran");
  pool_->drain(); // what finished before the stop
}

size_t file_copier::pending() const {
  return pool_->pending();
}

} // namespace actio::io
