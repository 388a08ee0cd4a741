// actio-echo-bench — TCP echo load generator comparing actio-echo with a
// plain epoll baseline (actio-epoll-echo), in the same run.
//
// How it works:
//   1. Each server is started as a child process (fork + exec), taken from the
//      directory that holds this executable (/proc/self/exe), with
//      `--host 127.0.0.1 --port 0` (plus --server-args for actio-echo). Its
//      stdout is read until a line containing `listening on 127.0.0.1:PORT`
//      (at most 10 s); later output is forwarded to stderr as "[name] ...".
//   2. One client thread (epoll) opens N non-blocking TCP_NODELAY connections
//      to each server and keeps D messages of S bytes in flight on each.
//      Message bytes are a deterministic pseudo-random pattern per connection
//      and sequence number; every echoed byte is verified (a mismatch is a
//      hard error, exit 1), and after each measured window every byte in
//      flight must come back within 5 s (lost data is an error too).
//   3. Each server is measured for T seconds in total, split into R rounds
//      that alternate between the servers (A B, B A, A B, ...) so that
//      background load drifting on a shared machine hits both alike. The
//      first round of a server starts with W seconds of warm-up, later ones
//      with min(W, 0.2 s). Only one server carries traffic at a time.
//   4. Figures per server: msgs/s, MB/s (echoed payload, one direction),
//      p50/p99 latency (send of a message's first byte -> receipt of its
//      last byte, steady_clock, measured windows only), messages, server CPU
//      (utime+stime of all its threads from /proc/PID/stat, % of one core),
//      server CPU microseconds per message, client CPU, and CPU used by the
//      rest of the machine ("other%", from /proc/stat; a warning is printed
//      when it is high, since then the figures are noise).
//   5. Servers get SIGTERM, 5 s to exit (then SIGKILL); one that does not
//      exit with status 0 is reported and makes the exit status 1.
// Finally it prints a table, the ratio of server CPU per message, and
//   ratio actio/baseline msgs/s: R (target >= 0.90)
// When the client is saturated (cli CPU% near 100) msgs/s measures the client
// as much as the server; srv us/msg is then the better comparison.
//
// All traffic goes to 127.0.0.1. With two or more usable CPUs the client is
// pinned to the second one and the servers to the first (--no-pin to
// disable), so each side gets one core; a multi-threaded server then shares
// that one core between its threads.
//
// Usage:
//   actio-echo-bench [options]   (`--opt value` or `--opt=value`; last wins)
//     --connections N    connections per server (default 100)
//     --depth D          messages in flight per connection (default 1)
//     --size S           bytes per message (default 64)
//     --duration T       measured seconds per server (default 5)
//     --warmup W         warm-up seconds (default 1)
//     --rounds R         alternating rounds T is split into (default 5)
//     --server-args "A"  extra arguments for actio-echo, split on whitespace
//                        (e.g. "--actio.io.backend=epoll --actio.io.drivers=1")
//     --only actio|baseline   run one server only
//     --pin / --no-pin   CPU pinning (default: on if >= 2 CPUs are usable)
//     --help
//
// Examples (from the build directory):
//   bin/actio-echo-bench --server-args "--actio.io.backend=epoll"
//   bin/actio-echo-bench --only baseline --duration 2
//   bin/actio-echo-bench --connections 32 --size 16384 --depth 4
// See also bench/run_echo_bench.sh.
//
// Exit status: 0 ok; 1 error (verification failure, connection error, server
// failed to start or did not exit cleanly); 2 bad usage.

#include <arpa/inet.h>
#include <endian.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cinttypes>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "actio/actors/cli/tool.hpp"
#include "actio/actors/cli/values.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::nanoseconds;

constexpr const char* prog = "actio-echo-bench";
constexpr const char* loopback = "127.0.0.1";
constexpr auto startup_timeout = std::chrono::seconds(10);
constexpr auto connect_timeout = std::chrono::seconds(10);
constexpr auto exit_timeout = std::chrono::seconds(5);
constexpr auto drain_timeout = std::chrono::seconds(5);
constexpr double rewarmup_seconds = 0.2; // warm-up before rounds 2, 3, ...
constexpr size_t io_chunk = 64 * 1024;
constexpr double target_ratio = 0.90;

// ---------------------------------------------------------------------------
// Errors: runtime failures are thrown as BenchError and reported by main().

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void sys_fail(const std::string& what) {
  throw BenchError(what + ": " + std::strerror(errno));
}

// ---------------------------------------------------------------------------
// Options

struct Options {
  int connections = 100;
  int depth = 1;
  size_t size = 64;
  double duration = 5.0;
  double warmup = 1.0;
  int rounds = 5;
  std::vector<std::string> server_args;
  bool run_actio = true;
  bool run_baseline = true;
  std::optional<bool> pin; // unset = automatic
};

