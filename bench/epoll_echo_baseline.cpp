// actio-epoll-echo — baseline TCP echo server for the echo benchmark.
//
// A plain, single-threaded, level-triggered epoll echo server written in
// straightforward C++ (no actio, no CAF). It is the reference that
// actio-echo-bench compares actio-echo against: whatever actio costs on top
// of "epoll + read + write" shows up as the ratio between the two.
//
// Behaviour:
//   * non-blocking sockets, TCP_NODELAY on every accepted connection;
//   * read up to 64 KiB, write it straight back;
//   * if a write is short, the rest is kept in a per-connection buffer and the
//     connection waits for EPOLLOUT only (it is not read from again until the
//     pending output has been written);
//   * SIGINT / SIGTERM (through a signalfd in the epoll set) -> exit 0.
//
// After it listens it prints exactly one line to stdout and flushes:
//   actio-epoll-echo: listening on HOST:PORT
//
// Usage:
//   actio-epoll-echo [--host H] [--port P]
//     --host H   IPv4 address to bind (default 127.0.0.1)
//     --port P   TCP port (default 7001; 0 = let the OS choose)
//     --help     show this help
//
// Example:
//   build/bin/actio-epoll-echo --port 0
//   (normally started by build/bin/actio-echo-bench, see echo_bench.cpp)
//
// Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime error, 2 on bad usage.
// The command line and the listening socket are baseline_server.hpp's,
// shared with actio-uring-echo and actio-uv-echo.

#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "baseline_server.hpp"

namespace {

constexpr const char* prog = "actio-epoll-echo";
constexpr size_t read_buffer_size = 64 * 1024;
constexpr int max_events = 256;

// Per-connection state, indexed by file descriptor.
struct Conn {
  bool open = false;
  std::vector<char> pending; // output not yet accepted by the kernel
  size_t pending_off = 0;
};

const actio::cli::tool tool{prog, "",
                            "Single-threaded level-triggered epoll TCP echo "
                            "server: the baseline of actio-echo-bench."};

class Server {
public:
  Server(int epfd, int listen_fd) : epfd_(epfd), listen_fd_(listen_fd) {}

  void on_listener_ready() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return;
        if (errno == EINTR || errno == ECONNABORTED)
          continue;
        perror("accept4"); // e.g. EMFILE: retry on the next readiness event
        return;
      }
      int one = 1;
      if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        perror("setsockopt(TCP_NODELAY)");
      if (!ctl(EPOLL_CTL_ADD, fd, EPOLLIN)) {
        close(fd);
        continue;
      }
      if (static_cast<size_t>(fd) >= conns_.size())
        conns_.resize(static_cast<size_t>(fd) + 1);
      conns_[fd] = Conn{};
      conns_[fd].open = true;
    }
  }

  void on_conn_ready(int fd, uint32_t events) {
    if (static_cast<size_t>(fd) >= conns_.size() || !conns_[fd].open)
      return;
    Conn& c = conns_[fd];
    if (!c.pending.empty()) {
      // Waiting for EPOLLOUT; EPOLLERR/EPOLLHUP also end up here and the
      // write then reports the error.
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        flush_pending(fd, c);
      return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
      read_and_echo(fd, c);
  }

  void close_all() {
    for (size_t fd = 0; fd < conns_.size(); ++fd)
      if (conns_[fd].open)
        close_conn(static_cast<int>(fd));
  }

private:
  bool ctl(int op, int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, op, fd, &ev) < 0) {
      perror("epoll_ctl");
      return false;
    }
    return true;
  }

  void close_conn(int fd) {
    conns_[fd] = Conn{};
    close(fd); // also removes it from the epoll set
  }

  void read_and_echo(int fd, Conn& c) {
    ssize_t n = recv(fd, buf_.data(), buf_.size(), 0);
    if (n == 0) {
      close_conn(fd);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      close_conn(fd); // ECONNRESET and friends: the peer is gone
      return;
    }
    size_t len = static_cast<size_t>(n);
    size_t off = 0;
    while (off < len) {
      ssize_t w = send(fd, buf_.data() + off, len - off, MSG_NOSIGNAL);
      if (w >= 0) {
        off += static_cast<size_t>(w);
        continue;
      }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      close_conn(fd);
      return;
    }
    if (off < len) {
      // Short write: keep the rest, stop reading, wait until writable.
      c.pending.assign(buf_.data() + off, buf_.data() + len);
      c.pending_off = 0;
      if (!ctl(EPOLL_CTL_MOD, fd, EPOLLOUT))
        close_conn(fd);
    }
  }

  void flush_pending(int fd, Conn& c) {
    while (c.pending_off < c.pending.size()) {
      ssize_t w = send(fd, c.pending.data() + c.pending_off,
                       c.pending.size() - c.pending_off, MSG_NOSIGNAL);
      if (w >= 0) {
        c.pending_off += static_cast<size_t>(w);
        continue;
      }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return; // still pending, EPOLLOUT stays armed
      close_conn(fd);
      return;
    }
    c.pending.clear();
    c.pending_off = 0;
    if (!ctl(EPOLL_CTL_MOD, fd, EPOLLIN)) // resume reading
      close_conn(fd);
  }

  int epfd_;
  int listen_fd_;
  std::vector<Conn> conns_;
  std::vector<char> buf_ = std::vector<char>(read_buffer_size);
};

} // namespace

int main(int argc, char** argv) {
  baseline::Options opt = baseline::parse_args(tool, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  baseline::raise_fd_limit();

  // SIGINT/SIGTERM are delivered through a signalfd in the epoll set.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) {
    perror("sigprocmask");
    return 1;
  }
  int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sig_fd < 0) {
    perror("signalfd");
    return 1;
  }

  sockaddr_in bound{};
  int listen_fd = baseline::make_listener(tool, opt, SOCK_NONBLOCK, bound);

  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    perror("epoll_create1");
    return 1;
  }
  for (int fd : {listen_fd, sig_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
      perror("epoll_ctl");
      return 1;
    }
  }

  baseline::announce_listening(tool, bound);

  Server server(epfd, listen_fd);
  epoll_event events[max_events];
  for (bool running = true; running;) {
    int n = epoll_wait(epfd, events, max_events, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == sig_fd)
        running = false;
      else if (fd == listen_fd)
        server.on_listener_ready();
      else
        server.on_conn_ready(fd, events[i].events);
    }
  }

  server.close_all();
  close(listen_fd);
  close(sig_fd);
  close(epfd);
  return 0;
}
