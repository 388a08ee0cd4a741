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
//        nc -U /tmp/echo.sock   (with --unix /tmp/echo.sock)
// Stop:  Ctrl-C (SIGINT) or SIGTERM: graceful drain. The port closes, each
//        connection finishes the echo in flight, shuts down its write side
//        (the client sees EOF) and ends when the client closes; whatever is
//        left at --drain-timeout (default 5 s) is closed. Prints the counts,
//        exits 0. A second signal exits at once (status 1).
// Distributed: --worker / --workers HOST:PORT,... echo through worker nodes
//        (cluster.hpp).

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/unix_listener.hpp"
#include "actio/proto/node.hpp"

#include "cluster.hpp"

namespace {

constexpr size_t window = 64 * 1024; // bytes in flight per connection

struct echo_state {
  size_t in_flight = 0;  // writes not yet acknowledged
  bool draining = false; // finish what is in flight, then shut down
  bool shut = false;     // write side shutting down
  bool shut_done = false; // write side shut down
  bool eof = false;      // the client finished sending
};

caf::behavior echo(actio::net::connection* self) {
  auto st = std::make_shared<echo_state>();
  auto shut = [=] {
    if (!st->shut) {
      st->shut = true;
      self->shutdown_write();
    }
  };
  self->grant(window);
  return {
    [=](actio::received& in) {
      if (st->shut) { // draining: dropped, but read on to the client's EOF
        self->grant(in.bytes.size());
        return;
      }
      ++st->in_flight;
      self->write(std::move(in.bytes));
    },
    [=](const actio::write_completed& out) {
      --st->in_flight;
      if (out.reason) {
        self->close();
        return;
      }
      // Written back: read as much again. Also when draining: after the
      // shutdown the bytes read are dropped, but reading must go on to the
      // client's EOF, and without this grant a last write that used the
      // whole window left no credit, so the drain waited for its deadline.
      self->grant(out.bytes);
      if (st->draining && st->in_flight == 0)
        shut();
    },
    [=](const actio::draining&) {
      st->draining = true;
      if (st->in_flight == 0)
        shut();
    },
    [=](const actio::read_closed&) {
      st->eof = true;
      if (st->shut_done)
        self->close();
      else
        shut();
    },
    [=](const actio::shutdown_completed&) {
      st->shut_done = true;
      if (st->eof) // else wait for the client's EOF: closing with unread
        self->close(); // input would reset the connection
    },
  };
}

struct echo_config : actio::node_config {
  std::string host = "127.0.0.1";
  uint16_t port = 7000;
  double drain_timeout = 5;
  std::string unix_path;
  echo_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to listen on (default 127.0.0.1)")
      .add(port, "port,p", "port to listen on, 0 = any (default 7000)")
      .add(drain_timeout, "drain-timeout",
           "seconds a graceful stop waits for connections (default 5)")
      .add(unix_path, "unix",
           "serve on this Unix stream socket path (\"@name\": abstract) "
           "instead of TCP; a stale socket file is replaced");
    echo_cluster::add_options(custom_options_, cluster, node);
  }
  echo_cluster::settings cluster;
};

} // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts; main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  actio::cli::tool tool{"actio-echo", "",
                        "Echo TCP (or Unix stream socket) connections; "
                        "SIGINT/SIGTERM drain and stop."};
  echo_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv))
    return *status;
  if (auto status = tool.check_operands(cfg.remainder, {}))
    return *status;
  if (cfg.cluster.wanted())
    return echo_cluster::run(tool, cfg, cfg.cluster, cfg.host, cfg.port,
                             stop_signals);
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
  auto name = [](int s) { return s == SIGINT ? "SIGINT" : "SIGTERM"; };
  std::cout << "actio-echo: " << name(sig) << ", draining (up to "
            << cfg.drain_timeout << " s; signal again to exit now)"
            << std::endl;
  std::thread{[&] {
    int again = 0;
    sigwait(&stop_signals, &again);
    std::cout << "actio-echo: " << name(again) << " again, exiting now"
              << std::endl;
    std::_Exit(1);
  }}.detach();
  auto deadline = std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double>(std::max(cfg.drain_timeout, 0.0)));
  caf::scoped_actor self{sys};
  self
    ->request(srv->actor, deadline + std::chrono::seconds{30},
              actio::net::drain_atom::value, deadline)
    .receive(
      [](const actio::net::drain_result& r) {
        std::cout << "actio-echo: drained " << r.drained << " connection(s), "
                  << r.forced << " closed at the deadline" << std::endl;
      },
      [&](const caf::error& err) {
        std::cout << "actio-echo: drain failed: " << sys.render(err)
                  << std::endl;
      });
  (*rt)->shutdown();
  return 0;
}