const actio::cli::tool tool{prog, "",
                            "Echo load generator: runs actio-echo and "
                            "actio-epoll-echo (next to this program)\n"
                            "and compares their throughput and latency."};

void usage() {
  tool.print_help(
               "  --connections N    connections (default 100)\n"
               "  --depth D          messages in flight per connection (default 1)\n"
               "  --size S           bytes per message (default 64)\n"
               "  --duration T       measured seconds per server (default 5)\n"
               "  --warmup W         warm-up seconds (default 1)\n"
               "  --rounds R         split each server's T seconds into R alternating\n"
               "                     rounds (default 5)\n"
               "  --server-args \"A\"  extra whitespace-separated args for actio-echo\n"
               "  --only actio|baseline  run one server only\n"
               "  --pin | --no-pin   pin client/servers to CPUs (default: on if >= 2 CPUs)\n");
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::exit(tool.usage_error(msg));
}

long long parse_int(const std::string& opt, const std::string& s, long long lo, long long hi) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str() || *end != '\0' || v < lo || v > hi)
    std::exit(tool.bad_value(opt, s, actio::cli::integer_range(lo, hi)));
  return v;
}

double parse_seconds(const std::string& opt, const std::string& s, double lo) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || *end != '\0' || !(v >= lo) || v > 3600)
    std::exit(tool.bad_value(opt, s, actio::cli::number_range(lo, 3600, "seconds")));
  return v;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

// Accepts both `--opt value` and `--opt=value`; for repeated options the last
// one wins (so wrapper scripts can put defaults first and forward "$@").
Options parse_args(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_value = true;
    }
    auto need_value = [&]() -> std::string {
      if (has_value)
        return value;
      if (i + 1 >= argc)
        std::exit(tool.missing_argument(arg));
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      usage();
      std::exit(0);
    } else if (arg == "--version") {
      std::exit(tool.print_version());
    } else if (arg == "--connections") {
      opt.connections = static_cast<int>(parse_int(arg, need_value(), 1, 100000));
    } else if (arg == "--depth") {
      opt.depth = static_cast<int>(parse_int(arg, need_value(), 1, 4096));
    } else if (arg == "--size") {
      opt.size = static_cast<size_t>(parse_int(arg, need_value(), 1, 64LL << 20));
    } else if (arg == "--duration") {
      opt.duration = parse_seconds(arg, need_value(), 0.1);
    } else if (arg == "--warmup") {
      opt.warmup = parse_seconds(arg, need_value(), 0.0);
    } else if (arg == "--rounds") {
      opt.rounds = static_cast<int>(parse_int(arg, need_value(), 1, 1000));
    } else if (arg == "--server-args") {
      opt.server_args = split_words(need_value());
    } else if (arg == "--only") {
      std::string v = need_value();
      if (v == "actio") {
        opt.run_actio = true;
        opt.run_baseline = false;
      } else if (v == "baseline") {
        opt.run_actio = false;
        opt.run_baseline = true;
      } else {
        std::exit(tool.bad_value(arg, v, "'actio' or 'baseline'"));
      }
    } else if (arg == "--pin" && !has_value) {
      opt.pin = true;
    } else if (arg == "--no-pin" && !has_value) {
      opt.pin = false;
    } else if (arg.empty() || arg[0] != '-') {
      usage_error("extra operand '" + arg + "'");
    } else {
      std::exit(tool.unrecognized_option(argv[i]));
    }
  }
  return opt;
}

// ---------------------------------------------------------------------------
// Small system helpers

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0)
    sys_fail("readlink(/proc/self/exe)");
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

void raise_fd_limit(int needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < static_cast<rlim_t>(needed) + 64)
    std::fprintf(stderr, "%s: warning: open-file limit %llu may be too low for %d connections\n",
                 prog, static_cast<unsigned long long>(rl.rlim_cur), needed);
}

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set))
        cpus.push_back(c);
  return cpus;
}

bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

// utime + stime of a process (all threads), in seconds.
std::optional<double> process_cpu_seconds(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f)
    return std::nullopt;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Field 2 (comm) may contain spaces and parentheses; the fields after the
  // last ')' start at field 3 (state), so utime (14) and stime (15) are the
  // 12th and 13th of them.
  const char* rest = std::strrchr(buf, ')');
  if (!rest)
    return std::nullopt;
  std::istringstream in(rest + 1);
  std::string field;
  for (int i = 3; i < 14 && in >> field; ++i) {
  }
  unsigned long long utime = 0, stime = 0;
  if (!(in >> utime >> stime))
    return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "ended with wait status " + std::to_string(status);
}

// ---------------------------------------------------------------------------
// Server child process

