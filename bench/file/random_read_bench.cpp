// actio-file-bench: 4 KiB random reads from one file, at a fixed depth, two
// ways in the same run, and how close actio gets to the plain loop.
//
//  (a) liburing: one ring, D reads in flight; every completion immediately
//      resubmits a read at a new random 4 KiB-aligned offset. No actio.
//  (b) actio: `actio::runtime` + `actio::io::spawn_file_service`; an ordinary
//      CAF event-based actor keeps D `(read_atom, file, offset, 4096)`
//      requests in flight (a new one on each response) and checks that every
//      response carries 4096 bytes; then the same pinned to the service's
//      driver; then an ordinary actor sending batch requests of B reads
//      (`(read_atom, file, offsets, 4096)`, D/B of them in flight,
//      batch_reader.hpp).
//
// Both count completions for T seconds and draw offsets from the same
// generator: in-flight slot i uses splitmix64 seeded with (seed, i), so both
// sides read the same offsets in the same per-slot order. Reads hit the page
// cache (the file is read once before measuring), so this measures the cost
// per operation of each path, not the disk.
//
// Run:   build/bin/actio-file-bench [--file PATH] [--size 256M]
//            [--duration 5] [--depth 32] [--batch 16]
//            [--backend uring|epoll|aio] [--seed N]
//            [--only liburing|actio] [--actio.io.drivers N]
//            [--scheduler.policy sharing] [...]
// Without --file it creates (or reuses, if it has the right size)
// ./bench-random.dat of --size bytes of non-zero data. Prints IOPS, MiB/s
// and process CPU per read for each and `ratio <reader>/liburing IOPS: X.XX
// (target >= 0.80), CPU/read Y.YY`.
// Exit status: 0 after a complete run (whatever the ratio), 1 on an I/O or
// start-up error, 2 on bad options.

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actio/actors/cli/values.hpp"
#include "actio/actors/config.hpp"
#include "actio/actors/pinned.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "batch_reader.hpp"
#include "read_bench_common.hpp"

namespace {

using namespace read_bench;

constexpr const char* default_file = "bench-random.dat";

// -- options -------------------------------------------------------------------

struct options {
  std::string file;               // empty: create default_file
  uint64_t size = 256ull << 20;   // only for the created file
  double duration = 5.0;          // seconds per side
  size_t depth = 32;
  size_t batch = 16;              // reads per batch request
  std::string backend;            // actio's side; empty = auto
  uint64_t seed = 42;
  std::string only;               // "liburing" or "actio": run one side
  std::vector<std::string> actio_args; // --group.name options, for CAF
};

const actio::cli::tool tool{"actio-file-bench", "",
                            "4 KiB random reads at a fixed depth: plain "
                            "liburing loop vs. actio's\nfile service, in the "
                            "same run."};

void usage() {
  tool.print_help(
    std::string{"  --file PATH      file to read (default: create ./"} + default_file
    + "\n"
      "                   of --size bytes, or reuse it if it has that size)\n"
      "  --size N         size of the created file, suffixes K M G (default 256M)\n"
      "  --duration T     seconds per side, suffix s or ms allowed (default 5)\n"
      "  --depth D        reads in flight (default 32)\n"
      "  --batch B        reads per batch request of the batched reader\n"
      "                   (default 16: depth/B batches in flight)\n"
      "  --backend B      actio's backend: uring, epoll, aio, auto (default auto)\n"
      "  --seed N         offset generator seed (default 42)\n"
      "  --only SIDE      run one side only: liburing or actio (for profiling)\n"
      "  --actio.io.*     actio's options (e.g. --actio.io.drivers 2)\n"
      "  --scheduler.*, --work-stealing.*\n"
      "                   CAF's scheduler options (e.g. --scheduler.policy sharing)\n");
}

std::optional<uint64_t> parse_size(const std::string& s) {
  if (s.empty())
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  auto v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str())
    return std::nullopt;
  std::string suffix{end};
  uint64_t mult = 1;
  if (suffix.empty() || suffix == "B")
    mult = 1;
  else if (suffix == "K" || suffix == "k" || suffix == "KiB")
    mult = 1ull << 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB")
    mult = 1ull << 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB")
    mult = 1ull << 30;
  else
    return std::nullopt;
  return v * mult;
}

