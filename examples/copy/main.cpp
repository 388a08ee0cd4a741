// actio-copy: copies a file through the file service, as messages.
//
// Shows: file operations as requests to an actor (open, copy_range,
// read_at, write_at, fsync, stat, close), a window of pipelined requests,
// and errors that arrive as typed completions (missing source, no space,
// file too large) instead of crashes or signals.
//
// Between regular files the bytes move inside the kernel: one copy_range
// request per chunk (copy_file_range on the file service's helper threads,
// as cp does; a read/write fallback where the kernel refuses). Pipes,
// devices and --read-write go through read_at and write_at requests, the
// data passing through this process as messages.
//
// Run:   build/bin/actio-copy SRC DST|DIR [--chunk=BYTES] [--depth=N]
//                                 [--backend=uring|epoll] [--sync]
//                                 [--read-write]
// Try:   head -c 100M /dev/urandom > /tmp/a && build/bin/actio-copy /tmp/a /tmp/b
//        && cmp /tmp/a /tmp/b
// Like cp: refuses SRC and DST being the same file and a directory SRC
// before opening anything for writing, copies into DIR, gives a new file
// SRC's permission bits, reads pipes and devices to their end, and leaves
// the data to the page cache unless --sync (copier.hpp, copy_target.hpp).
// On a terminal it draws a progress bar (bytes, rate, ETA); otherwise it
// prints one summary line. Exit status 0 on success, 1 on a failure, 2 on
// a usage error.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/pinned.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "copier.hpp"
#include "copy_progress.hpp"
#include "copy_target.hpp"

namespace {

using namespace actio;
using clock_type = std::chrono::steady_clock;

// copy_range: one large request at a time. Two copies into one file at
// once only contend for its inode lock (measured on ext4: more kernel time,
// less throughput), and a request per 64 MiB costs nothing next to it.
constexpr uint64_t copy_range_chunk = 64 * 1024 * 1024;
constexpr size_t copy_range_depth = 1;
// read/write: the bytes pass through messages; several in flight overlap
// reading and writing.
constexpr uint64_t read_write_chunk = 1024 * 1024;
constexpr size_t read_write_depth = 8;

struct copy_config : actio::config {
  uint64_t chunk = 0; // 0: the method's default (above)
  size_t depth = 0;
  std::string backend;
  bool sync = false;
  bool read_write = false;
  copy_config() {
    opt_group{custom_options_, "global"}
      .add(chunk, "chunk",
           "bytes per request (default 64 MiB with copy_range, 1 MiB with "
           "--read-write)")
      .add(depth, "depth",
           "requests in flight (default 1 with copy_range, 8 with "
           "--read-write)")
      .add(backend, "backend", "I/O backend: uring, epoll (default auto)")
      .add(sync, "sync", "fsync DST before reporting success")
      .add(read_write, "read-write",
           "copy through read and write requests, not copy_range");
  }
};

} // namespace

int main(int argc, char** argv) {
  cli::tool tool{"actio-copy", "SRC DST",
                 "Copy the file SRC to DST (or into the directory DST) through "
                 "Actio's file service."};
  copy_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv))
    return *status;
  auto& args = cfg.remainder;
  if (auto status = tool.check_operands(args, {"file", "destination file"}))
    return *status;
  // Refusals (same file, directory source) before anything is opened.
  auto target = resolve_copy_target(args[0], args[1]);
  if (!target) {
    std::cerr << "actio-copy: " << describe(target.error()) << '\n';
    return 1;
  }
  if (!cfg.backend.empty())
    caf::put(cfg.content, "actio.io.backend", cfg.backend);
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-copy: " << describe(rt.error()) << '\n';
    return 1;
  }
  // The copier is pinned to the file service's driver thread: requests and
  // answers stay on that thread, and CAF's scheduler threads stay idle
  // (a scheduled copier kept one polling beside the copy).
  auto& unit = (*rt)->next_unit();
  auto files = io::spawn_file_service(unit);
  bool tty = ::isatty(STDOUT_FILENO) == 1;
  progress bar{std::cout};
  std::promise<copy_result> done;
  auto result_future = done.get_future();
  auto start = clock_type::now();
  bool kernel_copy = !cfg.read_write && !target->stream && target->dst_regular;
  auto chunk = cfg.chunk != 0 ? cfg.chunk
               : kernel_copy  ? copy_range_chunk
                              : read_write_chunk;
  auto depth = cfg.depth != 0 ? cfg.depth
               : kernel_copy  ? copy_range_depth
                              : read_write_depth;
  copy_job job{args[0], std::move(*target), chunk, depth, cfg.sync,
               kernel_copy, tty ? &bar : nullptr};
  spawn_pinned_fn(unit, [files, job = std::move(job), &done](pinned_actor* self) {
    return copier(self, files, job, &done);
  });
  auto result = result_future.get();
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  if (tty)
    bar.finish();
  int status = 0;
  if (!result) {
    std::cerr << "actio-copy: " << describe(result.error()) << '\n';
    status = 1;
  } else {
    std::cout << "actio-copy: copied " << *result << " bytes in "
              << format_duration(secs) << " (" << format_rate(*result, secs)
              << ") via " << (*rt)->backend_name()
              << (kernel_copy ? " (copy_range)" : " (read/write)") << ", chunk "
              << format_bytes(chunk) << ", depth " << depth
              << std::endl;
  }
  caf::anon_send_exit(files, caf::exit_reason::user_shutdown);
  (*rt)->shutdown();
  return status;
}
