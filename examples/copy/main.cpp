// actio-copy: copies a file through the file service, as messages.
//
// Shows: file operations as requests to an actor (open, read_at, write_at,
// fsync, stat, close), a window of pipelined reads and writes, and errors
// that arrive as typed completions (missing source, DST is a directory, no
// space, file too large) instead of crashes or signals.
//
// Run:   build/bin/actio-copy SRC DST [--chunk=1048576] [--depth=8]
//                                     [--backend=uring|epoll]
// Try:   head -c 100M /dev/urandom > /tmp/a && build/bin/actio-copy /tmp/a /tmp/b
//        && cmp /tmp/a /tmp/b
// On a terminal it draws a progress bar (bytes, rate, ETA); otherwise it
// prints one summary line. Exit status 0 on success, 1 on any error.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/errc.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/io/file_service.hpp"
#include "copy_progress.hpp"

namespace {

using namespace actio;
using clock_type = std::chrono::steady_clock;

struct copy_config : actio::config {
  uint64_t chunk = 1024 * 1024;
  size_t depth = 8;
  std::string backend;
  copy_config() {
    opt_group{custom_options_, "global"}
      .add(chunk, "chunk", "bytes per read/write (default 1 MiB)")
      .add(depth, "depth", "reads+writes in flight (default 8)")
      .add(backend, "backend", "I/O backend: uring, epoll (default auto)");
  }
};

struct copy_job {
  std::string src;
  std::string dst;
  uint64_t chunk;
  size_t depth;
  progress* bar;
};

/// The outcome: bytes copied, or the error.
using copy_result = caf::expected<uint64_t>;

/// Drives the copy: read window -> writes -> fsync -> size check -> close.
caf::behavior copier(caf::event_based_actor* self, caf::actor files,
                     copy_job job, std::promise<copy_result>* done) {
  struct state {
    uint64_t in = 0, out = 0, size = 0;
    uint64_t next = 0;    // next offset to read
    uint64_t written = 0; // bytes acknowledged by write_at
    size_t in_flight = 0;
    bool failed = false;
  };
  auto st = std::make_shared<state>();
  auto fail = [=](const caf::error& err) {
    if (st->failed)
      return;
    st->failed = true;
    done->set_value(err);
    self->quit();
  };
  auto finish = [=] {
    self->request(files, caf::infinite, io::fsync_atom::value, st->out, false)
      .then([=]() {
        self->request(files, caf::infinite, io::stat_atom::value, st->out)
          .then([=](uint64_t dst_size) {
            if (dst_size != st->size) {
              fail(make_actio_error(errc::system_error,
                                    "size check: " + job.dst + " has "
                                      + std::to_string(dst_size)
                                      + " bytes, expected "
                                      + std::to_string(st->size)));
              return;
            }
            self->request(files, caf::infinite, io::close_atom::value, st->in)
              .then([]() {}, [](caf::error&) {}); // read side: nothing to lose
            self->request(files, caf::infinite, io::close_atom::value, st->out)
              .then([=]() {
                done->set_value(st->written);
                self->quit();
              }, fail);
          }, fail);
      }, fail);
  };
  auto pump = std::make_shared<std::function<void()>>();
  *pump = [=] {
    while (!st->failed && st->in_flight < job.depth && st->next < st->size) {
      auto off = st->next;
      auto len = std::min(job.chunk, st->size - off);
      st->next += len;
      ++st->in_flight;
      self->request(files, caf::infinite, io::read_atom::value, st->in, off, len)
        .then([=](byte_buffer& data) {
          if (data.size() != len) { // the source shrank under us
            fail(make_actio_error(errc::system_error,
                                  "read_at " + job.src + ": file shrank while copying"));
            return;
          }
          self->request(files, caf::infinite, io::write_atom::value, st->out,
                        off, std::move(data))
            .then([=](uint64_t n) {
              st->written += n;
              --st->in_flight;
              if (job.bar != nullptr)
                job.bar->update(st->written);
              if (st->written == st->size)
                finish();
              else
                (*pump)();
            }, fail);
        }, fail);
    }
  };
  self->request(files, caf::infinite, io::open_atom::value, job.src, O_RDONLY,
                uint32_t{0})
    .then([=](uint64_t in) {
      st->in = in;
      self->request(files, caf::infinite, io::stat_atom::value, in)
        .then([=](uint64_t size) {
          st->size = size;
          if (job.bar != nullptr)
            job.bar->start(size);
          self->request(files, caf::infinite, io::open_atom::value, job.dst,
                        O_WRONLY | O_CREAT | O_TRUNC, uint32_t{0644})
            .then([=](uint64_t out) {
              st->out = out;
              if (size == 0)
                finish();
              else
                (*pump)();
            }, fail);
        }, fail);
    }, fail);
  self->attach_functor([pump] { *pump = nullptr; }); // break the cycle
  return {};
}

} // namespace

int main(int argc, char** argv) {
  cli::tool tool{"actio-copy", "SRC DST",
                 "Copy the file SRC to DST through Actio's file service."};
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
  sys.spawn(copier, files, copy_job{args[0], args[1], cfg.chunk, cfg.depth,
                                    tty ? &bar : nullptr},
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