std::optional<double> parse_seconds(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  auto v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || !(v > 0))
    return std::nullopt;
  std::string suffix{end};
  if (suffix.empty() || suffix == "s")
    return v;
  if (suffix == "ms")
    return v / 1000.0;
  return std::nullopt;
}

/// 0: run, 1: --help or --version printed, 2: error (printed).
int parse_options(int argc, char** argv, options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage();
      return 1;
    }
    if (arg == "--version") {
      tool.print_version();
      return 1;
    }
    if (arg.empty() || arg[0] != '-')
      return tool.usage_error("extra operand '" + arg + "'");
    // --group.name[=value]: actio's and CAF's own options (actio.io.*,
    // scheduler.*, work-stealing.*), handed to CAF's parser below.
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0
        && arg.substr(0, arg.find('=')).find('.') != std::string::npos) {
      opt.actio_args.push_back(arg);
      if (arg.find('=') == std::string::npos && i + 1 < argc
          && std::string_view{argv[i + 1]}.substr(0, 2) != "--")
        opt.actio_args.emplace_back(argv[++i]);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto take = [&]() -> std::optional<std::string> {
      if (value)
        return value;
      if (i + 1 < argc)
        return std::string{argv[++i]};
      tool.missing_argument(name);
      return std::nullopt;
    };
    auto bad = [&](const std::string& v, std::string_view expected) {
      return tool.bad_value(name, v, expected);
    };
    static const std::string_view known[] = {"--file",    "--size",
                                             "--duration", "--depth",
                                             "--batch", "--backend", "--only",
                                             "--seed"};
    if (std::find(std::begin(known), std::end(known), name) == std::end(known))
      return tool.unrecognized_option(arg);
    if (name == "--file") {
      auto v = take();
      if (!v || v->empty())
        return v ? bad(*v, "a file name") : 2;
      opt.file = *v;
    } else if (name == "--size") {
      auto v = take();
      if (!v)
        return 2;
      auto n = parse_size(*v);
      if (!n || *n < block)
        return bad(*v, "a size of at least 4K (suffixes K M G)");
      opt.size = *n;
    } else if (name == "--duration") {
      auto v = take();
      if (!v)
        return 2;
      auto t = parse_seconds(*v);
      if (!t)
        return bad(*v, "a positive duration (seconds, or suffix s or ms)");
      opt.duration = *t;
    } else if (name == "--depth") {
      auto v = take();
      if (!v)
        return 2;
      auto n = parse_size(*v);
      if (!n || *n == 0 || *n > 4096)
        return bad(*v, actio::cli::integer_range(1, 4096));
      opt.depth = static_cast<size_t>(*n);
    } else if (name == "--batch") {
      auto v = take();
      if (!v)
        return 2;
      auto n = parse_size(*v);
      if (!n || *n == 0 || *n > 4096)
        return bad(*v, actio::cli::integer_range(1, 4096));
      opt.batch = static_cast<size_t>(*n);
    } else if (name == "--backend") {
      auto v = take();
      if (!v)
        return 2;
      if (*v != "uring" && *v != "epoll" && *v != "aio" && *v != "auto")
        return bad(*v, "a backend: uring, epoll, aio or auto");
      opt.backend = *v == "auto" ? std::string{} : *v;
    } else if (name == "--only") {
      auto v = take();
      if (!v)
        return 2;
      if (*v != "liburing" && *v != "actio")
        return bad(*v, "'liburing' or 'actio'");
      opt.only = *v;
    } else if (name == "--seed") {
      auto v = take();
      if (!v)
        return 2;
      auto n = parse_size(*v);
      if (!n)
        return bad(*v, "a non-negative integer");
      opt.seed = *n;
    }
  }
  return 0;
}

// -- the file ------------------------------------------------------------------

