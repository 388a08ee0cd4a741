#pragma once

/// TCP client connections: the same pinned `connection` actor as on the
/// server side, connected by the driver (a non-blocking connect on the
/// readiness backends, IORING_OP_CONNECT on io_uring).

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"

namespace actio::net {

/// Starts a connection actor on one of `rt`'s drivers and returns it at
/// once. `host` is an IPv4/IPv6 literal or a name; a name is resolved on a
/// helper thread (never the caller's or a driver's), and each address is
/// tried in order until one connects, all within `opts.connect_timeout`.
///
/// The factory runs once that is decided; the behaviour's first event is
/// `connected{reason}`: empty = connected; otherwise the connection closes
/// (`connection_closed` follows) and `reason` is one of
/// `errc::connection_refused`, `errc::unreachable`, `errc::timed_out`,
/// `errc::resolve_failed` (or another `errc` for odd OS errors), with a
/// text naming host:port. Requests from other actors wait meanwhile.
///
/// Returns `errc::invalid_argument` for an empty host or invalid options.
caf::expected<caf::actor> tcp_connect(runtime& rt, const std::string& host,
                                      uint16_t port, connection_factory factory,
                                      connection_options opts = {});

/// `errc::invalid_argument` for a non-positive connect timeout or invalid
/// socket options, else none.
caf::error validate(const connection_options& opts);

} // namespace actio::net
