#pragma once

/// `/metrics` on an admin port: the Prometheus text exposition (format
/// 0.0.4) of a metrics registry (actors/metrics.hpp), the runtime's
/// per-driver series (actors/runtime_metrics.hpp) and the counts of the
/// service's listeners, asked for at each scrape:
///
/// | series | type | what |
/// |---|---|---|
/// | `actio_listener_accepted_total{listener}` | counter | connections served |
/// | `actio_listener_active_connections{listener}` | gauge | connections open now |
/// | `actio_listener_refused_total{listener}` | counter | accepted and closed at once (limit, draining) |
/// | `actio_listener_drained_total{listener}` | counter | ended by themselves while draining |
/// | `actio_listener_up{listener}` | gauge | 1 if the listener answered this scrape |
///
/// The global registry holds what the tools and the library count when the
/// option is given (each file names its own):
///
/// | series | type | what |
/// |---|---|---|
/// | `actio_http_responses_total{server,code}` | counter | responses by status class (actio-httpd) |
/// | `actio_kv_commands_total{command}` | counter | commands by lower-case name, unknown ones as `other` (examples/kv/command_metrics.hpp) |
/// | `actio_chat_rooms` | gauge | rooms on this node (examples/chat/chat_metrics.hpp) |
/// | `actio_chat_members` | gauge | room memberships of clients on this node |
/// | `actio_chat_messages_posted_total` | counter | lines said in a room here |
/// | `actio_chat_messages_delivered_total` | counter | room messages handed to members here |
/// | `actio_node_links_up{peer}` | gauge | 1 while the node link is up (proto/node_link.hpp) |
/// | `actio_node_link_downs_total{peer}` | counter | times it went down |
/// | `actio_node_link_reconnects_total{peer}` | counter | ups after a down |
/// | `actio_node_link_connect_failures_total{peer}` | counter | failed connect attempts |
/// | `actio_remote_file_requests_total{op}` | counter | remote file requests by operation (proto/remote_file_service.hpp) |
/// | `actio_remote_file_errors_total{op}` | counter | those answered with an error |
/// | `actio_remote_file_{read,written}_bytes_total` | counter | bytes read and written for peers |
///
/// Node links carry no byte counts: CAF 0.17's middleman hands none out.
/// The per-driver series are listed in actors/runtime_metrics.hpp.
///
/// Every serving tool takes `--metrics-port P` through `metrics_option`
/// and `metrics_endpoint` (one helper, not one copy per tool):
///
/// ```
/// struct my_config : actio::config {
///   actio::http::metrics_option metrics;
///   my_config() { metrics.add_to(custom_options_); }
/// };
/// ...
/// actio::http::metrics_endpoint metrics; // after the runtime: ends first
/// if (auto status = cfg.metrics.check(tool)) // after parse_args
///   return *status;
/// ...
/// if (auto status = metrics.start(cfg.metrics, **rt, tool, cfg.host,
///                                 {{"echo", srv->actor}}, std::cout))
///   return *status;
/// return net::serve(**rt, metrics.with({srv->actor}), ...);
/// ```
///
/// Without `--metrics-port` nothing listens and nothing is counted beyond
/// what the library counts anyway.

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/config_option_set.hpp>

#include "actio/actors/cli/tool.hpp"
#include "actio/actors/metrics.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/actors/runtime_metrics.hpp"

namespace actio::http {

/// A listener whose counts `/metrics` reports, as label `listener="NAME"`.
struct named_listener {
  std::string name;
  caf::actor actor; ///< answers `(stats_atom) -> listener_stats`
};

/// The handler for an admin server (http/server.hpp): `GET` or `HEAD`
/// `/metrics` answers the exposition text (`text/plain; version=0.0.4`);
/// another path is 404, another method 405. A listener that does not answer
/// within a second is reported with `actio_listener_up 0`.
caf::actor spawn_metrics_handler(caf::actor_system& sys, metrics::registry& reg,
                                 std::vector<named_listener> listeners);

/// The `--metrics-port` option of a tool's config.
struct metrics_option {
  int port = -1; ///< -1: not given

  /// Adds `--metrics-port` to `opts` (group "global").
  void add_to(caf::config_option_set& opts);

  /// After parsing, before anything starts: a port out of range is a usage
  /// error ("--metrics-port: '70000' is not a port number (0-65535)").
  /// @returns `cli::exit_usage` after printing it, or nothing if fine
  std::optional<int> check(const cli::tool& tool) const;

  bool given() const noexcept {
    return port != -1;
  }
};

/// The admin listener of a tool, when `--metrics-port` was given.
class metrics_endpoint {
public:
  metrics_endpoint();
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  /// Nothing without `--metrics-port`; else listens on `host`:P, serving
  /// the global registry, the runtime's series and `listeners`, and prints
  /// "NAME: metrics listening on HOST:PORT" to `out`.
  /// @returns the status to exit with (2: a port out of range; 1: it could
  ///          not listen), or nothing to go on
  std::optional<int> start(const metrics_option& opt, runtime& rt,
                           const cli::tool& tool, const std::string& host,
                           std::vector<named_listener> listeners,
                           std::ostream& out);

  /// `others` and the admin listener if it runs: the list to drain.
  std::vector<caf::actor> with(std::vector<caf::actor> others) const;

  /// The bound port; 0 if not listening.
  uint16_t port() const noexcept {
    return port_;
  }

private:
  std::unique_ptr<runtime_metrics> runtime_;
  caf::actor listener_;
  uint16_t port_ = 0;
};

} // namespace actio::http
