#include "actio/io/duplex.hpp"

#include <algorithm>
#include <cstring>
#include <deque>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/endpoint.hpp"

namespace actio::io {

namespace {

// Between the two ends of a pair (messages from one end to the other keep
// their order, so data always arrives before the eof or gone after it).
/// `(dx_peer_atom, actor)`: the other end, sent once by `duplex`.
using dx_peer_atom = caf::atom_constant<caf::atom("dx_peer")>;
/// `(dx_data_atom, byte_buffer)`: bytes for the receiver's buffer; the
/// sender had credit for all of them.
using dx_data_atom = caf::atom_constant<caf::atom("dx_data")>;
/// `(dx_credit_atom, size_t)`: the receiver's buffer freed that many bytes.
using dx_credit_atom = caf::atom_constant<caf::atom("dx_credit")>;
/// `(dx_eof_atom)`: the sender shut down its write side.
using dx_eof_atom = caf::atom_constant<caf::atom("dx_eof")>;
/// `(dx_gone_atom)`: the sender closed.
using dx_gone_atom = caf::atom_constant<caf::atom("dx_gone")>;

/// One end. It owns the buffer of the direction it reads (the peer may put
/// at most `capacity` bytes there: its credit) and queues its own writes
/// until it has credit for them.
class duplex_end : public caf::event_based_actor {
public:
  duplex_end(caf::actor_config& cfg, size_t capacity)
    : caf::event_based_actor(cfg), capacity_(capacity), credit_(capacity) {
  }

  const char* name() const override {
    return "actio.duplex";
  }

protected:
  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  enum class op_kind { write, flush, shutdown };

  struct write_op {
    op_kind kind;
    byte_buffer bytes;
    size_t sent = 0;
    caf::response_promise rp;
  };

  static const char* op_name(op_kind kind) {
    switch (kind) {
      case op_kind::write:
        return "write";
      case op_kind::flush:
        return "flush";
      default:
        return "shutdown";
    }
  }

  struct recv_op {
    size_t max;
    caf::response_promise rp;
  };

  void on_data(byte_buffer& bytes);
  void pump_reads();
  void pump_writes();
  byte_buffer take(size_t max);
  void peer_lost();
  void fail_pending(const caf::error& err);

  template <class... Ts>
  void to_peer(Ts&&... xs) {
    if (auto p = caf::actor_cast<caf::actor>(peer_))
      send(p, std::forward<Ts>(xs)...);
  }

