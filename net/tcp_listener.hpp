#pragma once

/// TCP listener: binds (port 0 allowed), accepts, and spawns one pinned
/// `connection` per accepted socket, round-robin over the runtime's
/// drivers, with the behaviour the user's factory makes.
///
/// Under EMFILE/ENFILE the driver pauses accepting (pending connections wait
/// in the kernel's backlog), retries with back-off and as soon as one of its
/// descriptors closes; existing connections are not affected. The listener
/// logs the pause and the resumption (one line each).
///
/// With `listen_options::max_connections`, a connection beyond the limit is
/// accepted and closed at once, counted, and logged at most once a second
/// with the count since the last line.
///
/// Messages (net/atoms.hpp):
/// - `(stats_atom) -> listener_stats`;
/// - `(drain_atom, caf::timespan deadline) -> drain_result`: graceful
///   shutdown. The listening socket closes (new connects are refused), every
///   connection gets `(drain_atom, deadline)` (its behaviour sees `draining`;
///   it is closed with `errc::shutting_down` at the deadline if it has not
///   ended by then); the answer comes when the last connection has ended,
///   then the listener exits;
/// - `(close_atom)`: stop accepting now; connections are not affected.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/socket.hpp"

namespace actio::net {

/// A listener's counts.
struct listener_stats {
  size_t active = 0;   ///< connections alive now
  size_t accepted = 0; ///< connections served since the start
  size_t rejected = 0; ///< accepted and closed at once (limit or draining)
};

/// The answer to a drain.
struct drain_result {
  size_t drained = 0; ///< connections that ended by themselves while draining
  size_t forced = 0;  ///< connections closed at the deadline
};

/// A running listener.
struct listener {
  caf::actor actor; ///< send `close_atom`, `stats_atom`, `drain_atom`
  uint16_t port;    ///< the bound port (useful with port 0)
};

/// Binds synchronously (bind errors come back here, typed), then starts the
/// listener actor on one of `rt`'s drivers.
caf::expected<listener> tcp_listen(runtime& rt, const listen_options& opts,
                                   connection_factory factory,
                                   connection_options conn_opts = {});

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, listener_stats& x) {
  return f(caf::meta::type_name("actio.listener_stats"), x.active, x.accepted,
           x.rejected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, drain_result& x) {
  return f(caf::meta::type_name("actio.drain_result"), x.drained, x.forced);
}

namespace detail {

/// Starts the listener actor on the bound, listening `fd` (TCP or Unix).
/// `keep` is released when the listener ends (a Unix listener removes its
/// path then); `label` names it in logs.
caf::actor spawn_listener(runtime& rt, owned_fd fd, uint16_t port,
                          std::string label, std::shared_ptr<void> keep,
                          size_t max_connections, connection_factory factory,
                          connection_options conn_opts);

} // namespace detail

} // namespace actio::net
