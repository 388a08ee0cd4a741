// actio-echo-bench — TCP echo load generator comparing actio-echo with plain
// baseline servers, in the same run:
//   epoll  actio-epoll-echo  hand-written level-triggered epoll loop
//   uring  actio-uring-echo  hand-written io_uring loop (multishot recv)
//   uv     actio-uv-echo     libuv loop
//   tokio  actio-tokio-echo  tokio current_thread runtime (Rust)
//
// How it works:
//   1. Each server is started as a child process (fork + exec), taken from the
//      directory that holds this executable (/proc/self/exe), with
//      `--host 127.0.0.1 --port 0` (plus --server-args for actio-echo). Its
//      stdout is read until a line containing `listening on 127.0.0.1:PORT`
//      (at most 10 s); later output is forwarded to stderr as "[name] ...".
//      The baselines are those of --baselines, by default every one whose
//      program is there (the build leaves out actio-uring-echo without
//      liburing, actio-uv-echo without libuv, actio-tokio-echo without
//      cargo and Debian's librust-tokio-dev).
//   2. One client thread (epoll) opens N non-blocking TCP_NODELAY connections
//      to each server and keeps D messages of S bytes in flight on each.
//      Message bytes are a deterministic pseudo-random pattern per connection
//      and sequence number; every echoed byte is verified (a mismatch is a
//      hard error, exit 1), and after each measured window every byte in
//      flight must come back within 5 s (lost data is an error too).
//   3. Each server is measured for T seconds in total, split into R rounds;
//      every round visits every server, in an order that reverses from one
//      round to the next (A B C, C B A, A B C, ...) so that background load
//      drifting on a shared machine hits all alike. The first round of a
//      server starts with W seconds of warm-up, later ones with
//      min(W, 0.2 s). Only one server carries traffic at a time.
//   4. Figures per server: msgs/s, MB/s (echoed payload, one direction),
//      p50/p99 latency (send of a message's first byte -> receipt of its
//      last byte, steady_clock, measured windows only), messages, server CPU
//      (utime+stime of all its threads from /proc/PID/stat, % of one core),
//      server CPU microseconds per message, client CPU, and CPU used by the
//      rest of the machine ("other%", from /proc/stat; a warning is printed
//      when it is high, since then the figures are noise).
//   5. Servers get SIGTERM, 5 s to exit (then SIGKILL); one that does not
//      exit with status 0 is reported and makes the exit status 1.
// Finally it prints a table, then actio's ratio to each baseline
//   ratio actio/epoll: msgs/s R, p99 R, srv us/msg R
// and the issue-16 targets, each "met" or "MISSED":
//   msgs/s  >= the better of plain epoll and plain io_uring (the higher rate)
//   p99     <= 1.2 x plain epoll's
//   us/msg  <= 1.05 x plain epoll's
// and, for pipelined runs (--depth 16), one line per event-loop library:
//   msgs/s  >= libuv's and >= tokio current_thread's (each that ran)
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
//     --rounds R         rounds T is split into (default 5)
//     --server-args "A"  extra arguments for actio-echo, split on whitespace
//                        (e.g. "--actio.io.backend=epoll --actio.io.drivers=1")
//     --baselines LIST   comma-separated baselines from epoll, uring, uv,
//                        tokio
//                        (default: every one built)
//     --only actio|baseline   actio only, or the baselines only
//     --also-args "B"    a second actio-echo ("actio+") with the server args
//                        and B, in the same rounds; ratios actio+/actio
//     --also-server PATH actio+ runs PATH (another build's actio-echo) with
//                        the server args (and B): A/B of two builds
//     --pin / --no-pin   CPU pinning (default: on if >= 2 CPUs are usable)
//     --help
//
// Examples (from the build directory):
//   bin/actio-echo-bench --server-args "--actio.io.backend=epoll"
//   bin/actio-echo-bench --baselines epoll,uring --depth 16
//   bin/actio-echo-bench --only baseline --duration 2
//   bin/actio-echo-bench --connections 32 --size 16384 --depth 4
// See also bench/run_echo_bench.sh.
//
// Exit status: 0 ok; 1 error (verification failure, connection error, server
// failed to start or did not exit cleanly); 2 bad usage.
//
// Files: echo_bench.hpp (this overview, options, shared declarations),
// echo_bench_options.cpp (command line), echo_bench_process.{hpp,cpp}
// (server child processes, /proc and CPU helpers), echo_bench_client.hpp
// (message pattern, latency histogram, the epoll client),
// echo_bench_target.hpp (one server under test), echo_bench_report.cpp (the
// table, ratios and targets), echo_bench.cpp (rounds, main).

#pragma once

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

namespace echo_bench {

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

// The issue-16 targets for actio (see the overview above).
constexpr double target_msgs_ratio = 1.0; // vs the better of epoll and uring
constexpr double target_p99_ratio = 1.2;  // vs epoll
constexpr double target_cpu_ratio = 1.05; // vs epoll
// Pipelined (this --depth): msgs/s >= uv's and tokio's (ratio 1).
constexpr int target_pipelined_depth = 16;

// The baseline servers, in the order they are listed and run.
struct Baseline {
  const char* name;   // --baselines and the table
  const char* binary; // next to this program
};
inline constexpr Baseline baselines[] = {
  {"epoll", "actio-epoll-echo"},
  {"uring", "actio-uring-echo"},
  {"uv", "actio-uv-echo"},
  {"tokio", "actio-tokio-echo"},
};

// ---------------------------------------------------------------------------
// Errors: runtime failures are thrown as BenchError and reported by main().

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};


[[noreturn]] inline void sys_fail(const std::string& what) {
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
  std::vector<std::string> also_args; ///< --also-args: a second actio-echo
  std::string also_server; ///< --also-server: actio+ runs this binary
  bool also() const { return !also_args.empty() || !also_server.empty(); }
  bool run_actio = true;
  bool run_baselines = true; // false after --only actio
  // --baselines: names from `baselines`, in that order; empty = every one
  // built (found next to this program)
  std::vector<std::string> baseline_names;
  std::optional<bool> pin; // unset = automatic
};

extern const actio::cli::tool tool;

// Command line (echo_bench_options.cpp): exits 0 after --help/--version and
// 2 on bad usage.
Options parse_args(int argc, char** argv);

// System helpers (echo_bench_process.cpp).
std::string self_dir();
void raise_fd_limit(int needed);
std::vector<int> usable_cpus();
bool pin_to_cpu(int cpu);
std::optional<double> process_cpu_seconds(pid_t pid);
std::string describe_status(int status);
// Busy time of the whole machine (all CPUs), in seconds, from /proc/stat.
std::optional<double> machine_busy_seconds();

} // namespace echo_bench
