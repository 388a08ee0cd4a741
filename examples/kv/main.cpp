// actio-kv: an in-memory key-value server speaking the Redis protocol
// (RESP2), for a subset of Redis's string commands (README.md).
//
// Run:   build/bin/actio-kv --port 6380 [--host 127.0.0.1]
//        (options: --help; --actio.io.drivers=N, --actio.io.backend=...)
// Try:   redis-cli -p 6380 set greeting hello; redis-cli -p 6380 get greeting
// TLS:   --tls-cert server.pem --tls-key server.key [--tls-client-ca ca.pem];
//        redis-cli -p 6380 --tls --cacert ca.pem --sni localhost ping
// Stop:  Ctrl-C (SIGINT) or SIGTERM: the port closes, connections answer
//        what they read and end; what is left at --drain-timeout is closed.
//        A second signal exits at once (status 1).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <optional>

#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/http/metrics.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/tls_options.hpp"

#include "commands.hpp"
#include "session.hpp"

namespace {

struct kv_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 6380;
  double drain_timeout = 5;
  size_t max_bulk = kv::resp_limits{}.max_bulk;
  size_t max_args = kv::resp_limits{}.max_args;
  size_t max_inline = kv::resp_limits{}.max_inline;
  kv_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to listen on (default 127.0.0.1)")
      .add(port, "port,p", "port to listen on, 0 = any (default 6380)")
      .add(drain_timeout, "drain-timeout",
           "seconds a graceful stop waits for connections (default 5)")
      .add(max_bulk, "max-bulk",
           "longest argument in bytes (default 16 MiB)")
      .add(max_args, "max-args",
           "most arguments of one command (default 1048576)")
      .add(max_inline, "max-inline",
           "longest inline command line in bytes (default 65536)");
    tls.add_server_options(custom_options_);
    metrics.add_to(custom_options_);
  }
  actio::net::tls_options tls;
  actio::http::metrics_option metrics;
};

std::atomic<int64_t> clients{0};

} // namespace

int main(int argc, char** argv) {
  actio::net::catch_stop_signals(); // before any thread starts

  actio::cli::tool tool{"actio-kv", "",
                        "In-memory key-value server speaking the Redis "
                        "protocol (RESP2); SIGINT/SIGTERM drain and stop."};
  kv_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv, {}))
    return *status;
  if (auto status = cfg.metrics.check(tool))
    return *status;
  actio::net::connection_options conn; // TLS files load now, not later
  if (auto status = cfg.tls.apply_server(tool, conn))
    return *status;
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-kv: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  kv::session_options opts;
  opts.store = kv::spawn_store((*rt)->unit(0), &clients);
  opts.limits.max_bulk = cfg.max_bulk;
  opts.limits.max_args = cfg.max_args;
  opts.limits.max_inline = cfg.max_inline;
  opts.limits.max_command = std::max(opts.limits.max_command, 4 * cfg.max_bulk);
  opts.clients = &clients;
  static std::optional<kv::command_metrics> commands; // outlives every session
  if (cfg.metrics.given())
    opts.commands = &commands.emplace(actio::metrics::registry::global());
  auto srv = actio::net::tcp_listen(**rt, {cfg.host, cfg.port},
                                    kv::session(opts), conn);
  if (!srv) {
    std::cerr << "actio-kv: " << sys.render(srv.error()) << '\n';
    return 1;
  }
  actio::net::print_listening(std::cout, "actio-kv",
                              cfg.host + ':' + std::to_string(srv->port)
                                + (conn.tls ? " with TLS" : ""),
                              **rt);
  actio::http::metrics_endpoint metrics; // after the runtime: ends before it
  if (auto status = metrics.start(cfg.metrics, **rt, tool, cfg.host,
                                  {{"kv", srv->actor}}, std::cout))
    return *status;
  return actio::net::serve(**rt, metrics.with({srv->actor}),
                           {"actio-kv", actio::net::drain_timeout_of(
                                          cfg.drain_timeout),
                            &std::cout});
}
