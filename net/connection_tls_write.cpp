// The write side of a TLS connection (net/connection_tls.cpp has the
// handshake and the read side): plaintext writes are encrypted at once and
// complete when the driver wrote their ciphertext; shutdowns send
// close_notify first; before the handshake both wait in `pending`.

#include <caf/mailbox_element.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/detail/tls_dispatch.hpp"
#include "actio/net/detail/tls_state.hpp"

namespace actio::net {

void connection::tls_grant(size_t bytes) {
  tls_->credit += bytes;
  if (tls_->pumping || tls_->pump_queued)
    return; // the running loop (or the queued one) sees the new credit
  tls_->pump_queued = true;
  to_self(detail::tls_pump{});
}

void connection::tls_write(op_id id, byte_buffer buf, caf::response_promise* rp) {
  auto size = buf.size();
  if (tls_->failure || sock_ == 0) {
    tls_complete(id, size, false, rp,
                 tls_->failure ? tls_->failure
                               : make_actio_error(errc::closed,
                                                  "write: connection is closed"),
                 false);
    return;
  }
  if (!tls_->established) {
    if (tls_->pending_bytes + size > opts_.limits.max_queued) {
      tls_complete(id, size, false, rp,
                   make_actio_error(errc::write_queue_full,
                                    "write: the queue limit is reached"),
                   false);
      return;
    }
    tls_->pending_bytes += size;
    detail::tls_state::op op{false, id, std::move(buf), size, {}, rp != nullptr};
    if (rp)
      op.rp = std::move(*rp);
    tls_->pending.push_back(std::move(op));
    return;
  }
  tls_send_write(id, std::move(buf), rp);
}

void connection::tls_send_write(op_id id, byte_buffer buf,
                                caf::response_promise* rp) {
  auto size = buf.size();
  // The write limit applies to plaintext, checked before encrypting: a
  // record the driver refused would break the stream's sequence numbers.
  auto p = io().progress(sock_);
  if (p && p->queued + size > opts_.limits.max_queued) {
    tls_complete(id, size, false, rp,
                 make_actio_error(errc::write_queue_full,
                                  "write: the queue limit is reached"),
                 false);
    return;
  }
  if (auto err = tls_->session->write(buf)) {
    tls_complete(id, size, false, rp, err, false);
    return;
  }
  auto internal = next_op_++;
  detail::tls_state::op op{false, id, {}, size, {}, rp != nullptr};
  if (rp)
    op.rp = std::move(*rp);
  tls_->writes.emplace(internal, std::move(op));
  if (!io().send(sock_, internal, tls_->session->take_output())) {
    auto o = std::move(tls_->writes[internal]);
    tls_->writes.erase(internal);
    tls_complete(id, size, false, o.has_rp ? &o.rp : nullptr,
                 make_actio_error(errc::closed, "write: connection is closed"),
                 false);
  }
}

void connection::tls_shutdown(op_id id, caf::response_promise* rp) {
  if (tls_->failure || sock_ == 0) {
    tls_complete(id, 0, true, rp,
                 tls_->failure ? tls_->failure
                               : make_actio_error(errc::closed,
                                                  "shutdown: connection is closed"),
                 false);
    return;
  }
  if (!tls_->established) {
    detail::tls_state::op op{true, id, {}, 0, {}, rp != nullptr};
    if (rp)
      op.rp = std::move(*rp);
    tls_->pending.push_back(std::move(op));
    return;
  }
  tls_send_shutdown(id, rp);
}

void connection::tls_send_shutdown(op_id id, caf::response_promise* rp) {
  tls_->session->close_notify(); // after the queued records, before the FIN
  tls_flush();
  bool ok = rp ? io().shutdown_write(sock_, id, *rp)
               : io().shutdown_write(sock_, id);
  if (!ok)
    tls_complete(id, 0, true, rp,
                 make_actio_error(errc::closed, "shutdown: connection is closed"),
                 false);
}

void connection::tls_complete(op_id id, size_t bytes, bool shutdown,
                              caf::response_promise* rp, caf::error reason,
                              bool now) {
  if (rp) {
    if (reason)
      rp->deliver(std::move(reason));
    else if (shutdown)
      rp->deliver(caf::unit);
    else
      rp->deliver(bytes);
    return;
  }
  auto sock = sock_;
  auto n = reason ? 0 : bytes;
  if (shutdown && now)
    tls_dispatch(shutdown_completed{sock, id, std::move(reason)});
  else if (shutdown)
    to_self(shutdown_completed{sock, id, std::move(reason)});
  else if (now)
    tls_dispatch(write_completed{sock, id, n, std::move(reason)});
  else
    to_self(write_completed{sock, id, n, std::move(reason)});
}

void connection::tls_abandon(const caf::error& reason) {
  // Writes whose ciphertext went to the driver complete from there; the
  // ones still waiting for the handshake complete here.
  auto pending = std::move(tls_->pending);
  tls_->pending.clear();
  for (auto& op : pending)
    tls_complete(op.id, op.size, op.shutdown, op.has_rp ? &op.rp : nullptr,
                 reason, true);
}

} // namespace actio::net
