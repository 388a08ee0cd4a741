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
/// Messages: see net/listener.hpp (stats, drain, close).

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/listener.hpp"
#include "actio/net/socket.hpp"

namespace actio::net {

/// Binds synchronously (bind errors come back here, typed), then starts the
/// listener actor on one of `rt`'s drivers.
caf::expected<listener> tcp_listen(runtime& rt, const listen_options& opts,
                                   connection_factory factory,
                                   connection_options conn_opts = {});

} // namespace actio::net
