#pragma once

// Plain blocking/poll-based client helpers and process probes for tests.
// Every wait is bounded by a deadline; nothing sleeps to synchronise.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace actio::test {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

/// Connects to 127.0.0.1:port (blocking socket); -1 on failure. A
/// non-zero `rcvbuf` sets SO_RCVBUF before connecting (a small, fixed
/// receive window: the kernel does not autotune it, so a client that
/// never reads pushes back early).
int connect_tcp(uint16_t port, int rcvbuf = 0);

/// A socket bound to a 127.0.0.1 port (OS-chosen) that does not listen:
/// connecting to `port` is refused while `fd` stays open.
struct refusing_port {
  int fd = -1;
  uint16_t port = 0;
  refusing_port();
  ~refusing_port();
};

/// Sends all of `data` within `timeout`; false on error or timeout.
bool send_all(int fd, const uint8_t* data, size_t size,
              clock::duration timeout = 30s);

/// Reads exactly `size` bytes within `timeout`; false on error/EOF/timeout.
bool recv_exact(int fd, uint8_t* data, size_t size,
                clock::duration timeout = 30s);

/// Waits for EOF (true) within `timeout`; discards data.
bool wait_eof(int fd, clock::duration timeout = 30s);

/// Deterministic pseudo-random bytes.
std::vector<uint8_t> random_bytes(size_t size, uint32_t seed);

/// Number of open descriptors of this process (/proc/self/fd).
size_t count_fds();

/// Resident set size of this process in bytes (/proc/self/status VmRSS).
size_t rss_bytes();

/// Polls `pred` until true or `timeout`; returns the last result.
bool wait_until(const std::function<bool()>& pred,
                clock::duration timeout = 30s);

/// A child process with its stdout readable line by line.
struct child_process {
  int pid = -1;
  int out = -1; // read end of the child's stdout
  child_process() = default;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  /// Movable: the moved-from object no longer owns the child.
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  ~child_process();
  /// Reads one line within `timeout`; empty on EOF/timeout.
  std::string read_line(clock::duration timeout = 10s);
  /// Reads until EOF (the child closed its output) or `timeout`.
  std::string read_all(clock::duration timeout = 60s);
  /// Sends `sig` and waits for exit within `timeout`; returns the wait
  /// status, or -1 on timeout (then the child is killed).
  int stop(int sig, clock::duration timeout = 30s);
};

/// How to start a child process.
struct spawn_options {
  long nofile = 0;           ///< > 0: RLIMIT_NOFILE in the child
  long fsize = 0;            ///< > 0: RLIMIT_FSIZE (bytes) in the child
  bool merge_stderr = false; ///< child's stderr into the same pipe
  int umask = -1;            ///< >= 0: the child's umask
  /// Turns LeakSanitizer off in the child (adds `detect_leaks=0` to
  /// ASAN_OPTIONS); only for a scenario whose exit-time leak is CAF's own,
  /// with the reason at the call.
  bool no_leak_check = false;
};

/// Starts `path args...` with its stdout on a pipe.
child_process spawn_process(const std::string& path,
                            const std::vector<std::string>& args,
                            spawn_options opts = {});

/// Parses the port from a "listening on HOST:PORT" line; 0 if absent.
uint16_t parse_port(const std::string& line);

/// Sends 1000 random bytes (from `seed`) on `fd` and reads them back
/// within `timeout` each way: whether the peer echoes.
bool echoes_random(int fd, uint32_t seed, clock::duration timeout = 30s);

/// Sends `sig` to `child` (0: none, it was told to stop already) and
/// waits up to 30 s for its exit; succeeds if it exited with `code`.
/// `output` (if given) gets what it printed from then on until EOF.
::testing::AssertionResult exits_with(child_process& child, int sig, int code,
                                      std::string* output = nullptr);

/// The double-signal scenario of a server built on `net::serve`: starts
/// `path --port 0 --drain-timeout=60`, keeps one connection open (which
/// ignores the EOF, so the drain would wait 60 s), sends `sig`, and once
/// draining began (the connection saw EOF) sends `sig` again. Succeeds if
/// the server then exits with status 1 within 20 s; `output` (if given)
/// gets what it printed after its listening line.
::testing::AssertionResult exits_at_once_on_second_signal(
  const std::string& path, int sig, std::string* output = nullptr);

/// CPU time (user + system) of process `pid`, in seconds.
double cpu_seconds(int pid);

} // namespace actio::test
