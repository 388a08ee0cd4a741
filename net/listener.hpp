#pragma once

/// What TCP and Unix stream listeners (tcp_listen, unix_listen) have in
/// common: the running listener and the answers it gives.
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

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

namespace actio::net {

/// A listener's counts.
struct listener_stats {
  size_t active = 0;   ///< connections alive now
  size_t accepted = 0; ///< connections served since the start
  size_t rejected = 0; ///< accepted and closed at once (limit or draining)
  size_t drained = 0;  ///< ended by themselves while draining
};

/// The answer to a drain.
struct drain_result {
  size_t drained = 0; ///< connections that ended by themselves while draining
  size_t forced = 0;  ///< connections closed at the deadline
};

/// A running listener.
struct listener {
  caf::actor actor; ///< send `close_atom`, `stats_atom`, `drain_atom`
  uint16_t port;    ///< the bound port (useful with port 0); 0 for Unix
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, listener_stats& x) {
  return f(caf::meta::type_name("actio.listener_stats"), x.active, x.accepted,
           x.rejected, x.drained);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, drain_result& x) {
  return f(caf::meta::type_name("actio.drain_result"), x.drained, x.forced);
}

} // namespace actio::net
