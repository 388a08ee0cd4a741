// actio-chat: a chat service. Rooms are actors; each client is a connection
// actor speaking either text lines or length-delimited chat.proto frames.
//
// Run:   build/bin/actio-chat --port 7001 [--host 127.0.0.1]
//        (options: --help; clients over TLS: --tls-cert F --tls-key F
//        [--tls-client-ca F], then openssl s_client -connect 127.0.0.1:7001)
// Try:   nc 127.0.0.1 7001
//          /nick alice
//          /join lobby            -> * alice joined #lobby
//          hello                  -> <alice> hello   (to everyone in #lobby)
//          /list                  -> * rooms: #lobby
//                                    * members of #lobby: alice
//          /leave  /quit
//        build/bin/actio-chat-client --port 7001 --nick bob --room lobby
// Mode:  decided by the first byte a client sends: 0x00 starts a protobuf
//        frame (u32 big-endian length < 16 MiB, then a chat.Request);
//        anything else is a text-line client.
//        A client silent for 1 s after connecting is a text client; a text
//        client's first line is a welcome. /help lists the commands.
// Limits: lines over --max-line, frames over --max-frame and frames that are
//        no chat.Request get an error and the client is disconnected; so
//        do clients over --max-clients and clients idle (no byte either
//        way) for --idle-timeout. Requests beyond --rate/--burst, and a
//        paste faster than it is served, wait: the server stops reading
//        from that client meanwhile. A client whose unsent output exceeds
//        --max-queue bytes (it does not read) is disconnected.
// Stop:  Ctrl-C (SIGINT) or SIGTERM: the port closes, every client gets a
//        shutting_down error and EOF; connections still open after
//        --drain-timeout are closed. Exits 0; a second signal exits 1.
// Nodes: several actio-chat processes form one chat through CAF's
//        middleman (federation.hpp, node_settings.hpp):
//          actio-chat --port 7001 --node-port 7101
//          actio-chat --port 7002 --node-port 7102 --peer 127.0.0.1:7101
//          actio-chat --port 7003 --node-port 7103
//                     --peer 127.0.0.1:7101,127.0.0.1:7102
//        Each node prints "actio-chat: node port N" after the listening
//        line. Nodes do not relay: every pair needs a --peer in one
//        direction (a node learns of nodes that link to it). Clients on any node share the rooms: each message reaches
//        every member once, in sender order; nicks taken on a peer are
//        refused; /list shows rooms and members of all nodes. A node that
//        dies is noticed (heartbeats) and its members are announced as
//        left; when it returns it rejoins. Nothing is queued for a node
//        that is away. TLS: --secure --certificate F --key F --cafile F
//        (deploy/make-certs); a bad TLS setting exits 2 with a message.

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/http/metrics.hpp"
#include "actio/net/tls_options.hpp"
#include "actio/proto/node.hpp"
#include "chat_metrics.hpp"
#include "federation.hpp"
#include "node_settings.hpp"
#include "registry.hpp"
#include "session.hpp"
#include "web_gateway.hpp"

namespace {

struct chat_config : actio::node_config {
  std::string host = "127.0.0.1";
  uint16_t port = 7001;
  double drain_timeout = 5;
  size_t max_line = 1024;
  size_t max_frame = 4096;
  double rate = 20;
  double burst = 40;
  size_t max_queue = 1024 * 1024;
  size_t max_rooms = 1000;
  double idle_timeout = 300;
  size_t max_clients = 10000;
  int http_port = -1;
  chat_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to listen on (default 127.0.0.1)")
      .add(port, "port,p", "port to listen on, 0 = any (default 7001)")
      .add(max_line, "max-line",
           "longest text line in bytes; longer: error, disconnect "
           "(default 1024)")
      .add(max_frame, "max-frame",
           "largest protobuf frame payload in bytes, < 16 MiB; larger: "
           "error, disconnect (default 4096)")
      .add(rate, "rate",
           "requests per second per client (token bucket), 0 = no limit; "
           "beyond: the client's requests wait (default 20)")
      .add(burst, "burst", "requests a client may save up (default 40)")
      .add(max_queue, "max-queue",
           "unsent output bytes per client; beyond: the client is "
           "disconnected (default 1048576)")
      .add(max_rooms, "max-rooms",
           "rooms on this server; more: error (default 1000)")
      .add(max_clients, "max-clients",
           "clients at once, 0 = no limit; more: error, disconnect "
           "(default 10000)")
      .add(idle_timeout, "idle-timeout",
           "seconds without a byte to or from a client before it is "
           "disconnected, 0 = never (default 300)")
      .add(http_port, "http-port",
           "also serve the browser chat (a page at /, a WebSocket at /ws) "
           "on this port of --host, 0 = any (default: off)")
      .add(drain_timeout, "drain-timeout",
           "seconds a graceful stop waits for clients (default 5)");
    tls.add_server_options(custom_options_);
    chat::add_node_options(custom_options_, chat_node, node);
    metrics.add_to(custom_options_);
    chat::register_node_types(*this);
  }
  actio::http::metrics_option metrics;
  chat::node_settings chat_node;
  actio::net::tls_options tls; ///< clients' TLS (nodes: --secure ...)
};

/// Publishes the federation actor and starts its links; the port or 0.
uint16_t start_node(caf::actor_system& sys, const caf::actor& federation,
                    const chat::federation_options& fo) {
  auto port = actio::node::publish(sys, federation, fo.node);
  if (!port) {
    std::cerr << "actio-chat: cannot publish the node port: "
              << actio::describe(port.error()) << '\n';
    return 0;
  }
  std::cout << "actio-chat: node port " << *port << std::endl;
  std::string own = fo.node.host;
  own.append(":");
  own.append(std::to_string(*port));
  caf::scoped_actor self{sys};
  self->send(federation, caf::connect_atom::value, own);
  return *port;
}

} // namespace

