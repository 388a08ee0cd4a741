#pragma once

/// TCP client connections: the same pinned `connection` actor as on the
/// server side, connected by the driver (non-blocking connect on epoll,
/// IORING_OP_CONNECT on io_uring).

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"

namespace actio::net {

/// Resolves `host` (numeric or a name; resolution blocks the caller) and
/// starts a connection actor on one of `rt`'s drivers. Its behaviour's
/// first event is `connected{reason}`: empty reason = connected; otherwise
/// (say `errc::connection_refused`) the connection closes after it.
/// Writes made before the connection is up wait for it.
caf::expected<caf::actor> tcp_connect(runtime& rt, const std::string& host,
                                      uint16_t port, connection_factory factory,
                                      connection_options opts = {});

} // namespace actio::net
