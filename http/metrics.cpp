#include "actio/http/metrics.hpp"

#include <chrono>

#include <caf/config_option_adder.hpp>
#include <caf/event_based_actor.hpp>

#include "actio/actors/cli/values.hpp"
#include "actio/http/server.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/listener.hpp"
#include "actio/net/tcp_listener.hpp"

namespace actio::http {

namespace {

constexpr auto stats_timeout = std::chrono::seconds{1};

/// One scrape: the listeners' answers, gathered before the text is made.
struct scrape {
  std::vector<std::optional<net::listener_stats>> stats;
  size_t pending = 0;
  caf::response_promise rp;
};

void write_listeners(const std::vector<named_listener>& ls, const scrape& s,
                     metrics::writer& w) {
  for (size_t i = 0; i < ls.size(); ++i) {
    metrics::labels l{{"listener", ls[i].name}};
    w.gauge("actio_listener_up", "1 if the listener answered this scrape", l,
            s.stats[i] ? 1 : 0);
    if (!s.stats[i])
      continue;
    auto& st = *s.stats[i];
    w.counter("actio_listener_accepted_total", "Connections accepted and served", l,
              static_cast<double>(st.accepted));
    w.gauge("actio_listener_active_connections", "Connections open now", l,
            static_cast<double>(st.active));
    w.counter("actio_listener_refused_total",
              "Connections accepted and closed at once (limit or draining)", l,
              static_cast<double>(st.rejected));
    w.counter("actio_listener_drained_total",
              "Connections that ended by themselves while draining", l,
              static_cast<double>(st.drained));
  }
}

void finish(metrics::registry& reg, const std::vector<named_listener>& ls,
            scrape& s) {
  auto text = reg.render([&](metrics::writer& w) { write_listeners(ls, s, w); });
  // HEAD: the server sends the head of this answer only.
  s.rp.deliver(response::text(200, text, "text/plain; version=0.0.4; charset=utf-8"));
}

caf::behavior metrics_handler(caf::event_based_actor* self,
                              metrics::registry* reg,
                              std::vector<named_listener> listeners) {
  return {
    [=](request& req) -> caf::result<response> {
      if (req.path != "/metrics")
        return response::text(404, "Not Found: try /metrics\n");
      if (req.method != "GET" && req.method != "HEAD") {
        auto r = response::text(405, "Method Not Allowed\n");
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
      }
      auto s = std::make_shared<scrape>();
      s->stats.resize(listeners.size());
      s->pending = listeners.size();
      s->rp = self->make_response_promise();
      if (listeners.empty()) {
        finish(*reg, listeners, *s);
        return caf::delegated<response>{};
      }
      for (size_t i = 0; i < listeners.size(); ++i) {
        auto done = [=] {
          if (--s->pending == 0)
            finish(*reg, listeners, *s);
        };
        self->request(listeners[i].actor, stats_timeout, net::stats_atom::value)
          .then([=](const net::listener_stats& st) {
                  s->stats[i] = st;
                  done();
                },
                [=](const caf::error&) { done(); });
      }
      return caf::delegated<response>{};
    },
  };
}

} // namespace

caf::actor spawn_metrics_handler(caf::actor_system& sys, metrics::registry& reg,
                                 std::vector<named_listener> listeners) {
  return sys.spawn(metrics_handler, &reg, std::move(listeners));
}

void metrics_option::add_to(caf::config_option_set& opts) {
  caf::config_option_adder(opts, "global").add(
    port, "metrics-port",
    "serve Prometheus metrics at /metrics on this port of the service's "
    "address, 0 = any (default: none)");
}

std::optional<int> metrics_option::check(const cli::tool& tool) const {
  if (port < -1 || port > 65535)
    return tool.bad_value("--metrics-port", std::to_string(port),
                          cli::port_expected);
  return std::nullopt;
}

metrics_endpoint::metrics_endpoint() = default;

metrics_endpoint::~metrics_endpoint() = default;

std::optional<int> metrics_endpoint::start(const metrics_option& opt,
                                           runtime& rt, const cli::tool& tool,
                                           const std::string& host,
                                           std::vector<named_listener> listeners,
                                           std::ostream& out) {
  if (!opt.given())
    return std::nullopt;
  if (auto status = opt.check(tool))
    return status;
  auto& reg = metrics::registry::global();
  runtime_ = std::make_unique<runtime_metrics>(rt, reg);
  server_options sopts;
  sopts.handler = spawn_metrics_handler(rt.system(), reg, std::move(listeners));
  net::listen_options lopts;
  lopts.host = host;
  lopts.port = static_cast<uint16_t>(opt.port);
  auto srv = net::tcp_listen(rt, lopts, server(std::move(sopts)));
  if (!srv) {
    runtime_.reset();
    return tool.fail("--metrics-port: " + rt.system().render(srv.error()));
  }
  listener_ = srv->actor;
  port_ = srv->port;
  // An IPv6 address in brackets, as in a URL: the port is after the last ':'.
  auto shown = host.find(':') == std::string::npos ? host : '[' + host + ']';
  out << tool.name() << ": metrics listening on " << shown << ':' << port_
      << std::endl;
  return std::nullopt;
}

std::vector<caf::actor> metrics_endpoint::with(std::vector<caf::actor> others) const {
  if (listener_)
    others.push_back(listener_);
  return others;
}

} // namespace actio::http