class ServerProcess {
public:
  ServerProcess(std::string name, std::string path, std::vector<std::string> args,
                std::optional<int> cpu)
      : name_(std::move(name)) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
      sys_fail("pipe2");
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0)
      sys_fail("fork");
    if (pid_ == 0) {
      // Child: stdout -> pipe, die with the bench, optionally pinned.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent)
        _exit(127);
      if (cpu && !pin_to_cpu(*cpu))
        perror("sched_setaffinity(server)");
      if (dup2(fds[1], STDOUT_FILENO) < 0) {
        perror("dup2");
        _exit(127);
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(path.c_str()));
      for (auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      std::fprintf(stderr, "%s: exec %s: %s\n", prog, path.c_str(), std::strerror(errno));
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
    if (fcntl(out_fd_, F_SETFL, O_NONBLOCK) < 0)
      sys_fail("fcntl(O_NONBLOCK)");
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  ~ServerProcess() {
    if (!reaped_) {
      try {
        stop();
      } catch (...) {
      }
    }
    if (out_fd_ >= 0)
      close(out_fd_);
  }

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_fd_; }
  const std::string& name() const { return name_; }

  // Reads stdout until a line contains "listening on 127.0.0.1:PORT".
  uint16_t wait_for_port() {
    const std::string marker = std::string("listening on ") + loopback + ":";
    auto deadline = Clock::now() + startup_timeout;
    for (;;) {
      for (size_t nl; (nl = line_buf_.find('\n')) != std::string::npos;) {
        std::string line = line_buf_.substr(0, nl);
        line_buf_.erase(0, nl + 1);
        if (auto pos = line.find(marker); pos != std::string::npos) {
          char* end = nullptr;
          unsigned long port = std::strtoul(line.c_str() + pos + marker.size(), &end, 10);
          if (port == 0 || port > 65535)
            throw BenchError(name_ + ": cannot parse port from line: " + line);
          return static_cast<uint16_t>(port);
        }
        std::fprintf(stderr, "[%s] %s\n", name_.c_str(), line.c_str());
      }
      auto left = duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0)
        throw BenchError(name_ + ": no 'listening on " + loopback + ":PORT' line within " +
                         std::to_string(startup_timeout.count()) + " s");
      pollfd pfd{out_fd_, POLLIN, 0};
      int r = poll(&pfd, 1, static_cast<int>(left));
      if (r < 0 && errno != EINTR)
        sys_fail("poll");
      if (r > 0 && !read_output()) {
        // Give an exiting server a moment, so its exit status can be shown.
        for (int i = 0; i < 50 && !exited(); ++i)
          usleep(10 * 1000);
        throw BenchError(name_ + ": closed stdout before listening (" + exit_note() + ")");
      }
    }
  }

  // Forwards whatever the server printed (after startup) to our stderr.
  // Returns false on EOF.
  bool read_output() {
    char buf[4096];
    for (;;) {
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n > 0) {
        line_buf_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0)
        return false;
      if (errno == EINTR)
        continue;
      return true; // EAGAIN (or an error we do not care about)
    }
  }

  void forward_output() {
    for (size_t nl; (nl = line_buf_.find('\n')) != std::string::npos;) {
      std::fprintf(stderr, "[%s] %s\n", name_.c_str(), line_buf_.substr(0, nl).c_str());
      line_buf_.erase(0, nl + 1);
    }
  }

  // Non-blocking: has the process ended (and been reaped)?
  bool exited() {
    int st = 0;
    if (!reaped_ && waitpid(pid_, &st, WNOHANG) == pid_) {
      reaped_ = true;
      status_ = st;
    }
    return reaped_;
  }

  // "still running" or how it ended, for error messages.
  std::string exit_note() { return exited() ? describe_status(status_) : "still running"; }

  // SIGTERM, wait up to 5 s, then SIGKILL. Returns a problem description,
  // or an empty string if the server exited with status 0.
  std::string stop() {
    std::string problem;
    if (!reaped_) {
      kill(pid_, SIGTERM);
      auto deadline = Clock::now() + exit_timeout;
      while (!reaped_) {
        int st = 0;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
          reaped_ = true;
          status_ = st;
          break;
        }
        if (r < 0 && errno != EINTR)
          sys_fail("waitpid");
        if (Clock::now() >= deadline) {
          problem = "did not exit within " + std::to_string(exit_timeout.count()) +
                    " s of SIGTERM; sent SIGKILL; ";
          kill(pid_, SIGKILL);
          while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
          }
          reaped_ = true;
          status_ = st;
          break;
        }
        read_output();
        forward_output();
        usleep(10 * 1000);
      }
    }
    read_output();
    if (!line_buf_.empty() && line_buf_.back() != '\n')
      line_buf_ += '\n';
    forward_output();
    if (!WIFEXITED(status_) || WEXITSTATUS(status_) != 0 || !problem.empty())
      problem += describe_status(status_);
    return problem;
  }

private:
  std::string name_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string line_buf_;
};

