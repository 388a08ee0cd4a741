#include "cluster.hpp"

#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/proto/node_guard.hpp"
#include "line_client.hpp"
#include "pool.hpp"

namespace echo_cluster {

namespace {

// Published: guarded against exit messages from other nodes (node_guard.hpp).
caf::behavior echo_worker(actio::node_actor*, size_t /*unused*/) {
  return {
    [](std::string& line) { return std::move(line); },
  };
}

int run_worker(caf::actor_system& sys, const actio::node_config& cfg,
               std::chrono::milliseconds drain) {
  auto worker = sys.spawn(echo_worker, size_t{0});
  auto port = actio::node::publish(sys, worker, cfg.node);
  if (!port) {
    std::cerr << "actio-echo: cannot publish the worker: "
              << actio::describe(port.error()) << '\n';
    actio::send_local_exit(sys, worker);
    return 1;
  }
  std::cout << "actio-echo: worker listening on " << cfg.node.host << ':'
            << *port << (cfg.node.secure ? " (TLS)" : " (plain)")
            << std::endl;
  actio::net::serve_options opts{"actio-echo", drain, &std::cout};
  opts.on_stop.emplace_back([&] { actio::send_local_exit(sys, worker); });
  return actio::net::serve_counted(sys, {}, std::move(opts)).status;
}

int run_front_end(const actio::cli::tool& tool, caf::actor_system& sys,
                  const actio::node_config& cfg, const settings& s,
                  const std::string& host, uint16_t port,
                  std::chrono::milliseconds drain) {
  pool_options popts;
  popts.node = cfg.node;
  std::string list = s.workers;
  size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    auto item = list.substr(start, comma == std::string::npos
                                     ? std::string::npos
                                     : comma - start);
    if (!item.empty()) {
      auto addr = actio::node::parse_address(item);
      if (!addr)
        return tool.bad_value("--workers", item, "HOST:PORT[,HOST:PORT...]");
      popts.workers.push_back(*addr);
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (popts.workers.empty())
    return tool.bad_value("--workers", s.workers, "HOST:PORT[,HOST:PORT...]");
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-echo: " << actio::describe(rt.error()) << '\n';
    return 1;
  }
  auto pool = spawn_pool(sys, popts);
  auto srv = actio::net::tcp_listen(
    **rt, {host, port},
    [pool](actio::net::connection* self) { return line_client(self, pool); });
  if (!srv) {
    std::cerr << "actio-echo: " << actio::describe(srv.error()) << '\n';
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    return 1;
  }
  std::cout << "actio-echo: listening on " << host << ':' << srv->port
            << " (front-end for " << popts.workers.size() << " worker(s), "
            << (cfg.node.secure ? "TLS" : "plain") << ")" << std::endl;
  caf::anon_send(pool, caf::connect_atom::value); // now "worker ... up"
  actio::net::serve_options opts{"actio-echo", drain, &std::cout};
  opts.on_stop.emplace_back(
    [&] { caf::anon_send_exit(pool, caf::exit_reason::user_shutdown); });
  return actio::net::serve(**rt, {srv->actor}, std::move(opts));
}

} // namespace

void add_options(caf::config_option_set& opts, settings& s,
                 actio::node_options& node) {
  caf::config_option_adder{opts, "global"}
    .add(s.worker, "worker",
         "run as an echo worker node (publishes on --node-port)")
    .add(s.workers, "workers",
         "front-end: echo each line on these worker nodes, "
         "HOST:PORT[,HOST:PORT...]")
    .add(node.port, "node-port",
         "worker: node port to publish on, 0 = any (default 0)")
    .add(node.secure, "secure",
         "TLS between nodes (= actio.node.secure; needs the next three)")
    .add(node.certificate, "certificate",
         "this node's certificate, PEM (= actio.node.certificate)")
    .add(node.key, "key", "this node's private key, PEM (= actio.node.key)")
    .add(node.passphrase, "passphrase",
         "passphrase of the key (= actio.node.passphrase)")
    .add(node.cafile, "cafile",
         "CA trusted for peers, PEM (= actio.node.cafile)");
}

int run(const actio::cli::tool& tool, actio::node_config& cfg,
        const settings& s, const std::string& host, uint16_t port,
        std::chrono::milliseconds drain) {
  if (s.worker && !s.workers.empty())
    return tool.usage_error("--worker and --workers exclude each other");
  if (auto err = cfg.prepare())
    return tool.usage_error(actio::describe(err));
  caf::actor_system sys{cfg};
  if (s.worker)
    return run_worker(sys, cfg, drain);
  return run_front_end(tool, sys, cfg, s, host, port, drain);
}

} // namespace echo_cluster
