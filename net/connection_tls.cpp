// The TLS half of the connection actor (net/connection.hpp): with
// `connection_options::tls`, the driver's events carry ciphertext and are
// intercepted here; the behaviour gets plaintext events made from them,
// under its own credit (net/detail/tls_state.hpp tells how).

#include <algorithm>

#include <caf/mailbox_element.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/log.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/detail/tls_dispatch.hpp"
#include "actio/net/detail/tls_state.hpp"

namespace actio::net {

namespace {

/// Plaintext read from OpenSSL at a time (one TLS record at most).
constexpr size_t record_size = 16 * 1024;

template <class T>
const T* match(const caf::type_erased_tuple& xs) {
  return xs.size() == 1 && xs.match_element<T>(0) ? &xs.get_as<T>(0) : nullptr;
}

} // namespace

connection::~connection() = default;

void connection::tls_start(op_id connect_op) {
  tls_ = std::make_unique<detail::tls_state>();
  tls_->connect_op = connect_op;
  auto& ctx = *opts_.tls;
  auto name = ctx.config().server_name;
  if (name.empty() && request_)
    name = request_->host.empty() && !request_->targets.empty()
             ? request_->name.substr(0, request_->name.rfind(':'))
             : request_->host;
  if (!name.empty() && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  if (name.rfind("unix:", 0) == 0)
    name.clear();
  auto s = detail::tls_session::make(ctx, name, peer_);
  if (s)
    tls_->session = std::move(*s);
  else
    tls_->start_error = std::move(s.error());
}

void connection::tls_begin() {
  if (tls_->start_error) {
    tls_fail(std::move(tls_->start_error));
    return;
  }
  tls_->timer = start_timer(opts_.tls->config().handshake_timeout);
  if (is_client())
    tls_handshake_step(); // the ClientHello
  else
    tls_top_up();
}

bool connection::tls_intercept(caf::mailbox_element& x) {
  auto& xs = x.content();
  if (match<detail::tls_pump>(xs)) {
    tls_->pump_queued = false;
    tls_pump_reads();
    return true;
  }
  if (auto* t = match<timer_expired>(xs); t && t->id == tls_->timer) {
    tls_->timer = 0;
    if (!tls_->established)
      tls_fail(make_actio_error(
        errc::tls_handshake_timeout,
        "tls handshake with " + peer_ + ": not finished after "
          + std::to_string(opts_.tls->config().handshake_timeout.count())
          + " ms"));
    return true;
  }
  if (sock_ == 0)
    return false;
  if (xs.size() == 1 && xs.match_element<received>(0)
      && xs.get_as<received>(0).sock == sock_) {
    tls_on_cipher(xs.get_mutable_as<received>(0).bytes);
    return true;
  }
  if (auto* r = match<read_closed>(xs); r && r->sock == sock_) {
    tls_on_eof(r->reason);
    return true;
  }
  if (auto* w = match<write_completed>(xs)) {
    auto i = tls_->writes.find(w->id);
    if (i == tls_->writes.end())
      return false; // an error completion of the behaviour's own write
    auto op = std::move(i->second);
    tls_->writes.erase(i);
    if (op.id != 0 || op.has_rp) // not a handshake or alert record
      tls_complete(op.id, op.size, false, op.has_rp ? &op.rp : nullptr,
                   w->reason, true);
    return true;
  }
  if (auto* c = match<connection_closed>(xs); c && c->sock == sock_) {
    auto reason = c->reason ? c->reason
                            : make_actio_error(errc::cancelled,
                                               "connection to " + peer_
                                                 + " closed");
    if (tls_->connect_op != 0) { // closed while the handshake ran
      auto op = std::exchange(tls_->connect_op, 0);
      tls_dispatch(connected{sock_, op, reason});
    }
    tls_abandon(reason);
    return false; // the behaviour sees it
  }
  return false;
}

void connection::tls_on_cipher(byte_buffer& bytes) {
  tls_->cipher_credit -= std::min(tls_->cipher_credit, bytes.size());
  if (tls_->failure)
    return; // closing: drop
  tls_->session->feed(bytes);
  if (!tls_->established)
    tls_handshake_step();
  else
    tls_pump_reads();
}

void connection::tls_on_eof(caf::error reason) {
  tls_->eof = true;
  tls_->eof_reason = std::move(reason);
  if (tls_->failure)
    return;
  if (!tls_->session) {
    return;
  }
  tls_->session->feed_eof();
  if (!tls_->established) {
    tls_handshake_step(); // fails: the peer left mid-handshake
    return;
  }
  tls_pump_reads();
}

void connection::tls_handshake_step() {
  auto st = tls_->session->handshake();
  tls_flush();
  if (st == detail::tls_session::status::failed) {
    tls_fail(tls_->session->error());
    return;
  }
  if (st == detail::tls_session::status::ok) {
    tls_established();
    return;
  }
  if (tls_->eof) {
    tls_fail(make_actio_error(errc::tls_handshake_failed,
                              "tls handshake with " + peer_
                                + ": the peer closed the connection"));
    return;
  }
  tls_top_up();
}

void connection::tls_established() {
  tls_->established = true;
  if (tls_->timer != 0) {
    cancel_timer(tls_->timer);
    tls_->timer = 0; // a late expiry finds established set
  }
  if (tls_->connect_op != 0) {
    auto op = std::exchange(tls_->connect_op, 0);
    tls_dispatch(connected{sock_, op, caf::error{}});
  }
  auto pending = std::move(tls_->pending);
  tls_->pending.clear();
  tls_->pending_bytes = 0;
  for (auto& op : pending) {
    auto* rp = op.has_rp ? &op.rp : nullptr;
    if (op.shutdown)
      tls_send_shutdown(op.id, rp);
    else
      tls_send_write(op.id, std::move(op.bytes), rp);
  }
  tls_pump_reads();
}

void connection::tls_pump_reads() {
  auto& t = *tls_;
  if (t.pumping || !t.established || t.failure || sock_ == 0)
    return;
  t.pumping = true;
  using status = detail::tls_session::status;
  while (!t.read_done && !t.failure && sock_ != 0) {
    if (t.stash_pos == t.stash.size()) {
      t.stash.clear();
      t.stash_pos = 0;
      auto st = t.session->read(t.stash, record_size);
      tls_flush(); // a key update or alert may answer
      if (st == status::ok)
        continue;
      if (st == status::want_read && !t.eof)
        break;
      if (st == status::failed && !t.eof) {
        tls_fail(t.session->error());
        break;
      }
      // close_notify (orderly), or EOF without it: truncation is reported
      // as the read side's error, never as a clean EOF.
      t.read_done = true;
      caf::error why;
      if (st != status::closed)
        why = t.eof_reason ? t.eof_reason
              : st == status::failed
                ? t.session->error()
                : make_actio_error(errc::tls_error,
                                   "tls read with " + peer_
                                     + ": the peer closed without "
                                       "close_notify (truncated)");
      tls_dispatch(read_closed{sock_, std::move(why)});
      break;
    }
    if (t.credit == 0)
      break;
    auto n = std::min(t.credit, t.stash.size() - t.stash_pos);
    byte_buffer out;
    if (t.stash_pos == 0 && n == t.stash.size()) {
      out = std::move(t.stash);
      t.stash.clear();
    } else {
      auto first = t.stash.begin() + static_cast<ptrdiff_t>(t.stash_pos);
      out.assign(first, first + static_cast<ptrdiff_t>(n));
      t.stash_pos += n;
    }
    t.credit -= n;
    tls_dispatch(received{sock_, std::move(out)});
  }
  t.pumping = false;
  tls_top_up();
}

void connection::tls_top_up() {
  auto& t = *tls_;
  if (sock_ == 0 || t.eof || t.read_done || t.failure || !t.session)
    return;
  bool want = !t.established || (t.credit > 0 && t.stash_pos == t.stash.size());
  if (!want || t.cipher_credit >= t.window / 2
      || t.session->pending_input() >= t.window)
    return;
  io().grant(sock_, t.window - t.cipher_credit);
  t.cipher_credit = t.window;
}

void connection::tls_flush() {
  if (!tls_->session || sock_ == 0 || !tls_->session->has_output())
    return;
  auto id = next_op_++;
  tls_->writes.emplace(id, detail::tls_state::op{});
  if (!io().send(sock_, id, tls_->session->take_output()))
    tls_->writes.erase(id);
}

void connection::tls_fail(caf::error reason) {
  if (tls_->failure)
    return;
  tls_->failure = reason;
  log::warn_limited("tls failure", {"tls", peer_}, "{}", describe(reason));
  if (tls_->timer != 0) {
    cancel_timer(tls_->timer);
    tls_->timer = 0;
  }
  if (tls_->session)
    tls_flush(); // the alert, if there is one
  if (tls_->connect_op != 0) {
    // The behaviour sees why; consume() then closes (with the failure).
    auto op = std::exchange(tls_->connect_op, 0);
    tls_dispatch(connected{sock_, op, reason});
    return;
  }
  io().close(sock_, std::move(reason));
}

} // namespace actio::net