// ---------------------------------------------------------------------------
// Message pattern: byte `off` of message `seq` on connection `conn` is a pure
// function of (conn, seq, off), so it can be generated for sending and again
// for verifying, at any offset, without storing what was sent.

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Fills `out` with `len` bytes of connection `conn`'s stream starting at
// stream position `pos` (the stream is messages 0, 1, 2, ... of `msg_size`).
void fill_pattern(uint32_t conn, uint64_t pos, size_t msg_size, uint8_t* out, size_t len) {
  while (len > 0) {
    uint64_t seq = pos / msg_size;
    uint64_t off = pos % msg_size;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, msg_size - off));
    uint64_t key = splitmix64((uint64_t{conn} << 40) ^ seq);
    size_t i = 0;
    // Leading partial word, whole words (little-endian), trailing partial word.
    for (; i < n && (off + i) % 8 != 0; ++i)
      out[i] = static_cast<uint8_t>(splitmix64(key + (off + i) / 8) >> (8 * ((off + i) % 8)));
    for (; i + 8 <= n; i += 8) {
      uint64_t word = htole64(splitmix64(key + (off + i) / 8));
      std::memcpy(out + i, &word, 8);
    }
    for (; i < n; ++i)
      out[i] = static_cast<uint8_t>(splitmix64(key + (off + i) / 8) >> (8 * ((off + i) % 8)));
    out += n;
    pos += n;
    len -= n;
  }
}

// ---------------------------------------------------------------------------
// Client: N connections to one server, driven by one epoll loop. A Client is
// created once per server and then runs one or more measuring phases.

struct Conn {
  int fd = -1;
  uint32_t id = 0;
  uint64_t sent = 0;     // stream bytes handed to the kernel
  uint64_t received = 0; // stream bytes received and verified
  bool want_out = false; // EPOLLOUT armed
  bool connected = false;
  uint64_t window_msgs = 0;                 // completed inside measured windows
  std::vector<Clock::time_point> send_time; // ring of `depth` slots
};

// Latency histogram in nanoseconds, log-linear: values below 64 are exact,
// above that each power of two has 64 buckets (< 1.6 % relative error), so
// memory stays constant however many messages are recorded.
class LatencyHistogram {
public:
  void record(uint64_t ns) {
    ++counts_[index(ns)];
    ++total_;
  }

  // Value at quantile q (0..1), in microseconds; 0 if nothing was recorded.
  double quantile_us(double q) const {
    if (total_ == 0)
      return 0;
    uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_))));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank)
        return bucket_mid(i) / 1000.0;
    }
    return bucket_mid(counts_.size() - 1) / 1000.0;
  }

private:
  static constexpr unsigned sub_bits = 6;
  static constexpr uint64_t sub_count = uint64_t{1} << sub_bits;

  static size_t index(uint64_t v) {
    if (v < sub_count)
      return static_cast<size_t>(v);
    unsigned shift = static_cast<unsigned>(std::bit_width(v)) - 1 - sub_bits;
    return static_cast<size_t>((shift + 1) * sub_count + ((v >> shift) & (sub_count - 1)));
  }

  static double bucket_mid(size_t i) {
    if (i < sub_count)
      return static_cast<double>(i);
    unsigned shift = static_cast<unsigned>(i / sub_count) - 1;
    double low = static_cast<double>((sub_count + i % sub_count) << shift);
    return low + static_cast<double>(uint64_t{1} << shift) / 2;
  }

  std::vector<uint64_t> counts_ = std::vector<uint64_t>(64 * sub_count);
  uint64_t total_ = 0;
};

// Totals over all measured windows of one server.
struct Stats {
  double seconds = 0;
  uint64_t messages = 0;
  LatencyHistogram latency;
  double server_cpu = 0; // seconds
  double client_cpu = 0; // seconds
  double other_cpu = 0;  // seconds used by everything else on the machine
  bool cpu_known = true;
};

// Busy time of the whole machine (all CPUs), in seconds, from /proc/stat.
std::optional<double> machine_busy_seconds() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f)
    return std::nullopt;
  unsigned long long v[8] = {};
  int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                      &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8)
    return std::nullopt;
  // user nice system [idle iowait] irq softirq steal
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct CpuSample {
  std::optional<double> server, client, machine;
  static CpuSample take(pid_t server_pid) {
    return {process_cpu_seconds(server_pid), process_cpu_seconds(getpid()),
            machine_busy_seconds()};
  }
};

