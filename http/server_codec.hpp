#pragma once

/// `server_codec`: the codec of an HTTP server connection
/// (http/server.hpp) — HTTP/1.1 requests (request_codec.hpp) until an
/// upgrade request, then nothing until the server decides: WebSocket
/// frames (websocket_frames.hpp) after `switch_to_websocket()`, else the
/// connection ends after the answer.

#include <cstddef>
#include <cstdint>

#include <caf/meta/type_name.hpp>

#include "actio/http/request_codec.hpp"
#include "actio/http/websocket_frames.hpp"

namespace actio::http {

/// A request, or (after the switch) a WebSocket frame.
struct server_frame {
  bool websocket = false;
  request req;
  ws_frame ws;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_frame& x) {
  return f(caf::meta::type_name("actio.http.server_frame"), x.websocket, x.req,
           x.ws);
}

class server_codec {
public:
  using in_frame = server_frame;
  using out_frame = response;

  server_codec(limits lim, size_t max_ws_message)
    : http_(lim), ws_(max_ws_message) {
  }

  io::decoded<server_frame> decode(const uint8_t* data, size_t size);

  /// At the peer's EOF: request_codec's finish; WebSocket bytes left are
  /// dropped (the connection reports the missing close frame).
  io::decoded<server_frame> finish(const uint8_t* data, size_t size);

  void encode(const response& res, byte_buffer& out) const {
    http_.encode(res, out);
  }

  /// A server frame (unmasked).
  void encode(const ws_frame& f, byte_buffer& out) const;

  /// Decodes WebSocket frames from the bytes after the upgrade request.
  void switch_to_websocket() noexcept {
    mode_ = mode::websocket;
  }

  bool in_progress() const noexcept {
    return mode_ == mode::http && http_.in_progress();
  }

private:
  enum class mode : uint8_t { http, held, websocket };

  request_codec http_;
  ws_decoder ws_;
  mode mode_ = mode::http;
};

} // namespace actio::http
