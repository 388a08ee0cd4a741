// actio-echo-bench: the load generator's client (see echo_bench.hpp).

#pragma once

#include "echo_bench.hpp"
#include "echo_bench_process.hpp"

namespace echo_bench {

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
inline void fill_pattern(uint32_t conn, uint64_t pos, size_t msg_size, uint8_t* out, size_t len) {
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


} // namespace echo_bench