class Client {
public:
  Client(const Options& opt, uint16_t port, ServerProcess& server)
      : opt_(opt), port_(port), server_(server), send_buf_(io_chunk), recv_buf_(io_chunk),
        expect_buf_(io_chunk), events_(1024) {
    try {
      epfd_ = epoll_create1(EPOLL_CLOEXEC);
      if (epfd_ < 0)
        sys_fail("epoll_create1");
      conns_.resize(static_cast<size_t>(opt.connections));
      connect_all();
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = server_tag;
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, server_.stdout_fd(), &ev) < 0)
        sys_fail("epoll_ctl(server stdout)");
    } catch (...) {
      close_all();
      throw;
    }
  }

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  ~Client() { close_all(); }

  // Runs traffic for `warmup` seconds, then measures for `measure` seconds
  // (adding to `stats`), then lets every message in flight come back.
  void phase(double warmup, double measure, Stats& stats) {
    auto now = Clock::now();
    auto window_start = now + to_duration(warmup);
    for (auto& c : conns_)
      pump_send(c, now);

    measuring_ = false;
    stats_ = &stats;
    CpuSample cpu0;
    Clock::time_point window_end{};
    for (;;) {
      now = Clock::now();
      if (!measuring_ && now >= window_start) {
        measuring_ = true;
        window_start = now;
        window_end = now + to_duration(measure);
        cpu0 = CpuSample::take(server_.pid());
      }
      if (measuring_ && now >= window_end)
        break;
      poll_once(measuring_ ? window_end : window_start);
    }
    measuring_ = false;
    auto end = Clock::now();
    CpuSample cpu1 = CpuSample::take(server_.pid());

    stats.seconds += std::chrono::duration<double>(end - window_start).count();
    if (cpu0.server && cpu1.server && cpu0.client && cpu1.client && cpu0.machine &&
        cpu1.machine) {
      double srv = *cpu1.server - *cpu0.server;
      double cli = *cpu1.client - *cpu0.client;
      stats.server_cpu += srv;
      stats.client_cpu += cli;
      stats.other_cpu += std::max(0.0, *cpu1.machine - *cpu0.machine - srv - cli);
    } else {
      stats.cpu_known = false;
    }
    drain();
  }

  // Connections that completed no message in any measured window so far.
  int stalled_connections() const {
    return static_cast<int>(
        std::count_if(conns_.begin(), conns_.end(), [](const Conn& c) { return c.window_msgs == 0; }));
  }

