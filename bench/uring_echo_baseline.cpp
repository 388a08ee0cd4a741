// actio-uring-echo — plain io_uring TCP echo server for the echo benchmark.
//
// A single-threaded echo server on liburing (no actio, no CAF), written the
// straightforward fast way, as a second reference next to actio-epoll-echo:
// the issue's target for actio is to match the better of the two.
//
// Behaviour:
//   * one ring (SINGLE_ISSUER | DEFER_TASKRUN when the kernel has them:
//     completions are run only when we wait, in our thread), its fd
//     registered;
//   * multishot accept on the listener (re-armed if it ever ends),
//     TCP_NODELAY on every accepted connection;
//   * one multishot recv per connection, into a provided-buffer ring shared
//     by all connections (buffer_count x buffer_size): every completion
//     names the buffer that holds the bytes;
//   * the buffers received are queued per connection and sent back in order,
//     one send in flight per connection (two concurrent sends on one stream
//     could interleave after a short send); a short send resubmits the rest;
//     a buffer goes back to the ring once all of it has been sent;
//   * when the ring runs dry, a recv ends with ENOBUFS (the bytes stay in the
//     socket); the connection is re-armed once buffers come back;
//   * a connection holding max_held buffers (a peer that sends but does not
//     read) has its recv cancelled and re-armed when all it holds has been
//     sent, so one connection cannot take every buffer; like the epoll
//     baseline, which stops reading while output is pending;
//   * EOF: what was received is still echoed, then the socket is closed. A
//     socket is closed only when none of its operations is in flight, so a
//     completion never meets a reused descriptor;
//   * SIGINT / SIGTERM (a signalfd read through the ring) -> exit 0.
//
// After it listens it prints exactly one line to stdout and flushes:
//   actio-uring-echo: listening on HOST:PORT
//
// Usage (baseline_server.hpp, the same as actio-epoll-echo):
//   actio-uring-echo [--host H] [--port P]
//     --host H   IPv4 address to bind (default 127.0.0.1)
//     --port P   TCP port (default 7001; 0 = let the OS choose)
//     --help     show this help
//
// Example:
//   build/bin/actio-uring-echo --port 0
//   (normally started by build/bin/actio-echo-bench, see echo_bench.cpp)
//
// Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime error (e.g. io_uring not
// available), 2 on bad usage.

#include <liburing.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <vector>

#include "baseline_server.hpp"

namespace {

constexpr const char* prog = "actio-uring-echo";
constexpr unsigned ring_entries = 4096;
constexpr unsigned cq_entries = 4 * ring_entries;
// 4096 x 16 KiB: 64 MiB of address space, resident only where touched (a
// 64-byte message touches one page of its buffer). 16 KiB takes a bulk
// message in one completion.
constexpr unsigned buffer_count = 4096; // a power of two (ring size)
constexpr unsigned buffer_size = 16 * 1024;
constexpr unsigned max_held = 64; // buffers queued on one connection
constexpr uint16_t buffer_group = 0;

const actio::cli::tool tool{prog, "",
                            "Single-threaded io_uring TCP echo server (multishot "
                            "recv, provided buffers): a baseline of "
                            "actio-echo-bench."};

// user_data: the descriptor and the operation, so that a completion finds
// its connection (descriptors are not reused while an operation is in flight).
enum Op : uint64_t { op_accept = 1, op_recv, op_send, op_cancel, op_signal };
uint64_t tag(int fd, Op op) { return (static_cast<uint64_t>(fd) << 3) | op; }
int tag_fd(uint64_t t) { return static_cast<int>(t >> 3); }
Op tag_op(uint64_t t) { return static_cast<Op>(t & 7); }

// Bytes received in one provided buffer, waiting to be sent back.
struct Chunk {
  uint16_t bid;
  uint32_t off; // sent so far
  uint32_t len;
};

// Per-connection state, indexed by file descriptor.
struct Conn {
  bool open = false;
  bool recv_armed = false;
  bool sending = false;
  bool cancel_sent = false; // recv cancel submitted (held too many buffers)
  bool eof = false;         // the peer will send nothing more
  bool closing = false;     // shut down; closed when in_flight reaches 0
  bool starved = false;     // in the starved list (waiting for buffers)
  int in_flight = 0;        // operations whose last completion is pending
  std::deque<Chunk> out;
};

class Server {
public:
  Server(io_uring& ring, int listen_fd) : ring_(ring), listen_fd_(listen_fd) { setup_buffers(); }

  void arm_accept() {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, tag(listen_fd_, op_accept));
  }

  // Handles one completion; returns false on the stop signal.
  bool on_cqe(const io_uring_cqe& cqe) {
    uint64_t t = cqe.user_data;
    switch (tag_op(t)) {
      case op_accept:
        on_accept(cqe);
        return true;
      case op_recv:
        on_recv(tag_fd(t), cqe);
        return true;
      case op_send:
        on_send(tag_fd(t), cqe.res);
        return true;
      case op_cancel:
        op_done(tag_fd(t));
        return true;
      case op_signal:
        return false;
    }
    return true;
  }

