// actio-copy: copies a file through the file service, as messages.
//
// Shows: file operations as requests to an actor (open, read_at, write_at,
// fsync, stat, close), a window of pipelined reads and writes, and errors
// that arrive as typed completions (missing source, no space, file too
// large) instead of crashes or signals.
//
// Run:   build/bin/actio-copy SRC DST|DIR [--chunk=1048576] [--depth=8]
//                                 [--backend=uring|epoll] [--sync]
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
#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "copier.hpp"
#include "copy_progress.hpp"
#include "copy_target.hpp"

namespace {

using namespace actio;
using clock_type = std::chrono::steady_clock;

struct copy_config : actio::config {
  uint64_t chunk = 1024 * 1024;
  size_t depth = 8;
  std::string backend;
  bool sync = false;
  copy_config() {
    opt_group{custom_options_, "global"}
      .add(chunk, "chunk", "bytes per read/write (default 1 MiB)")
      .add(depth, "depth", "reads+writes in flight (default 8)")
      .add(backend, "backend", "I/O backend: uring, epoll (default auto)")
      .add(sync, "sync", "fsync DST before reporting success");
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
  if (cfg.chunk == 0)
    return tool.bad_value("--chunk", "0", "a positive integer");
  if (cfg.depth == 0)
    return tool.bad_value("--depth", "0", "a positive integer");
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
  auto files = io::spawn_file_service(**rt);
  bool tty = ::isatty(STDOUT_FILENO) == 1;
  progress bar{std::cout};
  std::promise<copy_result> done;
  auto result_future = done.get_future();
  auto start = clock_type::now();
  sys.spawn(copier, files,
            copy_job{args[0], std::move(*target), cfg.chunk, cfg.depth,
                     cfg.sync, tty ? &bar : nullptr},
            &done);
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
              << ") via " << (*rt)->backend_name() << ", chunk "
              << format_bytes(cfg.chunk) << ", depth " << cfg.depth
              << std::endl;
  }
  caf::anon_send_exit(files, caf::exit_reason::user_shutdown);
  (*rt)->shutdown();
  return status;
}