private:
  static constexpr uint64_t server_tag = UINT64_MAX;

  void close_all() {
    for (auto& c : conns_)
      if (c.fd >= 0)
        close(c.fd);
    conns_.clear();
    if (epfd_ >= 0)
      close(epfd_);
    epfd_ = -1;
  }

  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  [[noreturn]] void conn_fail(const Conn& c, const std::string& what) {
    throw BenchError(server_.name() + ": connection " + std::to_string(c.id) + ": " + what +
                     " (server " + server_.exit_note() + ")");
  }

  void ctl(int op, Conn& c, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    if (epoll_ctl(epfd_, op, c.fd, &ev) < 0)
      sys_fail("epoll_ctl");
  }

  // Non-blocking connects, then wait (bounded) until all are established.
  void connect_all() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    inet_pton(AF_INET, loopback, &addr.sin_addr);

    size_t pending = 0;
    for (size_t i = 0; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      c.id = static_cast<uint32_t>(i);
      c.send_time.resize(static_cast<size_t>(opt_.depth));
      c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c.fd < 0)
        sys_fail("socket");
      int one = 1;
      if (setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        sys_fail("setsockopt(TCP_NODELAY)");
      if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        c.connected = true;
        ctl(EPOLL_CTL_ADD, c, EPOLLIN);
      } else if (errno == EINPROGRESS) {
        ++pending;
        ctl(EPOLL_CTL_ADD, c, EPOLLOUT);
      } else {
        sys_fail("connect to " + std::string(loopback) + ":" + std::to_string(port_));
      }
    }

    auto deadline = Clock::now() + connect_timeout;
    while (pending > 0) {
      auto left = duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0)
        throw BenchError(server_.name() + ": " + std::to_string(pending) +
                         " connections not established within " +
                         std::to_string(connect_timeout.count()) + " s");
      int n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()),
                         static_cast<int>(left));
      if (n < 0 && errno != EINTR)
        sys_fail("epoll_wait");
      for (int i = 0; i < n; ++i) {
        Conn& c = conns_[events_[i].data.u64];
        if (c.connected)
          continue;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
          sys_fail("getsockopt(SO_ERROR)");
        if (err != 0)
          conn_fail(c, std::string("connect: ") + std::strerror(err));
        c.connected = true;
        ctl(EPOLL_CTL_MOD, c, EPOLLIN);
        --pending;
      }
    }
  }

  // One epoll_wait (at most until `until`, and at most 100 ms) and its events.
  void poll_once(Clock::time_point until) {
    auto left = duration_cast<std::chrono::milliseconds>(until - Clock::now()).count() + 1;
    int timeout_ms = static_cast<int>(std::clamp<long long>(left, 1, 100));
    int n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR)
        return;
      sys_fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events_[i].data.u64;
      if (tag == server_tag) {
        if (!server_.read_output())
          epoll_ctl(epfd_, EPOLL_CTL_DEL, server_.stdout_fd(), nullptr);
        server_.forward_output();
        continue;
      }
      Conn& c = conns_[tag];
      if (events_[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c);
      if (events_[i].events & EPOLLOUT)
        pump_send(c, Clock::now());
    }
  }

  // Stops issuing messages and waits (bounded) until every byte sent has been
  // echoed and verified, so nothing is lost and the next phase starts clean.
  void drain() {
    draining_ = true;
    auto deadline = Clock::now() + drain_timeout;
    for (;;) {
      uint64_t outstanding = 0;
      int conns = 0;
      for (const auto& c : conns_) {
        if (c.sent != c.received) {
          outstanding += c.sent - c.received;
          ++conns;
        }
      }
      if (outstanding == 0)
        break;
      if (Clock::now() >= deadline)
        throw BenchError(server_.name() + ": " + std::to_string(outstanding) + " bytes on " +
                         std::to_string(conns) + " connection(s) not echoed within " +
                         std::to_string(drain_timeout.count()) + " s (server " +
                         server_.exit_note() + ")");
      poll_once(deadline);
    }
    draining_ = false;
  }

  // Sends as much as the in-flight window (depth messages) allows.
  void pump_send(Conn& c, Clock::time_point now) {
    const uint64_t size = opt_.size;
    uint64_t limit = (c.received / size + static_cast<uint64_t>(opt_.depth)) * size;
    if (draining_) // only finish messages already started
      limit = (c.sent + size - 1) / size * size;
    while (c.sent < limit) {
      size_t len = static_cast<size_t>(std::min<uint64_t>(limit - c.sent, send_buf_.size()));
      fill_pattern(c.id, c.sent, opt_.size, send_buf_.data(), len);
      ssize_t w = send(c.fd, send_buf_.data(), len, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        conn_fail(c, std::string("send: ") + std::strerror(errno));
      }
      // Stamp every message whose first byte went out in this send.
      uint64_t first = (c.sent + size - 1) / size; // first message starting at >= sent
      uint64_t end = c.sent + static_cast<uint64_t>(w);
      for (uint64_t seq = first; seq * size < end; ++seq)
        c.send_time[seq % c.send_time.size()] = now;
      c.sent = end;
    }
    bool want_out = c.sent < limit;
    if (want_out != c.want_out) {
      c.want_out = want_out;
      ctl(EPOLL_CTL_MOD, c, want_out ? EPOLLIN | EPOLLOUT : EPOLLIN);
    }
  }

  void on_readable(Conn& c) {
    ssize_t n = recv(c.fd, recv_buf_.data(), recv_buf_.size(), 0);
    if (n == 0)
      conn_fail(c, "closed by the server");
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      conn_fail(c, std::string("recv: ") + std::strerror(errno));
    }
    auto now = Clock::now();
    size_t len = static_cast<size_t>(n);
    if (c.received + len > c.sent)
      conn_fail(c, "received " + std::to_string(c.received + len - c.sent) +
                       " more bytes than were sent");
    verify(c, len);

    const uint64_t size = opt_.size;
    uint64_t done_before = c.received / size;
    c.received += len;
    uint64_t done_after = c.received / size;
    if (measuring_) {
      for (uint64_t seq = done_before; seq < done_after; ++seq) {
        auto lat = now - c.send_time[seq % c.send_time.size()];
        stats_->latency.record(static_cast<uint64_t>(duration_cast<nanoseconds>(lat).count()));
      }
      stats_->messages += done_after - done_before;
      c.window_msgs += done_after - done_before;
    }
    if (done_after > done_before || c.want_out)
      pump_send(c, now);
  }

  void verify(const Conn& c, size_t len) {
    fill_pattern(c.id, c.received, opt_.size, expect_buf_.data(), len);
    if (std::memcmp(expect_buf_.data(), recv_buf_.data(), len) == 0)
      return;
    size_t i = 0;
    while (expect_buf_[i] == recv_buf_[i])
      ++i;
    uint64_t pos = c.received + i;
    char detail[160];
    std::snprintf(detail, sizeof detail,
                  "echo mismatch in message %" PRIu64 " at byte %" PRIu64
                  ": expected 0x%02x, got 0x%02x",
                  pos / opt_.size, pos % opt_.size, expect_buf_[i], recv_buf_[i]);
    conn_fail(c, detail);
  }

  const Options& opt_;
  uint16_t port_;
  ServerProcess& server_;
  int epfd_ = -1;
  std::vector<Conn> conns_;
  std::vector<uint8_t> send_buf_, recv_buf_, expect_buf_;
  std::vector<epoll_event> events_;
  bool measuring_ = false; // inside a measured window (stats_ is set)
  bool draining_ = false;
  Stats* stats_ = nullptr;
};