  // After a batch of completions: buffers that came back go to the kernel in
  // one store, and connections that ran dry try again.
  void after_batch() {
    if (returned_ > 0) {
      io_uring_buf_ring_advance(br_, static_cast<int>(returned_));
      returned_ = 0;
    }
    while (!starved_.empty() && free_ > 0) {
      int fd = starved_.front();
      starved_.pop_front();
      Conn& c = conns_[fd];
      c.starved = false;
      maybe_arm_recv(fd, c);
    }
  }

  void close_all() {
    for (size_t fd = 0; fd < conns_.size(); ++fd)
      if (conns_[fd].open)
        close(static_cast<int>(fd)); // exiting: in-flight operations die with the ring
  }

  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (!sqe) { // submission queue full: hand it to the kernel first
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

private:
  void setup_buffers() {
    size_t ring_bytes = sizeof(io_uring_buf) * buffer_count;
    void* mem = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      perror("mmap(buffer ring)");
      std::exit(1);
    }
    br_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(br_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uintptr_t>(mem);
    reg.ring_entries = buffer_count;
    reg.bgid = buffer_group;
    if (int r = io_uring_register_buf_ring(&ring_, &reg, 0); r < 0) {
      std::fprintf(stderr, "%s: io_uring_register_buf_ring: %s\n", prog, std::strerror(-r));
      std::exit(1);
    }
    // mmap rather than a vector: untouched pages stay unallocated (a vector
    // would zero all 64 MiB at startup and keep them resident).
    void* pool = mmap(nullptr, size_t{buffer_count} * buffer_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pool == MAP_FAILED) {
      perror("mmap(buffers)");
      std::exit(1);
    }
    pool_ = static_cast<char*>(pool);
    for (unsigned i = 0; i < buffer_count; ++i)
      io_uring_buf_ring_add(br_, buffer(static_cast<uint16_t>(i)), buffer_size,
                            static_cast<uint16_t>(i), io_uring_buf_ring_mask(buffer_count),
                            static_cast<int>(i));
    io_uring_buf_ring_advance(br_, static_cast<int>(buffer_count));
    free_ = buffer_count;
  }

  char* buffer(uint16_t bid) { return pool_ + size_t{bid} * buffer_size; }

  void give_back(uint16_t bid) {
    io_uring_buf_ring_add(br_, buffer(bid), buffer_size, bid, io_uring_buf_ring_mask(buffer_count),
                          static_cast<int>(returned_));
    ++returned_;
    ++free_;
  }

  void on_accept(const io_uring_cqe& cqe) {
    if (!(cqe.flags & IORING_CQE_F_MORE))
      arm_accept(); // multishot accept ended (e.g. after an error): re-arm
    if (cqe.res < 0) {
      if (cqe.res != -ECONNABORTED && cqe.res != -EINTR)
        std::fprintf(stderr, "%s: accept: %s\n", prog, std::strerror(-cqe.res));
      return;
    }
    int fd = cqe.res;
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
      perror("setsockopt(TCP_NODELAY)");
    if (static_cast<size_t>(fd) >= conns_.size())
      conns_.resize(static_cast<size_t>(fd) + 1);
    conns_[fd] = Conn{};
    conns_[fd].open = true;
    maybe_arm_recv(fd, conns_[fd]);
  }

  // Arms the connection's multishot recv unless it must not read now (EOF,
  // closing, too much held) or has no buffers to read into (then it waits in
  // the starved list).
  void maybe_arm_recv(int fd, Conn& c) {
    if (!c.open || c.recv_armed || c.eof || c.closing || c.out.size() >= max_held)
      return;
    if (free_ == 0) {
      if (!c.starved) {
        c.starved = true;
        starved_.push_back(fd);
      }
      return;
    }
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
    io_uring_sqe_set_data64(sqe, tag(fd, op_recv));
    c.recv_armed = true;
    c.cancel_sent = false;
    ++c.in_flight;
  }

  void on_recv(int fd, const io_uring_cqe& cqe) {
    Conn& c = conns_[fd];
    if (cqe.flags & IORING_CQE_F_BUFFER) {
      auto bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      --free_;
      if (cqe.res > 0 && !c.closing) {
        c.out.push_back(Chunk{bid, 0, static_cast<uint32_t>(cqe.res)});
        if (!c.sending)
          send_front(fd, c);
        if (c.out.size() >= max_held && !c.cancel_sent && (cqe.flags & IORING_CQE_F_MORE)) {
          // A peer that does not read: stop taking buffers for it.
          io_uring_sqe* sqe = get_sqe();
          io_uring_prep_cancel64(sqe, tag(fd, op_recv), 0);
          io_uring_sqe_set_data64(sqe, tag(fd, op_cancel));
          c.cancel_sent = true;
          ++c.in_flight;
        }
      } else {
        give_back(bid);
      }
    }
    if (cqe.flags & IORING_CQE_F_MORE)
      return; // the recv stays armed
    c.recv_armed = false;
    if (cqe.res == 0) {
      c.eof = true; // echo what is queued, then close
      if (!c.sending)
        shut(fd, c);
    } else if (cqe.res < 0 && cqe.res != -ENOBUFS && cqe.res != -ECANCELED) {
      shut(fd, c); // ECONNRESET and friends: the peer is gone
    } else {
      maybe_arm_recv(fd, c); // ran dry, cancelled or just ended: again
    }
    op_done(fd);
  }

  void send_front(int fd, Conn& c) {
    const Chunk& ch = c.out.front();
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_send(sqe, fd, buffer(ch.bid) + ch.off, ch.len - ch.off, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag(fd, op_send));
    c.sending = true;
    ++c.in_flight;
  }

  void on_send(int fd, int res) {
    Conn& c = conns_[fd];
    c.sending = false;
    if (res < 0 || c.closing) {
      shut(fd, c);
    } else {
      Chunk& ch = c.out.front();
      ch.off += static_cast<uint32_t>(res);
      if (ch.off == ch.len) {
        give_back(ch.bid);
        c.out.pop_front();
      }
      if (!c.out.empty())
        send_front(fd, c); // the rest of a short send, or the next chunk
      else if (c.eof)
        shut(fd, c);
      else
        maybe_arm_recv(fd, c); // resumes a connection that held too much
    }
    op_done(fd);
  }

  // Stops the connection: shutdown() ends its recv and send (their
  // completions still arrive); the descriptor is closed in op_done once
  // nothing is in flight.
  void shut(int fd, Conn& c) {
    if (!c.closing) {
      c.closing = true;
      shutdown(fd, SHUT_RDWR);
    }
  }

  void op_done(int fd) {
    Conn& c = conns_[fd];
    if (--c.in_flight > 0 || !c.closing)
      return;
    for (const Chunk& ch : c.out)
      give_back(ch.bid);
    // A stale entry in starved_ is harmless: maybe_arm_recv skips a closed
    // connection and one that is armed already.
    c = Conn{};
    close(fd);
  }

  io_uring& ring_;
  int listen_fd_;
  io_uring_buf_ring* br_ = nullptr;
  char* pool_ = nullptr; // buffer_count x buffer_size, mmap'ed
  unsigned returned_ = 0; // buffers added to the ring, not yet published
  unsigned free_ = 0;     // buffers the kernel may fill
  std::vector<Conn> conns_;
  std::deque<int> starved_;
};

void init_ring(io_uring& ring) {
  io_uring_params p{};
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  p.cq_entries = cq_entries;
  int r = io_uring_queue_init_params(ring_entries, &ring, &p);
  if (r == -EINVAL) { // a kernel before 6.1: without the task-run flags
    p = io_uring_params{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
    r = io_uring_queue_init_params(ring_entries, &ring, &p);
  }
  if (r < 0) {
    std::fprintf(stderr, "%s: io_uring_queue_init: %s\n", prog, std::strerror(-r));
    std::exit(1);
  }
  io_uring_register_ring_fd(&ring); // optional: saves an fd lookup per enter
}

} // namespace

int main(int argc, char** argv) {
  baseline::Options opt = baseline::parse_args(tool, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  baseline::raise_fd_limit();

  // SIGINT/SIGTERM arrive as a read on a signalfd, submitted to the ring.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) {
    perror("sigprocmask");
    return 1;
  }
  int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sig_fd < 0) {
    perror("signalfd");
    return 1;
  }

  sockaddr_in bound{};
  int listen_fd = baseline::make_listener(tool, opt, 0, bound);
  io_uring ring;
  init_ring(ring);
  Server server(ring, listen_fd);
  server.arm_accept();
  signalfd_siginfo siginfo{};
  io_uring_sqe* sqe = server.get_sqe();
  io_uring_prep_read(sqe, sig_fd, &siginfo, sizeof siginfo, 0);
  io_uring_sqe_set_data64(sqe, tag(sig_fd, op_signal));

  baseline::announce_listening(tool, bound);

  for (bool running = true; running;) {
    int r = io_uring_submit_and_wait(&ring, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      std::fprintf(stderr, "%s: io_uring_submit_and_wait: %s\n", prog, std::strerror(-r));
      return 1;
    }
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      if (!server.on_cqe(*cqe))
        running = false;
    }
    io_uring_cq_advance(&ring, seen);
    server.after_batch();
  }

  server.close_all();
  io_uring_queue_exit(&ring);
  close(listen_fd);
  close(sig_fd);
  return 0;
}
