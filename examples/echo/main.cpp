// actio-echo: a TCP (or Unix stream socket) echo service written as
// connection actors.
//
// Shows: a listener that spawns one pinned connection actor per client, and
// a connection behaviour with credit-based reads (it reads only as much as
// it has written back, so a client that never reads cannot make the server
// buffer without bound), acknowledged writes and half-close.
//
// Run:   build/bin/actio-echo --port 7000 [--host 127.0.0.1]
//        build/bin/actio-echo --unix /tmp/echo.sock   (or --unix @name)
//        (options: --help; --actio.io.drivers=N,
//         --actio.io.backend=auto|uring|epoll)
// Try:   nc 127.0.0.1 7000      (type a line, it comes back; Ctrl-D, Ctrl-C)
//        nc -U /tmp/echo.sock
// Stop:  Ctrl-C (SIGINT) or SIGTERM: connections close, the process exits 0.

#include <csignal>
#include <iostream>

#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/unix_listener.hpp"

namespace {

constexpr size_t window = 64 * 1024; // bytes in flight per connection

caf::behavior echo(actio::net::connection* self) {
  self->grant(window);
  return {
    [=](actio::received& in) { self->write(std::move(in.bytes)); },
    [=](const actio::write_completed& out) {
      if (out.reason)
        self->close();
      else
        self->grant(out.bytes); // written back: read as much again
    },
    [=](const actio::read_closed&) { self->shutdown_write(); },
    [=](const actio::shutdown_completed&) { self->close(); },
  };
}

struct echo_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 7000;
  std::string unix_path;
  echo_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to listen on (default 127.0.0.1)")
      .add(port, "port,p", "port to listen on, 0 = any (default 7000)")
      .add(unix_path, "unix",
           "serve on this Unix stream socket path (\"@name\": abstract) "
           "instead of TCP; a stale socket file is replaced");
  }
};

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts; main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  echo_config cfg;
  if (auto err = cfg.parse_args(argc, argv)) {
    std::cerr << "actio-echo: " << to_string(err) << '\n';
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-echo: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  auto srv = cfg.unix_path.empty()
               ? actio::net::tcp_listen(**rt, {cfg.host, cfg.port}, echo)
               : actio::net::unix_listen(**rt, {cfg.unix_path}, echo);
  if (!srv) {
    std::cerr << "actio-echo: " << sys.render(srv.error()) << '\n';
    return 1;
  }
  std::cout << "actio-echo: listening on ";
  if (cfg.unix_path.empty())
    std::cout << cfg.host << ':' << srv->port;
  else
    std::cout << "unix:" << cfg.unix_path;
  std::cout << " (backend " << (*rt)->backend_name() << ", "
            << (*rt)->drivers() << " driver thread(s))" << std::endl;
  std::cout << "actio-echo: backend " << (*rt)->backend_name() << ": "
            << (*rt)->backend_reason() << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cout << "actio-echo: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ", shutting down" << std::endl;
  (*rt)->shutdown();
  return 0;
}