// ---------------------------------------------------------------------------
// One server under test: its process, its client, its figures.

struct Target {
  Target(std::string label, std::string file, bool gets_server_args)
      : name(std::move(label)), binary(std::move(file)), pass_server_args(gets_server_args) {}

  std::string name;      // label in the table
  std::string binary;    // file name next to this executable
  bool pass_server_args; // gets --server-args (actio-echo only)
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<Client> client;
  Stats stats;
  int stalled = 0;
  bool failed = false;
  double idle_cpu = 0;     // server CPU seconds while another server was measured
  double idle_seconds = 0; // wall time of those phases

  void fail(const std::string& msg, std::vector<std::string>& failures) {
    std::fprintf(stderr, "%s: error: %s\n", prog, msg.c_str());
    failures.push_back(msg);
    failed = true;
    client.reset(); // connections go first, then the server is stopped
    server.reset();
  }
};

void start_target(Target& t, const Options& opt, const std::string& dir,
                  std::optional<int> server_cpu) {
  std::string path = dir + "/" + t.binary;
  if (access(path.c_str(), X_OK) != 0)
    throw BenchError(path + " not found or not executable (build it first" +
                     std::string(t.pass_server_args ? ", or use --only baseline)" : ")"));
  std::vector<std::string> args = {"--host", loopback, "--port", "0"};
  if (t.pass_server_args)
    args.insert(args.end(), opt.server_args.begin(), opt.server_args.end());
  t.server = std::make_unique<ServerProcess>(t.name, path, args, server_cpu);
  uint16_t port = t.server->wait_for_port();
  std::printf("%s (%s) listening on port %u\n", t.name.c_str(), t.binary.c_str(), unsigned{port});
  std::fflush(stdout);
  t.client = std::make_unique<Client>(opt, port, *t.server);
}

