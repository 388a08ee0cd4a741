#pragma once

/// A WebSocket handler (http/websocket.hpp) that sends every message back
/// to the connection it came from, as it came (text or binary). It is
/// shared by any number of connections. The connection's request for a
/// message is answered only once the echo was written, so a client that
/// sends without reading its echoes runs out of read credit
/// (`websocket_options::max_in_flight`) and is no longer read.

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace actio::http {

/// Spawns the echo handler; answer an upgrade request with
/// `response::accept_websocket(echo)`.
caf::actor spawn_websocket_echo(caf::actor_system& sys);

} // namespace actio::http
