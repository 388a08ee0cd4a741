// actio-file-node: a node that publishes a file service confined to a root
// directory (proto/remote_file_service.hpp), and a small client for it.
//
//   actio-file-node --root DIR [--node-port P] [--node-host H] [TLS options]
//       serves DIR; prints "file-node listening on HOST:PORT"; SIGINT or
//       SIGTERM stops it (exit 0). Per client (remote actor): at most
//       --max-in-flight requests (default 64) and --max-bytes-in-flight
//       bytes of reads and writes (default 64 MiB) in flight, more are
//       refused with too_many_requests; a read or write larger than
//       --max-transfer (default 16 MiB) is invalid_argument (and
//       actio.node.max-message-size is raised to fit one, if needed).
//       The file service that does the I/O runs under a one_for_one
//       supervisor (actors/supervisor.hpp): if it crashes it is restarted,
//       the requests it swallowed complete with errc::restarted, the open
//       files and the published service stay (more than 3 restarts in 5 s:
//       file requests fail with errc::restart_limit).
//   actio-file-node --connect HOST:PORT --cat PATH
//       prints the file PATH (relative to the server's root) to stdout;
//       exits 1 with the error text on stderr if it fails; SIGINT or
//       SIGTERM stop it at once (it dies of the signal, like cat).

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/http/metrics.hpp"
#include "actio/net/serve.hpp"
#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"
#include "actio/proto/node.hpp"
#include "actio/proto/node_guard.hpp"
#include "actio/proto/remote_file_service.hpp"