int main(int argc, char** argv) {
  actio::net::catch_stop_signals(); // before any thread starts
  signal(SIGPIPE, SIG_IGN);

  actio::cli::tool tool{"actio-chat", "",
                        "A chat server: rooms, nicks, text lines or protobuf "
                        "frames; optionally federated with peer nodes."};
  chat_config cfg;
  auto args = chat::merge_peer_args(argc, argv);
  std::vector<char*> argv2;
  for (auto& a : args)
    argv2.push_back(a.data());
  if (auto status = cfg.parse_args(tool, static_cast<int>(argv2.size()),
                                   argv2.data()))
    return *status;
  if (auto status = tool.check_operands(cfg.remainder, {}))
    return *status;
  if (auto status = cfg.metrics.check(tool))
    return *status;
  if (cfg.max_frame == 0 || cfg.max_frame >= 16 * 1024 * 1024
      || cfg.max_line == 0 || cfg.max_queue == 0)
    return tool.usage_error("--max-frame must be 1..16777215, --max-line "
                            "and --max-queue positive");
  if (cfg.http_port < -1 || cfg.http_port > 65535)
    return tool.usage_error("--http-port: '" + std::to_string(cfg.http_port)
                            + "' is not a port number (0-65535)");
  auto fo = chat::federation_settings(cfg.chat_node, cfg.node);
  if (!fo)
    return tool.usage_error(actio::describe(fo.error()));
  actio::net::connection_options co; // client TLS files load now
  if (auto status = cfg.tls.apply_server(tool, co))
    return *status;
  bool node_mode = cfg.chat_node.wanted();
  if (node_mode) {
    // Checks the TLS files before CAF sees them: no anonymous TLS, no
    // std::terminate on a CA file without a certificate.
    if (auto err = cfg.prepare()) {
      std::cerr << "actio-chat: " << actio::describe(err) << '\n';
      return 2;
    }
  }
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-chat: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  // The chat's series and the node links' (when --metrics-port is given);
  // static: they outlive every actor that counts.
  static std::optional<chat::chat_metrics> counted;
  if (cfg.metrics.given()) {
    counted.emplace(actio::metrics::registry::global());
    fo->metrics = &actio::metrics::registry::global();
  }
  auto registry = chat::spawn_registry(sys, cfg.max_rooms,
                                       cfg.chat_node.limits,
                                       counted ? &*counted : nullptr);
  chat::session_options so;
  so.max_line = cfg.max_line;
  so.max_frame = cfg.max_frame;
  so.rate = cfg.rate;
  so.burst = cfg.burst;
  so.max_queue = cfg.max_queue;
  so.max_clients = cfg.max_clients;
  so.clients = std::make_shared<std::atomic<size_t>>(0);
  so.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(std::max(cfg.idle_timeout, 0.0)));
  // Our own --max-queue check disconnects first; the driver's hard limit
  // is only a backstop.
  co.limits.max_queued = cfg.max_queue + 2 * cfg.max_frame + 64 * 1024;
  co.limits.high_watermark = co.limits.max_queued;
  co.limits.low_watermark = co.limits.max_queued / 2;
  auto sessions = [registry, so](actio::net::connection* self) {
    return chat::session(self, registry, so);
  };
  auto srv = actio::net::tcp_listen(**rt, {cfg.host, cfg.port}, sessions, co);
  caf::scoped_actor self{sys};
  std::optional<chat::web_gateway> web;
  auto stop = [&](caf::actor federation) {
    if (web)
      web->stop();
    if (federation)
      self->send_exit(federation, caf::exit_reason::user_shutdown);
    self->send_exit(registry, caf::exit_reason::user_shutdown);
    (*rt)->shutdown();
  };
  if (!srv) {
    std::cerr << "actio-chat: " << sys.render(srv.error()) << '\n';
    stop(nullptr);
    return 1;
  }
  std::cout << "actio-chat: listening on " << cfg.host << ':' << srv->port
            << (co.tls ? " with TLS" : "") << " (backend " << (*rt)->backend_name() << ")" << std::endl;
  std::vector<caf::actor> listeners{srv->actor};
  if (cfg.http_port >= 0) {
    chat::web_options wo;
    wo.host = cfg.host;
    wo.port = static_cast<uint16_t>(cfg.http_port);
    wo.conn.tls = co.tls;
    auto gw = chat::start_web(**rt, wo, sessions, co);
    if (!gw) {
      std::cerr << "actio-chat: --http-port: " << sys.render(gw.error()) << '\n';
      stop(nullptr);
      return 1;
    }
    web = std::move(*gw);
    listeners.push_back(web->sessions.actor);
    listeners.push_back(web->http.actor);
    std::cout << "actio-chat: web chat on " << (co.tls ? "https://" : "http://")
              << cfg.host << ':' << web->port << "/" << std::endl;
  }
  caf::actor federation;
  if (node_mode) {
    federation = chat::spawn_federation(sys, registry, *fo);
    if (start_node(sys, federation, *fo) == 0) {
      stop(federation);
      return 1;
    }
  }
  actio::http::metrics_endpoint metrics; // after the runtime: ends before it
  if (auto status = metrics.start(cfg.metrics, **rt, tool, cfg.host,
                                  {{"chat", srv->actor}}, std::cout)) {
    stop(federation);
    return *status;
  }
  actio::net::serve_options opts{
    "actio-chat", actio::net::drain_timeout_of(cfg.drain_timeout), &std::cout};
  opts.on_stop.emplace_back([&] { stop(federation); });
  return actio::net::serve(**rt, metrics.with(std::move(listeners)),
                           std::move(opts));
}
