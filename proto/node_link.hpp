#pragma once

/// A watched, self-healing connection to an actor published on another
/// node (see node.hpp).
///
/// ```
/// auto link = actio::spawn_node_link(sys, listener, "10.0.0.2", 7100,
///                                    cfg.node);
/// // listener receives:
/// //   (node_up_atom, std::string address, caf::actor remote)
/// //   (node_down_atom, std::string address, caf::error reason)
/// //   (node_unreachable_atom, std::string address, caf::error reason)
/// //        only with report_unreachable = true (see below)
/// ```
///
/// The link connects asynchronously (through the plain or TLS middleman,
/// as `opts.secure` says), retrying every `opts.retry_delay` for as long
/// as it lives. Once connected it monitors the remote actor and tells the
/// listener `node_up`; when the node goes away (the connection closes, or
/// heartbeats stop for `opts.connection_timeout`) the listener gets
/// `node_down` and the link starts reconnecting, so a node that returns on
/// the same address is announced with `node_up` again. `address` is
/// "HOST:PORT" as given. The link ends when the listener ends or on an
/// exit message (`anon_send_exit(link, exit_reason::user_shutdown)`).
///
/// With `report_unreachable`, the listener also hears of a failed connect
/// (refused, TLS handshake failed, timed out): once after the link starts
/// and once after each `node_down`, not for every retry, so an operator
/// can see why a peer never comes up.
///
/// With `metrics`, the link keeps its series there, labelled
/// `peer="HOST:PORT"` (looked up once, at spawn):
///
/// | series | type | what |
/// |---|---|---|
/// | `actio_node_links_up{peer}` | gauge | 1 while the link is up |
/// | `actio_node_link_downs_total{peer}` | counter | times it went down |
/// | `actio_node_link_reconnects_total{peer}` | counter | ups after a down |
/// | `actio_node_link_connect_failures_total{peer}` | counter | failed connect attempts (every retry) |
///
/// Bytes are not among them: CAF 0.17's middleman keeps no per-connection
/// byte counts it would hand out, and counting them would take a BASP
/// layer of our own.
///
/// Keep the returned handle (e.g. in the listener's state) for as long as
/// the link should live: a CAF 0.17 actor nobody references is destroyed
/// (exit reason `unreachable`) once no message for it is pending — and a
/// listener linked to it would die with it.

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "actio/actors/metrics.hpp"
#include "actio/proto/node.hpp"

namespace actio {

using node_up_atom = caf::atom_constant<caf::atom("nodeUp")>;
using node_down_atom = caf::atom_constant<caf::atom("nodeDown")>;
using node_unreachable_atom = caf::atom_constant<caf::atom("nodeUnrch")>;

caf::actor spawn_node_link(caf::actor_system& sys, caf::actor listener,
                           std::string host, uint16_t port,
                           node_options opts, bool report_unreachable = false,
                           metrics::registry* metrics = nullptr);

} // namespace actio