namespace {

using actio::proto::io::Completion;
using actio::proto::io::Request;

struct file_node_config : actio::node_config {
  std::string root;
  std::string connect;
  std::string cat;
  actio::io::remote_file_options limits;
  file_node_config() {
    opt_group{custom_options_, "global"}
      .add(root, "root", "serve the files below this directory")
      .add(limits.max_in_flight, "max-in-flight",
           "requests one client may have in flight; more are refused with "
           "too_many_requests (default 64)")
      .add(limits.max_transfer, "max-transfer",
           "largest read or write in bytes; larger: invalid_argument "
           "(default 16777216)")
      .add(limits.max_bytes_in_flight, "max-bytes-in-flight",
           "bytes of reads and writes one client may have in flight, at "
           "least --max-transfer; more: too_many_requests (default 67108864)")
      .add(node.host, "node-host",
           "address to publish on (= actio.node.host, default 127.0.0.1)")
      .add(node.port, "node-port",
           "port to publish on, 0 = any (= actio.node.port, default 0)")
      .add(connect, "connect", "client: the file node at HOST:PORT")
      .add(cat, "cat", "client: print this file (relative to the root)")
      .add(node.secure, "secure",
           "TLS between nodes (= actio.node.secure; needs the next three)")
      .add(node.certificate, "certificate",
           "this node's certificate, PEM (= actio.node.certificate)")
      .add(node.key, "key", "this node's private key, PEM (= actio.node.key)")
      .add(node.cafile, "cafile",
           "CA trusted for peers, PEM (= actio.node.cafile)");
    metrics.add_to(custom_options_);
  }
  actio::http::metrics_option metrics; ///< server only
};

int fail(const std::string& what) {
  std::cerr << "actio-file-node: " << what << '\n';
  return 1;
}

/// One request, one completion (bounded by 30 s).
Completion call(caf::scoped_actor& self, const caf::actor& svc,
                const Request& req) {
  Completion result;
  self->request(svc, std::chrono::seconds{30}, actio::proto::message<Request>{req})
    .receive([&](actio::proto::message<Completion>& c) { result = *c; },
             [&](caf::error& err) {
               result.mutable_error()->set_code(
                 static_cast<uint32_t>(actio::errc::system_error));
               result.mutable_error()->set_text(actio::describe(err));
             });
  return result;
}

int run_client(caf::actor_system& sys, const file_node_config& cfg) {
  // main caught SIGINT and SIGTERM for every thread (the server's serve()
  // takes them). The client has nothing to drain: this thread takes them
  // again with their default action, so they stop it at once, also while
  // it waits for a connect or a reply.
  actio::net::release_stop_signals();
  auto addr = actio::node::parse_address(cfg.connect);
  if (!addr)
    return fail(actio::describe(addr.error()));
  auto svc = actio::node::connect(sys, addr->first, addr->second, cfg.node);
  if (!svc)
    return fail("cannot connect: " + actio::describe(svc.error()));
  caf::scoped_actor self{sys};
  uint64_t id = 0;
  Request open;
  open.set_id(++id);
  open.mutable_open()->set_path(cfg.cat);
  open.mutable_open()->set_flags(0);
  auto opened = call(self, *svc, open);
  if (opened.has_error())
    return fail(opened.error().text());
  auto file = opened.value();
  uint64_t offset = 0;
  int status = 0;
  for (;;) {
    Request read;
    read.set_id(++id);
    read.mutable_read_at()->set_file(file);
    read.mutable_read_at()->set_offset(offset);
    read.mutable_read_at()->set_length(1 << 20);
    auto data = call(self, *svc, read);
    if (data.has_error()) {
      status = fail(data.error().text());
      break;
    }
    if (data.data().empty())
      break;
    std::fwrite(data.data().data(), 1, data.data().size(), stdout);
    offset += data.data().size();
  }
  std::fflush(stdout);
  Request close;
  close.set_id(++id);
  close.mutable_close()->set_file(file);
  call(self, *svc, close);
  return status;
}

int run_server(caf::actor_system& sys, const file_node_config& cfg,
               const actio::cli::tool& tool) {
  auto rt = actio::runtime::start(sys);
  if (!rt)
    return fail(sys.render(rt.error()));
  auto limits = cfg.limits;
  if (cfg.metrics.given())
    limits.metrics = &actio::metrics::registry::global();
  auto sup = actio::io::spawn_supervised_remote_file_service(**rt, cfg.root,
                                                             limits);
  if (!sup)
    return fail(actio::describe(sup.error()));
  auto svc = sup->service;
  auto stop_files = [&] {
    actio::send_local_exit(sys, svc);
    caf::anon_send_exit(sup->files.supervisor, caf::exit_reason::user_shutdown);
  };
  auto port = actio::node::publish(sys, svc, cfg.node);
  if (!port) {
    stop_files();
    return fail("cannot publish: " + actio::describe(port.error()));
  }
  std::cout << "file-node listening on " << cfg.node.host << ':' << *port
            << (cfg.node.secure ? " (TLS)" : " (plain)") << std::endl;
  actio::http::metrics_endpoint metrics; // after the runtime: ends before it
  if (auto status = metrics.start(cfg.metrics, **rt, tool, cfg.node.host, {},
                                  std::cout)) {
    stop_files();
    return *status;
  }
  // No listener of ours to drain: the node's links end with the process.
  actio::net::serve_options opts{"file-node", std::chrono::seconds{5},
                                 &std::cout};
  opts.on_stop.emplace_back(stop_files);
  return actio::net::serve(**rt, metrics.with({}), std::move(opts));
}

} // namespace

int main(int argc, char** argv) {
  actio::net::catch_stop_signals(); // before any thread starts
  actio::cli::tool tool{"actio-file-node", "",
                        "Serve the files below --root DIR to other nodes, or "
                        "(--connect HOST:PORT --cat PATH) print one of them."};
  file_node_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv, {}))
    return *status;
  if (auto status = cfg.metrics.check(tool))
    return *status;
  bool client = !cfg.connect.empty();
  if (client && cfg.metrics.given())
    return tool.usage_error("--metrics-port is for the server (--root DIR)");
  if (client == !cfg.root.empty() || client == cfg.cat.empty())
    return tool.usage_error("give --root DIR (server) or --connect HOST:PORT "
                            "--cat PATH (client)");
  // A write_at of --max-transfer bytes must fit in one node message.
  auto room = cfg.limits.max_transfer + (uint64_t{1} << 20);
  if (room > cfg.limits.max_transfer && room > cfg.node.max_message_size)
    cfg.node.max_message_size = room;
  if (auto err = cfg.prepare())
    return fail(actio::describe(err));
  caf::actor_system sys{cfg};
  return client ? run_client(sys, cfg) : run_server(sys, cfg, tool);
}
