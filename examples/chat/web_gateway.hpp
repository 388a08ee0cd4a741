#pragma once

// actio-chat in a browser (--http-port): an HTTP server (actio/http) that
// serves one page at `/` (web/index.html, compiled in) and a WebSocket at
// `/ws`. Each WebSocket is a text client of this chat: every text message
// from the browser is one line of the text protocol nc users speak, every
// line the chat says is one text message back.
//
// How: each WebSocket gets a bridge actor that opens a stream connection
// to the chat's sessions through a Unix socket in a private directory
// (mode 0700, removed at exit) — the same session code, limits and rate as
// every other text client, so browser users, nc users, protobuf clients and
// users on peer nodes share rooms and nicks with nothing written twice.
// Backpressure holds end to end: a browser message is answered (WebSocket
// read credit) only once its line was written to the session, and a line
// from the chat is taken from the session only once the browser's
// WebSocket has written the one before (a browser that stops reading is a
// client that stops reading: the chat's --max-queue applies).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/listener.hpp"

namespace chat {

struct web_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  /// TLS for the web port (https/wss), as for the chat port.
  actio::net::connection_options conn;
};

/// The listeners of the web gateway: the internal Unix listener (serving
/// `session_factory`) and the HTTP port. `port` is the HTTP port bound.
struct web_gateway {
  actio::net::listener sessions;
  actio::net::listener http;
  caf::actor site;  ///< the HTTP handler
  uint16_t port = 0;
  std::string dir; ///< the private directory, removed by `stop`
  /// Stops the HTTP handler and removes the private directory (after the
  /// listeners were drained).
  void stop() const;
};

/// Starts the gateway; errors (bind, directory) come back typed.
caf::expected<web_gateway>
start_web(actio::runtime& rt, const web_options& opts,
          actio::net::connection_factory session_factory,
          actio::net::connection_options session_conn);

/// The line a browser's text message becomes: CR and LF are spaces (one
/// message is one line), and a NUL first byte (which would announce a
/// protobuf client) cannot occur because the bridge speaks first.
std::string browser_line(std::string text);

} // namespace chat
