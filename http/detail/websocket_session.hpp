#pragma once

/// The WebSocket part of a server connection (http/server.cpp), from the
/// 101 on: frames to the handler with read credit, pings answered, the
/// close handshake, and frames from the handler with write
/// acknowledgements (http/websocket.hpp says what the handler sees).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/result.hpp>

#include "actio/http/server_codec.hpp"
#include "actio/http/websocket.hpp"
#include "actio/io/framed.hpp"

namespace actio::http::detail {

using server_self = io::framed_self<server_codec>;

class websocket_session : public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(server_self self, caf::actor handler,
                    websocket_options opts, size_t max_send_queue);

  /// Tells the handler `ws_opened` (the 101 was sent).
  void open(request req);

  void on_frame(ws_frame& f);

  /// A message from anyone to the client; answered once written.
  caf::result<void> send(ws_message& m);

  /// The close handshake, started by this side.
  void close(uint16_t code, std::string reason);

  /// True if the timer was this session's.
  bool on_timer(op_id id);

  /// The peer's EOF without a close frame.
  void on_read_closed();

  void on_closed();

private:
  void acked();

  server_self self_;
  caf::actor handler_;
  websocket_options opts_;
  size_t max_send_queue_;
  size_t in_flight_ = 0;     // messages the handler has not answered
  bool close_sent_ = false;
  bool told_closed_ = false;
  uint16_t code_ = ws_status::abnormal;
  std::string reason_;
  op_id timer_ = 0;
};

} // namespace actio::http::detail