bool create_file(const std::string& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::cerr << "actio-file-bench: create " << path << ": "
              << std::strerror(errno) << '\n';
    return false;
  }
  std::vector<uint8_t> buf(1 << 20);
  uint64_t x = 0x243F6A8885A308D3ull;
  uint64_t done = 0;
  while (done < size) {
    for (auto& b : buf) {
      x ^= x << 13; // xorshift64; every byte forced non-zero
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<uint8_t>(x) | 1;
    }
    auto n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
    size_t off = 0;
    while (off < n) {
      auto w = ::write(fd, buf.data() + off, n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        std::cerr << "actio-file-bench: write " << path << ": "
                  << std::strerror(errno) << '\n';
        ::close(fd);
        return false;
      }
      off += static_cast<size_t>(w);
    }
    done += n;
  }
  ::close(fd);
  return true;
}

/// Reads the whole file once (page cache warm-up); its size, or nullopt.
std::optional<uint64_t> warm(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::cerr << "actio-file-bench: open " << path << ": "
              << std::strerror(errno) << '\n';
    return std::nullopt;
  }
  std::vector<uint8_t> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    auto n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      std::cerr << "actio-file-bench: read " << path << ": "
                << std::strerror(errno) << '\n';
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0)
      break;
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return total;
}

// -- (a) plain liburing ----------------------------------------------------------

std::optional<result> run_liburing(const std::string& path, uint64_t blocks,
                                   const options& opt) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::cerr << "liburing: open " << path << ": " << std::strerror(errno)
              << '\n';
    return std::nullopt;
  }
  io_uring ring;
  auto entries = static_cast<unsigned>(opt.depth < 8 ? 8 : opt.depth);
  if (auto rc = io_uring_queue_init(entries, &ring, 0); rc < 0) {
    std::cerr << "liburing: io_uring_queue_init: " << std::strerror(-rc)
              << '\n';
    ::close(fd);
    return std::nullopt;
  }
  void* mem = nullptr;
  if (posix_memalign(&mem, block, opt.depth * block) != 0) {
    std::cerr << "liburing: out of memory\n";
    io_uring_queue_exit(&ring);
    ::close(fd);
    return std::nullopt;
  }
  auto* bufs = static_cast<uint8_t*>(mem);
  std::vector<offset_gen> gens;
  for (size_t i = 0; i < opt.depth; ++i)
    gens.emplace_back(opt.seed, i, blocks);
  auto submit_read = [&](size_t slot) {
    auto* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) { // cannot happen: entries >= depth
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    io_uring_prep_read(sqe, fd, bufs + slot * block, block, gens[slot].next());
    io_uring_sqe_set_data64(sqe, slot);
  };
  result res;
  bool ok = true;
  auto cpu0 = process_cpu_seconds();
  auto start = clock_type::now();
  auto deadline = start + std::chrono::duration_cast<clock_type::duration>(
                            std::chrono::duration<double>(opt.duration));
  for (size_t i = 0; i < opt.depth; ++i)
    submit_read(i);
  size_t in_flight = opt.depth;
  bool stopping = false;
  while (in_flight > 0) {
    auto rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR) {
      std::cerr << "liburing: io_uring_submit_and_wait: " << std::strerror(-rc)
                << '\n';
      ok = false;
      break;
    }
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    auto now = clock_type::now();
    if (!stopping && now >= deadline) {
      stopping = true;
      res.seconds = std::chrono::duration<double>(now - start).count();
      res.cpu = process_cpu_seconds() - cpu0;
    }
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      auto slot = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
      --in_flight;
      if (cqe->res != static_cast<int>(block)) {
        if (ok)
          std::cerr << "liburing: read returned " << cqe->res
                    << (cqe->res < 0 ? std::string{" ("} + std::strerror(-cqe->res)
                                         + ")"
                                     : std::string{})
                    << ", expected " << block << '\n';
        ok = false;
        stopping = true;
        continue;
      }
      if (stopping)
        continue;
      ++res.reads;
      submit_read(slot);
      ++in_flight;
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  free(mem);
  ::close(fd);
  if (!ok)
    return std::nullopt;
  return res;
}

// -- (b) actio's file service ------------------------------------------------------

struct bench_config : actio::config {};

using actio_result = caf::expected<result>;

struct reader_job {
  std::string path;
  uint64_t blocks;
  size_t depth;
  uint64_t seed;
  double duration;
};

