#pragma once

/// WebSockets (RFC 6455) on the HTTP server (http/server.hpp), as actor
/// messages. A handler answers an upgrade request (`request::upgrade`,
/// `Upgrade: websocket`, handshake already checked by the server) with
/// `response::accept_websocket(actor)`; the server answers `101 Switching
/// Protocols` and from then on that actor (the WebSocket handler, one per
/// connection or shared) gets
/// - `ws_opened{connection, request}` first (a `tell`);
/// - each text or binary message as a request `(ws_message) -> void`,
///   sent by the connection: the reply is read credit — at most
///   `websocket_options::max_in_flight` messages are unanswered before the
///   connection stops reading;
/// - `ws_closed{connection, code, reason}` last, exactly once, however
///   the WebSocket ended (the code sent or received; 1006 if the peer
///   went away without a close frame).
/// The connection takes, from anyone:
/// - `(ws_message) -> void`, answered once the frame's bytes were written
///   (or with `errc::closed`, or `errc::write_queue_full` past
///   `framed_options::max_send_queue` unwritten bytes: a client that never
///   reads is not buffered without bound);
/// - `ws_close{code, reason}`: the close handshake (then the connection
///   closes; `ws_closed` follows); a code a close frame may not carry
///   (`valid_close_code`) is sent as 1011.
/// Pings are answered with pongs by the server; pongs are dropped.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

#include "actio/http/message.hpp"

namespace actio::http {

/// One whole message (fragments joined); a text message is UTF-8.
struct ws_message {
  bool binary = false;
  std::string data;
};

/// To a WebSocket connection: send a close frame with `code` (1000, or
/// 3000-4999 for an application's own) and end the connection.
struct ws_close {
  uint16_t code = 1000;
  std::string reason;
};

/// To the handler, first: `connection` takes ws_message and ws_close.
struct ws_opened {
  caf::actor connection;
  request req; ///< the upgrade request (path, query, headers)
};

/// To the handler, last.
struct ws_closed {
  caf::actor connection;
  uint16_t code = 1006;
  std::string reason;
};

struct websocket_options {
  /// A message (all its fragments) longer than this closes with 1009.
  /// Keep it below `framed_options::max_frame_size` (8 MiB by default).
  size_t max_message = 1024 * 1024;
  /// Messages sent to the handler and not answered yet; at this many the
  /// connection stops reading.
  size_t max_in_flight = 16;
  /// Allowed `Origin` values (exactly, e.g. "http://127.0.0.1:8080");
  /// empty: any. Another origin is refused with 403.
  std::vector<std::string> origins;
  /// After a close frame was sent, the client's close and EOF are awaited
  /// this long, then the connection is closed.
  std::chrono::milliseconds close_timeout{5000};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_message& x) {
  return f(caf::meta::type_name("actio.http.ws_message"), x.binary, x.data);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_close& x) {
  return f(caf::meta::type_name("actio.http.ws_close"), x.code, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_opened& x) {
  return f(caf::meta::type_name("actio.http.ws_opened"), x.connection, x.req);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_closed& x) {
  return f(caf::meta::type_name("actio.http.ws_closed"), x.connection, x.code,
           x.reason);
}

} // namespace actio::http
