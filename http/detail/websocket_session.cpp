#include "actio/http/detail/websocket_session.hpp"

#include <utility>

#include "actio/drivers/errc.hpp"

namespace actio::http::detail {

websocket_session::websocket_session(server_self self, caf::actor handler,
                                     websocket_options opts,
                                     size_t max_send_queue)
  : self_(self),
    handler_(std::move(handler)),
    opts_(std::move(opts)),
    max_send_queue_(max_send_queue) {
}

void websocket_session::open(request req) {
  self_.connection()->send(handler_, ws_opened{self_.handle(), std::move(req)});
}

void websocket_session::on_frame(ws_frame& f) {
  switch (f.kind) {
    case ws_frame::text:
    case ws_frame::binary: {
      if (close_sent_)
        return;
      // Read credit: past max_in_flight unanswered messages the framed
      // connection holds frames back, and reading stops at max_frames.
      if (++in_flight_ >= opts_.max_in_flight)
        self_.pause();
      auto me = shared_from_this();
      self_.connection()
        ->request(handler_, caf::infinite,
                  ws_message{f.kind == ws_frame::binary, std::move(f.data)})
        .then([me]() { me->acked(); },
              [me](caf::error&) {
                me->close(ws_status::internal_error, "handler failed");
              });
      return;
    }
    case ws_frame::ping: {
      if (close_sent_)
        return;
      ws_frame pong;
      pong.kind = ws_frame::pong;
      pong.data = std::move(f.data);
      self_.send(pong);
      return;
    }
    case ws_frame::pong:
      return;
    case ws_frame::close:
      if (close_sent_) {
        self_.close();
        return;
      }
      code_ = f.code;
      reason_ = f.data;
      // The answer echoes the code (none if the peer sent none).
      close(f.code, f.data);
      return;
    case ws_frame::error:
      close(f.code, f.data);
      return;
  }
}

void websocket_session::acked() {
  --in_flight_;
  if (self_.paused() && in_flight_ < opts_.max_in_flight)
    self_.resume();
}

caf::result<void> websocket_session::send(ws_message& m) {
  if (close_sent_)
    return make_actio_error(errc::closed, "WebSocket is closing");
  if (self_.unacknowledged() > max_send_queue_)
    return make_actio_error(errc::write_queue_full,
                            "WebSocket: send queue full");
  ws_frame f;
  f.kind = m.binary ? ws_frame::binary : ws_frame::text;
  f.data = std::move(m.data);
  if (!self_.send(f))
    return make_actio_error(errc::closed, "WebSocket is closed");
  auto rp = self_.connection()->make_response_promise();
  self_.ack_when_written(rp);
  return rp;
}

void websocket_session::close(uint16_t code, std::string reason) {
  if (close_sent_)
    return;
  close_sent_ = true;
  if (code_ == ws_status::abnormal) {
    code_ = code;
    reason_ = reason;
  }
  ws_frame f;
  f.kind = ws_frame::close;
  f.code = code;
  f.data = std::move(reason);
  self_.send(f);
  // The server closes the TCP connection first (RFC 6455 §7.1.1): flush,
  // shut down the write side, read to the client's EOF or the timeout.
  self_.finish();
  timer_ = self_.connection()->start_timer(opts_.close_timeout);
}

bool websocket_session::on_timer(op_id id) {
  if (id != timer_)
    return false;
  self_.close();
  return true;
}

void websocket_session::on_read_closed() {
  if (!close_sent_)
    self_.close(); // no close frame: 1006
}

void websocket_session::on_closed() {
  if (timer_ != 0)
    self_.connection()->cancel_timer(timer_);
  timer_ = 0;
  if (told_closed_)
    return;
  told_closed_ = true;
  self_.connection()->send(handler_, ws_closed{self_.handle(), code_, reason_});
}

} // namespace actio::http::detail