/// Opens the file, keeps `depth` reads in flight until the deadline, drains,
/// closes, reports.
template <class Self>
caf::behavior reader(Self* self, caf::actor files, reader_job job,
                     std::promise<actio_result>* done) {
  struct state {
    uint64_t file = 0;
    std::vector<offset_gen> gens;
    clock_type::time_point start;
    clock_type::time_point deadline;
    double cpu0 = 0;
    result res;
    size_t in_flight = 0;
    bool stopping = false;
    bool finished = false;
  };
  auto st = std::make_shared<state>();
  for (size_t i = 0; i < job.depth; ++i)
    st->gens.emplace_back(job.seed, i, job.blocks);
  auto finish = [=](actio_result r) {
    if (st->finished)
      return;
    st->finished = true;
    done->set_value(std::move(r));
    self->quit();
  };
  auto fail = [=](const caf::error& err) { finish(err); };
  // Runs once all reads are back: close, then report.
  auto drained = [=] {
    self->request(files, caf::infinite, actio::io::file_close_atom::value, st->file)
      .then([=]() { finish(st->res); }, fail);
  };
  auto issue = std::make_shared<std::function<void(size_t)>>();
  *issue = [=](size_t slot) {
    ++st->in_flight;
    self->request(files, caf::infinite, actio::io::file_read_atom::value, st->file,
                  st->gens[slot].next(), block)
      .then(
        [=](actio::byte_buffer& data) {
          --st->in_flight;
          if (data.size() != block) {
            st->stopping = true;
            fail(actio::make_actio_error(
              actio::errc::system_error,
              "read returned " + std::to_string(data.size()) + " bytes, expected "
                + std::to_string(block)));
            return;
          }
          if (!st->stopping) {
            auto now = clock_type::now();
            if (now < st->deadline) {
              ++st->res.reads;
              (*issue)(slot);
              return;
            }
            st->stopping = true;
            st->res.seconds =
              std::chrono::duration<double>(now - st->start).count();
            st->res.cpu = process_cpu_seconds() - st->cpu0;
          }
          if (st->in_flight == 0)
            drained();
        },
        [=](caf::error& err) {
          --st->in_flight;
          st->stopping = true;
          fail(err);
        });
  };
  self->request(files, caf::infinite, actio::io::file_open_atom::value, job.path,
                int{O_RDONLY}, uint32_t{0})
    .then(
      [=](uint64_t file) {
        st->file = file;
        st->cpu0 = process_cpu_seconds();
        st->start = clock_type::now();
        st->deadline =
          st->start + std::chrono::duration_cast<clock_type::duration>(
                        std::chrono::duration<double>(job.duration));
        for (size_t i = 0; i < job.depth; ++i)
          (*issue)(i);
      },
      fail);
  self->attach_functor([issue] { *issue = nullptr; }); // break the cycle
  return {};
}

// -- output ----------------------------------------------------------------------

