#pragma once

/// The listener actor TCP and Unix stream listeners share (tcp_listen,
/// unix_listen bind the socket, this accepts on it). Internal.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/socket.hpp"

namespace actio::net::detail {

/// Starts the listener actor on the bound, listening `fd` (TCP or Unix).
/// `keep` is released when the listener ends (a Unix listener removes its
/// path then); `label` names it in logs.
caf::actor spawn_listener(runtime& rt, owned_fd fd, uint16_t port,
                          std::string label, std::shared_ptr<void> keep,
                          size_t max_connections, connection_factory factory,
                          connection_options conn_opts);

} // namespace actio::net::detail
