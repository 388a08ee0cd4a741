// actio-echo: a TCP (or Unix stream socket) echo service written as
// connection actors.
//
// Shows: a listener that spawns one pinned connection actor per client, and
// a connection behaviour with credit-based reads (it reads only as much as
// it has written back, so a client that never reads cannot make the server
// buffer without bound), acknowledged writes, and the graceful end
// (connection::finish) on EOF and on drain, run by net::serve.
//
// Run:   build/bin/actio-echo --port 7000 [--host 127.0.0.1]
//        build/bin/actio-echo --unix /tmp/echo.sock   (or --unix @name)
//        build/bin/actio-echo --port 7443 --tls-cert server.pem
//          --tls-key server.key [--tls-client-ca ca.pem]   (TLS)
//        (options: --help; --actio.io.drivers=N,
//         --actio.io.backend=auto|uring|epoll)
// Try:   nc 127.0.0.1 7000      (type a line, it comes back; Ctrl-D, Ctrl-C)
//        nc -U /tmp/echo.sock   (with --unix /tmp/echo.sock)
//        openssl s_client -connect 127.0.0.1:7443 -CAfile ca.pem
//          -servername localhost   (with --tls-cert; curl has no TLS echo)
// Stop:  Ctrl-C (SIGINT) or SIGTERM: graceful drain. The port closes, each
//        connection finishes the echo in flight, shuts down its write side
//        (the client sees EOF) and ends when the client closes; whatever is
//        left at --drain-timeout (default 5 s) is closed. Prints the counts,
//        exits 0. A second signal exits at once (status 1).
// Distributed: --worker / --workers HOST:PORT,... echo through worker nodes
//        (cluster.hpp).

#include <iostream>

#include "actio/actors/runtime.hpp"
#include "actio/http/metrics.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/tls_options.hpp"
#include "actio/net/unix_listener.hpp"
#include "actio/proto/node.hpp"

#include "cluster.hpp"

namespace {

// The service: read as much as has been echoed back (credit), so a client
// that never reads cannot make it buffer without bound; on EOF or drain,
// finish() writes out what is queued, shuts down, reads to the client's EOF.
caf::behavior echo(actio::net::connection* self) {
  self->grant(64 * 1024); // bytes in flight per connection
  return {
    [=](actio::received& in) { self->write(std::move(in.bytes)); },
    [=](const actio::write_completed& out) {
      if (out.reason)
        self->close();
      else
        self->grant(out.bytes); // written back: read as much again
    },
    [=](const actio::read_closed&) { self->finish(); },
    [=](const actio::draining&) { self->finish(); },
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
    tls.add_server_options(custom_options_);
    metrics.add_to(custom_options_);
    echo_cluster::add_options(custom_options_, cluster, node);
  }
  actio::net::tls_options tls;
  actio::http::metrics_option metrics;
  echo_cluster::settings cluster;
};

} // namespace

int main(int argc, char** argv) {
  actio::net::catch_stop_signals(); // before any thread starts
  actio::cli::tool tool{"actio-echo", "",
                        "Echo TCP (or Unix stream socket) connections; "
                        "SIGINT/SIGTERM drain and stop."};
  echo_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv, {}))
    return *status;
  if (auto status = cfg.metrics.check(tool))
    return *status;
  auto drain = actio::net::drain_timeout_of(cfg.drain_timeout);
  actio::net::connection_options conn; // TLS files load now, not later
  if (auto status = cfg.tls.apply_server(tool, conn))
    return *status;
  if (cfg.cluster.wanted() && conn.tls)
    return tool.usage_error("--tls-cert is not available with --worker/--workers");
  if (cfg.cluster.wanted() && cfg.metrics.given())
    return tool.usage_error("--metrics-port is not available with --worker/--workers");
  if (cfg.cluster.wanted())
    return echo_cluster::run(tool, cfg, cfg.cluster, cfg.host, cfg.port,
                             drain);
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-echo: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  auto srv = cfg.unix_path.empty()
               ? actio::net::tcp_listen(**rt, {cfg.host, cfg.port}, echo, conn)
               : actio::net::unix_listen(**rt, {cfg.unix_path}, echo, conn);
  if (!srv) {
    std::cerr << "actio-echo: " << sys.render(srv.error()) << '\n';
    return 1;
  }
  actio::net::print_listening(
    std::cout, "actio-echo",
    (cfg.unix_path.empty() ? cfg.host + ':' + std::to_string(srv->port)
                           : "unix:" + cfg.unix_path)
      + (conn.tls ? " with TLS" : ""),
    **rt);
  std::cout << "actio-echo: backend " << (*rt)->backend_name() << ": "
            << (*rt)->backend_reason() << std::endl;
  actio::http::metrics_endpoint metrics; // after the runtime: ends before it
  if (auto status = metrics.start(cfg.metrics, **rt, tool, cfg.host,
                                  {{"echo", srv->actor}}, std::cout))
    return *status;
  return actio::net::serve(**rt, metrics.with({srv->actor}),
                           {"actio-echo", drain, &std::cout});
}
