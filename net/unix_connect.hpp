#pragma once

/// Unix stream client connections: the same pinned `connection` actor and
/// protocol as `tcp_connect`, to a filesystem path or "@name".

#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"

namespace actio::net {

/// Starts a connection actor to the Unix stream socket `name` ("PATH" or
/// "@abstract") and returns it at once. Its behaviour's first event is
/// `connected{reason}` as with `tcp_connect`: `errc::connection_refused`
/// (nobody listens), `errc::not_found` (no such path),
/// `errc::permission_denied`, `errc::timed_out`. TCP-only socket options
/// are not applied. A bad name or options are `errc::invalid_argument`.
caf::expected<caf::actor> unix_connect(runtime& rt, const std::string& name,
                                       connection_factory factory,
                                       connection_options opts = {});

} // namespace actio::net
