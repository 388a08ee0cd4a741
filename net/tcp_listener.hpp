#pragma once

/// TCP listener: binds (port 0 allowed), accepts, and spawns one pinned
/// `connection` per accepted socket, round-robin over the runtime's
/// drivers, with the behaviour the user's factory makes.
///
/// Under EMFILE/ENFILE the driver pauses accepting (pending connections wait
/// in the kernel's backlog), retries with back-off and as soon as one of its
/// descriptors closes; existing connections are not affected.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/socket.hpp"

namespace actio::net {

/// A running listener.
struct listener {
  caf::actor actor; ///< send `close_atom` to stop accepting
  uint16_t port;    ///< the bound port (useful with port 0)
};

/// Binds synchronously (bind errors come back here, typed), then starts the
/// listener actor on one of `rt`'s drivers.
caf::expected<listener> tcp_listen(runtime& rt, const listen_options& opts,
                                   connection_factory factory,
                                   connection_options conn_opts = {});

namespace detail {

/// Starts the listener actor on the bound, listening `fd` (TCP or Unix).
/// `keep` is released when the listener ends (a Unix listener removes its
/// path then); `label` names it in logs.
caf::actor spawn_listener(runtime& rt, owned_fd fd, uint16_t port,
                          std::string label, std::shared_ptr<void> keep,
                          connection_factory factory,
                          connection_options conn_opts);

} // namespace detail

} // namespace actio::net