void print_line(const std::string& label, const result& r) {
  std::printf("%-22s %11.0f IOPS  %9.1f MiB/s  %6.2f us CPU/read  "
              "(%llu reads in %.2f s)\n",
              (label + ":").c_str(), r.iops(), r.mib_per_s(),
              r.cpu_us_per_read(), static_cast<unsigned long long>(r.reads),
              r.seconds);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (auto rc = parse_options(argc, argv, opt); rc != 0)
    return rc == 1 ? 0 : 2;

  // actio's and CAF's configuration: --group.name options, CAF's parser.
  bench_config cfg;
  {
    std::vector<std::string> args{argv[0]};
    args.insert(args.end(), opt.actio_args.begin(), opt.actio_args.end());
    std::vector<char*> cargs;
    for (auto& a : args)
      cargs.push_back(a.data());
    if (auto status = cfg.parse_args(tool, static_cast<int>(cargs.size()),
                                     cargs.data()))
      return *status;
    if (auto status = tool.check_operands(cfg.remainder, {}))
      return *status;
  }
  if (!opt.backend.empty())
    caf::put(cfg.content, "actio.io.backend", opt.backend);

  // The file: given, or created; then read once so reads hit the page cache.
  std::string path = opt.file;
  if (path.empty()) {
    path = default_file;
    struct stat sb {};
    if (::stat(path.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)
        && static_cast<uint64_t>(sb.st_size) == opt.size) {
      std::printf("actio-file-bench: reusing %s\n", path.c_str());
    } else {
      std::printf("actio-file-bench: creating %s (%llu bytes)\n", path.c_str(),
                  static_cast<unsigned long long>(opt.size));
      std::fflush(stdout);
      if (!create_file(path, opt.size))
        return 1;
    }
  }
  auto size = warm(path);
  if (!size)
    return 1;
  uint64_t blocks = *size / block;
  if (blocks == 0) {
    std::cerr << "actio-file-bench: " << path << " is smaller than " << block
              << " bytes\n";
    return 1;
  }
  std::printf("actio-file-bench: %s, %.1f MiB (%llu blocks of 4 KiB), "
              "random 4 KiB reads, depth %zu, %.2f s per side, seed %llu\n",
              path.c_str(), static_cast<double>(*size) / (1024.0 * 1024.0),
              static_cast<unsigned long long>(blocks), opt.depth, opt.duration,
              static_cast<unsigned long long>(opt.seed));
  std::fflush(stdout);

  // (a) plain liburing.
  std::optional<result> base;
  if (opt.only != "actio") {
    base = run_liburing(path, blocks, opt);
    if (!base)
      return 1;
    print_line("liburing", *base);
  }
  if (opt.only == "liburing")
    return 0;

  // (b) actio's file service, three ways: the client as an ordinary actor
  // on CAF's scheduler (two thread hops per read), pinned to the file
  // service's driver thread (the pinned hot path: no hop, no wake-up), and
  // an ordinary actor sending batch requests (two hops per batch).
  enum class mode { scheduled, pinned, batched };
  std::vector<std::pair<std::string, result>> actio_res;
  for (auto m : {mode::scheduled, mode::pinned, mode::batched}) {
    bool pinned = m == mode::pinned;
    caf::actor_system sys{cfg};
    auto rt = actio::runtime::start(sys);
    if (!rt) {
      std::cerr << "actio-file-bench: " << actio::describe(rt.error()) << '\n';
      return 1;
    }
    auto backend = (*rt)->backend_name();
    auto& unit = (*rt)->unit(0);
    auto files = actio::io::spawn_file_service(unit);
    std::promise<actio_result> done;
    auto fut = done.get_future();
    reader_job job{path, blocks, opt.depth, opt.seed, opt.duration};
    if (m == mode::batched)
      sys.spawn([=, &done](caf::event_based_actor* self) {
        return batch_reader(self, files,
                            batch_job{path, blocks, opt.depth, opt.batch,
                                      opt.seed, opt.duration},
                            &done);
      });
    else if (pinned)
      actio::spawn_pinned_fn(unit, [=, &done](actio::pinned_actor* self) {
        return reader(self, files, job, &done);
      });
    else
      sys.spawn([=, &done](caf::event_based_actor* self) {
        return reader(self, files, job, &done);
      });
    auto r = fut.get();
    caf::anon_send_exit(files, caf::exit_reason::user_shutdown);
    (*rt)->shutdown();
    if (!r) {
      std::cerr << "actio-file-bench: actio (" << backend
                << "): " << actio::describe(r.error()) << '\n';
      return 1;
    }
    auto label = "actio " + backend
                 + (m == mode::pinned    ? " pinned"
                    : m == mode::batched ? " batch " + std::to_string(opt.batch)
                                         : " sched.");
    print_line(label, *r);
    actio_res.emplace_back(label, *r);
  }

  if (!base)
    return 0;
  for (auto& [label, r] : actio_res) {
    auto ratio = base->iops() > 0 ? r.iops() / base->iops() : 0.0;
    auto cpu = base->cpu_us_per_read() > 0
                 ? r.cpu_us_per_read() / base->cpu_us_per_read()
                 : 0.0;
    std::printf("ratio %s/liburing IOPS: %.2f (target >= 0.80), CPU/read %.2f\n",
                label.c_str(), ratio, cpu);
  }
  return 0;
}