  size_t capacity_;
  caf::actor_addr peer_; // weak: dropping all handles to an end ends it
  // Reading: pieces as the peer sent them; the front one from `head_`.
  std::deque<byte_buffer> in_;
  size_t head_ = 0;
  size_t buffered_ = 0;
  bool in_eof_ = false;
  std::deque<recv_op> recvs_;
  // Writing: free space in the peer's buffer, our queued writes.
  size_t credit_;
  std::deque<write_op> writes_;
  bool shut_ = false;      // shutdown requested: later writes fail
  bool peer_gone_ = false; // the peer closed or died
  bool closed_ = false;    // we closed
};

caf::error closed_error(const char* what) {
  return make_actio_error(errc::closed,
                          std::string{what} + ": duplex end is closed");
}

caf::error reset_error(const char* what) {
  return make_actio_error(errc::connection_reset,
                          std::string{what} + ": the other duplex end is closed");
}

caf::behavior duplex_end::make_behavior() {
  set_down_handler([this](caf::down_msg& dm) {
    if (dm.source == peer_)
      peer_lost();
  });
  auto enqueue_write = [this](op_kind kind, byte_buffer bytes,
                              const char* what) -> caf::result<caf::message> {
    if (closed_)
      return closed_error(what);
    if (peer_gone_)
      return reset_error(what);
    auto rp = make_response_promise();
    writes_.push_back(write_op{kind, std::move(bytes), 0, rp});
    pump_writes();
    return rp;
  };
  return {
    [this](net::recv_atom, size_t max) -> caf::result<caf::message> {
      if (closed_)
        return closed_error("recv");
      if (max == 0)
        return make_actio_error(errc::invalid_argument, "recv: max is 0");
      auto rp = make_response_promise();
      recvs_.push_back(recv_op{max, rp});
      pump_reads();
      return rp;
    },
    [this, enqueue_write](net::write_atom, byte_buffer& bytes) -> caf::result<caf::message> {
      if (shut_ && !closed_)
        return make_actio_error(errc::closed, "write: after shutdown");
      return enqueue_write(op_kind::write, std::move(bytes), "write");
    },
    [enqueue_write](net::flush_atom) -> caf::result<caf::message> {
      return enqueue_write(op_kind::flush, {}, "flush");
    },
    [this, enqueue_write](net::shutdown_atom) -> caf::result<caf::message> {
      auto res = enqueue_write(op_kind::shutdown, {}, "shutdown");
      if (!closed_ && !peer_gone_)
        shut_ = true;
      return res;
    },
    [this](net::close_atom) {
      if (closed_)
        return;
      closed_ = true;
      fail_pending(make_actio_error(errc::cancelled, "duplex end closed"));
      in_.clear();
      buffered_ = 0;
      to_peer(dx_gone_atom::value);
    },
    [this](dx_peer_atom, caf::actor& peer) {
      peer_ = peer.address();
      monitor(peer);
    },
    [this](dx_data_atom, byte_buffer& bytes) {
      on_data(bytes);
    },
    [this](dx_credit_atom, size_t n) {
      credit_ += n;
      pump_writes();
    },
    [this](dx_eof_atom) {
      in_eof_ = true;
      pump_reads();
    },
    [this](dx_gone_atom) {
      peer_lost();
    },
  };
}

void duplex_end::on_data(byte_buffer& bytes) {
  if (closed_ || bytes.empty())
    return; // closed: the peer learns it from our gone message
  buffered_ += bytes.size();
  in_.push_back(std::move(bytes));
  pump_reads();
}

byte_buffer duplex_end::take(size_t max) {
  auto n = std::min(max, buffered_);
  byte_buffer out;
  if (head_ == 0 && in_.front().size() == n) { // a whole piece: no copy
    out = std::move(in_.front());
    in_.pop_front();
  } else {
    out.reserve(n);
    while (out.size() < n) {
      auto& front = in_.front();
      auto k = std::min(n - out.size(), front.size() - head_);
      out.insert(out.end(), front.begin() + head_, front.begin() + head_ + k);
      head_ += k;
      if (head_ == front.size()) {
        in_.pop_front();
        head_ = 0;
      }
    }
  }
  buffered_ -= n;
  return out;
}

void duplex_end::pump_reads() {
  while (!recvs_.empty()) {
    auto& op = recvs_.front();
    if (buffered_ > 0) {
      auto bytes = take(op.max);
      // The credit goes out before the reply: whoever sees the reply and
      // then asks the writer finds the room already granted.
      if (!peer_gone_)
        to_peer(dx_credit_atom::value, bytes.size());
      op.rp.deliver(std::move(bytes));
    } else if (in_eof_ || peer_gone_) {
      op.rp.deliver(byte_buffer{});
    } else {
      return;
    }
    recvs_.pop_front();
  }
}

void duplex_end::pump_writes() {
  while (!writes_.empty()) {
    auto& op = writes_.front();
    if (op.kind == op_kind::write) {
      auto size = op.bytes.size();
      while (op.sent < size) {
        if (credit_ == 0)
          return; // the reply waits until the reader made room
        auto n = std::min(credit_, size - op.sent);
        if (n == size) { // all of it at once: hand the buffer on
          to_peer(dx_data_atom::value, std::move(op.bytes));
        } else {
          auto first = op.bytes.begin() + static_cast<ptrdiff_t>(op.sent);
          to_peer(dx_data_atom::value,
                  byte_buffer(first, first + static_cast<ptrdiff_t>(n)));
        }
        op.sent += n;
        credit_ -= n;
      }
      op.rp.deliver(size);
    } else {
      if (op.kind == op_kind::shutdown)
        to_peer(dx_eof_atom::value);
      op.rp.deliver(caf::unit);
    }
    writes_.pop_front();
  }
}

void duplex_end::peer_lost() {
  if (peer_gone_)
    return;
  peer_gone_ = true;
  credit_ = 0;
  pump_reads(); // buffered bytes, then end of stream
  for (auto& op : writes_)
    op.rp.deliver(reset_error(op_name(op.kind)));
  writes_.clear();
}

void duplex_end::fail_pending(const caf::error& err) {
  for (auto& op : recvs_)
    op.rp.deliver(err);
  recvs_.clear();
  for (auto& op : writes_)
    op.rp.deliver(err);
  writes_.clear();
}

void duplex_end::on_exit() {
  fail_pending(make_actio_error(errc::cancelled, "duplex end exited"));
  caf::event_based_actor::on_exit();
}

} // namespace

std::pair<caf::actor, caf::actor> duplex(caf::actor_system& sys,
                                         size_t capacity) {
  capacity = std::max<size_t>(capacity, 1);
  auto a = sys.spawn<duplex_end>(capacity);
  auto b = sys.spawn<duplex_end>(capacity);
  // Sent before the handles are returned, so the peer is known before any
  // request can arrive.
  caf::anon_send(a, dx_peer_atom::value, b);
  caf::anon_send(b, dx_peer_atom::value, a);
  return {a, b};
}

} // namespace actio::io
