// actio-udp-echo: a UDP echo service written as one datagram socket actor.
//
// Shows: a bound UDP socket actor whose reads are credited in datagrams (it
// receives only as many as it has sent back, so a flood is dropped by the
// kernel instead of queueing in the process), send_to with one completion
// per datagram, and truncation reported instead of silently cut.
//
// Run:   build/bin/actio-udp-echo --port 7002 [--host 127.0.0.1]
//        [--backend auto|uring|epoll] [--max-datagram 65536]
//        (options: --help; --actio.io.drivers=N; --actio.log.file=PATH)
// Try:   nc -u 127.0.0.1 7002   (type a line, it comes back)
// Stop:  Ctrl-C (SIGINT) or SIGTERM: the socket closes, the process exits 0.

#include <csignal>
#include <iostream>

#include <caf/settings.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/log.hpp"
#include "actio/http/metrics.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/udp_socket.hpp"

namespace {

constexpr size_t window = 64; // datagrams in flight

caf::behavior echo(actio::net::datagram_socket* self) {
  self->grant(window);
  return {
    [=](actio::datagram_received& in) {
      // One line per truncated datagram would let a flood flood stderr too.
      if (in.truncated)
        actio::log::warn_limited("udp-echo truncated",
                                 {"udp-echo", to_string(in.from)},
                                 "datagram truncated to {} bytes",
                                 in.bytes.size());
      self->send_to(in.from, std::move(in.bytes));
    },
    // Sent (or failed: the peer is gone): receive one more either way.
    [=](const actio::write_completed&) { self->grant(1); },
    [=](const actio::datagram_error&) {}, // ICMP for a reply: nothing to do
  };
}

struct echo_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 7002;
  std::string backend;
  size_t max_datagram = 64 * 1024;
  echo_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to bind (default 127.0.0.1; :: for IPv6)")
      .add(port, "port,p", "UDP port to bind, 0 = any (default 7002)")
      .add(backend, "backend",
           "I/O backend: auto, uring, epoll (same as --actio.io.backend)")
      .add(max_datagram, "max-datagram",
           "receive size in bytes; longer datagrams are truncated (65536)");
    metrics.add_to(custom_options_);
  }
  actio::http::metrics_option metrics;
};

} // namespace

int main(int argc, char** argv) {
  actio::net::catch_stop_signals(); // before any thread starts

  actio::cli::tool tool{"actio-udp-echo", "",
                        "Echo UDP datagrams back to their sender."};
  echo_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv, {}))
    return *status;
  if (auto status = cfg.metrics.check(tool))
    return *status;
  if (!cfg.backend.empty())
    caf::put(cfg.content, "actio.io.backend", cfg.backend);
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-udp-echo: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  actio::net::udp_options opts;
  opts.host = cfg.host;
  opts.port = cfg.port;
  opts.max_datagram = cfg.max_datagram;
  auto srv = actio::net::udp_bind(**rt, opts, echo);
  if (!srv) {
    std::cerr << "actio-udp-echo: " << actio::describe(srv.error()) << '\n';
    return 1;
  }
  std::cout << "actio-udp-echo: listening on " << to_string(srv->local)
            << " (backend " << (*rt)->backend_name() << ")" << std::endl;
  // Datagrams have no connections to drain: serve() just waits for the
  // signal and shuts the runtime down.
  // The admin port is TCP, on the same address (no listener counts: no
  // connections; the driver series count the datagrams and their bytes).
  actio::http::metrics_endpoint metrics; // after the runtime: ends before it
  if (auto status = metrics.start(cfg.metrics, **rt, tool, cfg.host, {},
                                  std::cout))
    return *status;
  return actio::net::serve(**rt, metrics.with({}),
                           {"actio-udp-echo", {}, &std::cout});
}