// Measures in alternating rounds (A B, B A, A B, ...) so that background
// load drifting on a shared machine hits both servers alike. Only one server
// carries traffic at a time; the idle one should cost nothing, and its CPU
// time is recorded to check that it does not spin.
void measure_rounds(const Options& opt, std::vector<Target>& targets,
                    std::vector<std::string>& failures) {
  const double slice = opt.duration / opt.rounds;
  const double rewarm = std::min(opt.warmup, rewarmup_seconds);
  for (int round = 0; round < opt.rounds; ++round) {
    for (size_t k = 0; k < targets.size(); ++k) {
      Target& t = targets[round % 2 == 0 ? k : targets.size() - 1 - k];
      if (t.failed)
        continue;
      std::vector<std::optional<double>> idle0;
      for (Target& o : targets)
        idle0.push_back(o.failed || &o == &t ? std::nullopt : process_cpu_seconds(o.server->pid()));
      auto t0 = Clock::now();
      try {
        t.client->phase(round == 0 ? opt.warmup : rewarm, slice, t.stats);
      } catch (const BenchError& e) {
        t.fail(e.what(), failures);
      }
      double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      for (size_t j = 0; j < targets.size(); ++j) {
        Target& o = targets[j];
        if (!idle0[j] || o.failed)
          continue;
        if (auto now = process_cpu_seconds(o.server->pid())) {
          o.idle_cpu += *now - *idle0[j];
          o.idle_seconds += wall;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Reporting

double msgs_per_s(const Stats& s) { return s.seconds > 0 ? static_cast<double>(s.messages) / s.seconds : 0; }

// Server CPU time per echoed message, in microseconds (0 if unknown).
double cpu_us_per_msg(const Stats& s) {
  return s.cpu_known && s.messages > 0 ? s.server_cpu / static_cast<double>(s.messages) * 1e6 : 0;
}

void print_table(const Options& opt, std::vector<Target>& targets) {
  std::printf("\n%-9s %11s %9s %9s %9s %11s %8s %11s %8s %8s\n", "server", "msgs/s", "MB/s",
              "p50 us", "p99 us", "messages", "srv CPU%", "srv us/msg", "cli CPU%", "other%");
  for (Target& t : targets) {
    if (t.failed)
      continue;
    Stats& s = t.stats;
    double rate = msgs_per_s(s);
    double p50 = s.latency.quantile_us(0.50);
    double p99 = s.latency.quantile_us(0.99);
    std::printf("%-9s %11.0f %9.2f %9.1f %9.1f %11" PRIu64, t.name.c_str(), rate,
                rate * static_cast<double>(opt.size) / 1e6, p50, p99, s.messages);
    if (s.cpu_known)
      std::printf(" %8.1f %11.2f %8.1f %8.1f\n", s.server_cpu / s.seconds * 100,
                  cpu_us_per_msg(s), s.client_cpu / s.seconds * 100, s.other_cpu / s.seconds * 100);
    else
      std::printf(" %8s %11s %8s %8s\n", "n/a", "n/a", "n/a", "n/a");
  }
  std::printf("(MB/s: echoed payload, one direction; CPU%%: of one core over the measured "
              "windows; other%%: rest of the machine)\n");
  for (Target& t : targets) {
    if (t.failed)
      continue;
    if (t.stalled > 0)
      std::printf("warning: %s: %d connection(s) completed no message while measured\n",
                  t.name.c_str(), t.stalled);
    if (t.idle_seconds > 0 && t.idle_cpu / t.idle_seconds > 0.02)
      std::printf("warning: %s: the idle server used %.0f%% of a core while the other was "
                  "measured\n",
                  t.name.c_str(), t.idle_cpu / t.idle_seconds * 100);
    if (t.stats.cpu_known && t.stats.other_cpu / t.stats.seconds > 0.10)
      std::printf("warning: %s: other processes used %.0f%% of a core while measuring; "
                  "figures are noisy\n",
                  t.name.c_str(), t.stats.other_cpu / t.stats.seconds * 100);
    else if (t.stats.cpu_known && t.stats.client_cpu / t.stats.seconds > 0.95)
      std::printf("note: %s: the client used >95%% of its core; msgs/s may be client-bound, "
                  "compare srv us/msg\n",
                  t.name.c_str());
  }
}

} // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit(2 * opt.connections);

  try {
    std::vector<int> cpus = usable_cpus();
    bool pin = opt.pin.value_or(cpus.size() >= 2);
    std::optional<int> server_cpu;
    if (pin && cpus.size() < 2) {
      std::fprintf(stderr, "%s: warning: fewer than 2 usable CPUs, not pinning\n", prog);
      pin = false;
    }
    if (pin) {
      server_cpu = cpus[0];
      if (!pin_to_cpu(cpus[1]))
        sys_fail("sched_setaffinity(client)");
    }

    std::vector<Target> targets;
    if (opt.run_baseline)
      targets.emplace_back("baseline", "actio-epoll-echo", false);
    if (opt.run_actio)
      targets.emplace_back("actio", "actio-echo", true);

    std::string server_args;
    for (auto& a : opt.server_args)
      server_args += (server_args.empty() ? "" : " ") + a;
    std::printf("%s: %d connections, depth %d, %zu B messages; per server: warmup %.1f s, "
                "%.1f s measured in %d round(s)\n",
                prog, opt.connections, opt.depth, opt.size, opt.warmup, opt.duration, opt.rounds);
    if (pin)
      std::printf("pinning: servers on CPU %d, client on CPU %d\n", cpus[0], cpus[1]);
    else
      std::printf("pinning: off\n");
    if (opt.run_actio)
      std::printf("actio-echo args: %s\n", server_args.empty() ? "(none)" : server_args.c_str());
    std::fflush(stdout);

    // Start every server and connect to it; a server that fails is reported
    // and the run goes on with the others (exit status 1).
    std::vector<std::string> failures;
    const std::string dir = self_dir();
    for (Target& t : targets) {
      try {
        start_target(t, opt, dir, server_cpu);
      } catch (const BenchError& e) {
        t.fail(e.what(), failures);
      }
    }

    measure_rounds(opt, targets, failures);

    for (Target& t : targets) {
      if (t.failed)
        continue;
      t.stalled = t.client->stalled_connections();
      t.client.reset(); // connections are closed before the server is stopped
      if (std::string problem = t.server->stop(); !problem.empty()) {
        std::string msg = t.name + " server " + problem;
        std::fprintf(stderr, "%s: error: %s\n", prog, msg.c_str());
        failures.push_back(msg);
      }
    }

    print_table(opt, targets);
    if (targets.size() == 2) {
      const Target& base = targets[0];
      const Target& actio = targets[1];
      if (base.failed || actio.failed) {
        std::printf("ratio actio/baseline msgs/s: n/a (a server run failed)\n");
      } else {
        if (cpu_us_per_msg(base.stats) > 0 && cpu_us_per_msg(actio.stats) > 0)
          std::printf("ratio actio/baseline server CPU per msg: %.2f (lower is better)\n",
                      cpu_us_per_msg(actio.stats) / cpu_us_per_msg(base.stats));
        if (msgs_per_s(base.stats) > 0)
          std::printf("ratio actio/baseline msgs/s: %.2f (target >= %.2f)\n",
                      msgs_per_s(actio.stats) / msgs_per_s(base.stats), target_ratio);
        else
          std::printf("ratio actio/baseline msgs/s: n/a (baseline made no progress)\n");
      }
    }
    std::fflush(stdout);
    for (auto& f : failures)
      std::fprintf(stderr, "%s: FAILED: %s\n", prog, f.c_str());
    return failures.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", prog, e.what());
    return 1;
  }
}
