// actio-uv-echo — libuv TCP echo server for the echo benchmark.
//
// A single-threaded echo server on libuv (Debian's libuv1-dev; no actio, no
// CAF): what an event-loop library that many runtimes build on costs, next to
// the hand-written epoll and io_uring loops (actio-epoll-echo,
// actio-uring-echo).
//
// Behaviour:
//   * one uv_loop, the listener opened from baseline_server.hpp's socket
//     (uv_tcp_open), TCP_NODELAY on every accepted connection;
//   * reads go into one 64 KiB buffer shared by all connections (libuv calls
//     alloc and then read for each read, so the bytes are consumed before the
//     next alloc): no allocation per read;
//   * what was read is written back with uv_try_write (a plain write(2), no
//     request); only what the kernel did not take is copied into a uv_write
//     request, and the connection stops reading until that write completes
//     (the same back-pressure as the epoll baseline);
//   * EOF or an error closes the connection;
//   * SIGINT / SIGTERM (uv_signal) -> exit 0.
//
// After it listens it prints exactly one line to stdout and flushes:
//   actio-uv-echo: listening on HOST:PORT
//
// Usage (baseline_server.hpp, the same as actio-epoll-echo):
//   actio-uv-echo [--host H] [--port P]
//     --host H   IPv4 address to bind (default 127.0.0.1)
//     --port P   TCP port (default 7001; 0 = let the OS choose)
//     --help     show this help
//
// Example:
//   build/bin/actio-uv-echo --port 0
//   (normally started by build/bin/actio-echo-bench, see echo_bench.cpp)
//
// Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime error, 2 on bad usage.

#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "baseline_server.hpp"

namespace {

constexpr const char* prog = "actio-uv-echo";
constexpr size_t read_buffer_size = 64 * 1024;

const actio::cli::tool tool{prog, "",
                            "Single-threaded libuv TCP echo server: a baseline of "
                            "actio-echo-bench."};

char read_buffer[read_buffer_size];

// One connection; `tcp` first, so the handle pointer is the Conn pointer.
// Its handle's `data` points to it (the listener's and the signals' are
// null), so that the walk at exit knows what to delete.
struct Conn {
  uv_tcp_t tcp;
  uv_write_t write_req;
  std::vector<char> pending; // what uv_try_write left, owned by write_req
};

Conn* conn_of(uv_stream_t* s) { return reinterpret_cast<Conn*>(s); }

void die(const char* what, int err) {
  std::fprintf(stderr, "%s: %s: %s\n", prog, what, uv_strerror(err));
  std::exit(1);
}

void on_closed(uv_handle_t* h) { delete reinterpret_cast<Conn*>(h); }

void close_conn(Conn* c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp)))
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_closed);
}

void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(read_buffer, sizeof read_buffer);
}

void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);

void on_written(uv_write_t* req, int status) {
  Conn* c = static_cast<Conn*>(req->data);
  c->pending.clear();
  if (status < 0) {
    close_conn(c); // also UV_ECANCELED when the handle is being closed
    return;
  }
  if (int r = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read); r < 0)
    close_conn(c);
}

void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  Conn* c = conn_of(s);
  if (nread < 0) { // UV_EOF, UV_ECONNRESET, ...
    close_conn(c);
    return;
  }
  if (nread == 0) // EAGAIN: nothing this time
    return;
  size_t len = static_cast<size_t>(nread);
  uv_buf_t out = uv_buf_init(buf->base, static_cast<unsigned>(len));
  int w = uv_try_write(s, &out, 1);
  if (w == UV_EAGAIN)
    w = 0;
  if (w < 0) {
    close_conn(c);
    return;
  }
  size_t off = static_cast<size_t>(w);
  if (off == len)
    return;
  // Short write: keep the rest, stop reading until it has been written.
  c->pending.assign(buf->base + off, buf->base + len);
  uv_buf_t rest = uv_buf_init(c->pending.data(), static_cast<unsigned>(c->pending.size()));
  c->write_req.data = c;
  uv_read_stop(s);
  if (uv_write(&c->write_req, s, &rest, 1, on_written) < 0)
    close_conn(c);
}

void on_connection(uv_stream_t* server, int status) {
  if (status < 0) { // e.g. EMFILE: libuv retries on the next readiness
    std::fprintf(stderr, "%s: accept: %s\n", prog, uv_strerror(status));
    return;
  }
  auto* c = new Conn;
  if (uv_tcp_init(server->loop, &c->tcp) < 0) {
    delete c;
    return;
  }
  c->tcp.data = c;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (uv_accept(server, stream) < 0) {
    close_conn(c);
    return;
  }
  if (int r = uv_tcp_nodelay(&c->tcp, 1); r < 0)
    std::fprintf(stderr, "%s: TCP_NODELAY: %s\n", prog, uv_strerror(r));
  if (uv_read_start(stream, on_alloc, on_read) < 0)
    close_conn(c);
}

void on_signal(uv_signal_t* sig, int) { uv_stop(sig->loop); }

// At exit: closes every handle (a connection's close callback deletes it;
// pending writes are cancelled first), so nothing is left for a leak check.
void close_any(uv_handle_t* h, void*) {
  if (!uv_is_closing(h))
    uv_close(h, h->data ? on_closed : nullptr);
}

} // namespace

int main(int argc, char** argv) {
  baseline::Options opt = baseline::parse_args(tool, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  baseline::raise_fd_limit();

  uv_loop_t* loop = uv_default_loop();
  uv_signal_t sigint{}, sigterm{};
  for (auto [handle, signum] : {std::pair{&sigint, SIGINT}, std::pair{&sigterm, SIGTERM}}) {
    if (int r = uv_signal_init(loop, handle); r < 0)
      die("uv_signal_init", r);
    if (int r = uv_signal_start(handle, on_signal, signum); r < 0)
      die("uv_signal_start", r);
  }

  sockaddr_in bound{};
  int listen_fd = baseline::make_listener(tool, opt, SOCK_NONBLOCK, bound);
  uv_tcp_t server{};
  if (int r = uv_tcp_init(loop, &server); r < 0)
    die("uv_tcp_init", r);
  if (int r = uv_tcp_open(&server, listen_fd); r < 0)
    die("uv_tcp_open", r);
  if (int r = uv_listen(reinterpret_cast<uv_stream_t*>(&server), SOMAXCONN, on_connection); r < 0)
    die("uv_listen", r);

  baseline::announce_listening(tool, bound);

  uv_run(loop, UV_RUN_DEFAULT); // returns after uv_stop (a signal)
  uv_walk(loop, close_any, nullptr);
  uv_run(loop, UV_RUN_DEFAULT); // runs the close callbacks
  uv_loop_close(loop);
  return 0;
}
