// actio-httpd: an HTTP/1.1 server for the files under a directory, plus
// `GET /hello` answering the 13 bytes "Hello, World!" (text/plain), and a
// WebSocket echo at `/ws` (each message sent back as it came; a GET of /ws
// that is not a WebSocket handshake gets 426).
//
// Run:   build/bin/actio-httpd --port 8080 --root DIR [--host 127.0.0.1]
//        (options: --help; --actio.io.drivers=N, --actio.io.backend=...)
// Try:   curl -i http://127.0.0.1:8080/hello; curl -O http://127.0.0.1:8080/FILE
//        /usr/bin/python3 -m websockets ws://127.0.0.1:8080/ws  (python3-websockets)
// Stop:  Ctrl-C (SIGINT) or SIGTERM: the port closes, connections answer
//        what they received and end; a second signal exits at once.
//
// The handler is an actor: /hello is answered in place, every other
// request is delegated to the static-file actor, whose answer goes
// straight back to the connection (the response promise travels along).

#include <algorithm>
#include <chrono>
#include <iostream>

#include <caf/event_based_actor.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/pinned.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/http/metrics.hpp"
#include "actio/http/server.hpp"
#include "actio/http/static_files.hpp"
#include "actio/http/websocket_echo.hpp"
#include "actio/http/websocket_handshake.hpp"
#include "actio/io/file_service.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/tcp_listener.hpp"

namespace {

struct httpd_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string root;
  double drain_timeout = 5;
  double request_timeout = 30;
  size_t max_body = actio::http::limits{}.max_body;
  httpd_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to listen on (default 127.0.0.1)")
      .add(port, "port,p", "port to listen on, 0 = any (default 8080)")
      .add(root, "root", "directory whose files are served (required)")
      .add(request_timeout, "request-timeout",
           "seconds a request may take to arrive (default 30)")
      .add(max_body, "max-body", "largest request body in bytes (default 1 MiB)")
      .add(drain_timeout, "drain-timeout",
           "seconds a graceful stop waits for connections (default 5)");
    metrics.add_to(custom_options_);
  }
  actio::http::metrics_option metrics;
};

caf::behavior site(caf::event_based_actor* self, caf::actor files,
                   caf::actor ws_echo) {
  return {
    [self, files, ws_echo](actio::http::request& req)
      -> caf::result<actio::http::response> {
      if (req.path == "/hello")
        return actio::http::response::text(200, "Hello, World!");
      if (req.path == "/ws") { // (the server checked the handshake already)
        if (actio::http::wants_websocket(req))
          return actio::http::response::accept_websocket(ws_echo);
        auto r = actio::http::response::text(426, "a WebSocket endpoint\n");
        r.headers.emplace_back("Upgrade", "websocket");
        return r;
      }
      self->delegate(files, std::move(req)); // files answers the connection
      return caf::delegated<actio::http::response>{};
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  actio::net::catch_stop_signals(); // before any thread starts

  actio::cli::tool tool{"actio-httpd", "",
                        "HTTP/1.1 server for the files under --root DIR; "
                        "GET /hello answers \"Hello, World!\"; "
                        "/ws is a WebSocket echo; "
                        "SIGINT/SIGTERM drain and stop."};
  httpd_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv))
    return *status;
  if (auto status = tool.check_operands(cfg.remainder, {}))
    return *status;
  if (auto status = cfg.metrics.check(tool))
    return *status;
  if (cfg.root.empty())
    return tool.usage_error("--root DIR is required");
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-httpd: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  auto files = actio::http::spawn_static_files(
    sys, actio::io::spawn_file_service(**rt), cfg.root);
  if (!files) {
    std::cerr << "actio-httpd: " << sys.render(files.error()) << '\n';
    return 1;
  }
  actio::http::server_options opts;
  // The handler runs on the first driver thread, where the connections of
  // a one-driver server run too: a request and its answer then never cross
  // threads (on CAF's scheduler, the two context switches per request were
  // the largest item of the profile).
  opts.handler = actio::spawn_pinned_fn(
    (*rt)->unit(0),
    [files = *files, ws = actio::http::spawn_websocket_echo(sys)](
      actio::pinned_actor* self) { return site(self, files, ws); });
  opts.request_limits.max_body = cfg.max_body;
  if (cfg.metrics.given())
    opts.counters = actio::http::response_counters::in(
      actio::metrics::registry::global(), "http");
  opts.request_timeout = std::chrono::milliseconds{
    static_cast<int64_t>(std::max(cfg.request_timeout, 0.001) * 1000)};
  auto srv = actio::net::tcp_listen(**rt, {cfg.host, cfg.port},
                                    actio::http::server(opts));
  if (!srv) {
    std::cerr << "actio-httpd: " << sys.render(srv.error()) << '\n';
    return 1;
  }
  std::cout << "actio-httpd: listening on " << cfg.host << ':' << srv->port
            << " (backend " << (*rt)->backend_name() << ", " << (*rt)->drivers()
            << " driver thread(s))" << std::endl;
  auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(std::max(cfg.drain_timeout, 0.0)));
  actio::http::metrics_endpoint metrics; // after the runtime: ends before it
  if (auto status = metrics.start(cfg.metrics, **rt, tool, cfg.host,
                                  {{"http", srv->actor}}, std::cout))
    return *status;
  return actio::net::serve(**rt, metrics.with({srv->actor}),
                           {"actio-httpd", drain, &std::cout});
}
