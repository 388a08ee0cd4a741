#include "actio/io/buffered_reader.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/result.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/endpoint.hpp"

namespace actio::io {

namespace {

caf::error closed_error(const char* what) {
  return make_actio_error(errc::closed,
                          std::string{what} + ": buffered reader is closed");
}

class buffered_reader : public caf::event_based_actor {
public:
  buffered_reader(caf::actor_config& cfg, caf::actor inner, size_t capacity)
    : caf::event_based_actor(cfg), inner_(std::move(inner)),
      capacity_(std::max<size_t>(capacity, 1)) {
  }

  const char* name() const override {
    return "actio.buffered_reader";
  }

protected:
  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  enum class op_kind {
    recv,
    read_until,
    skip, // drops the rest of a too-long piece (no requester)
  };

  /// A read waiting for its turn (arrival order).
  struct op {
    op_kind kind;
    size_t max; // recv: max; read_until: max_len
    uint8_t delim;
    byte_buffer gathered; // read_until: the piece so far
    caf::response_promise rp;
  };

  caf::result<caf::message> enqueue(op x);
  void pump();
  bool step(op& x); // true: done with `x`
  void refill();
  void bypass(op x);
  byte_buffer take(size_t max);
  void fail_waiting(const caf::error& err);

  size_t available() const noexcept {
    return buf_.size() - pos_;
  }

  /// The first `delim` among the unread bytes, or null.
  const uint8_t* find(uint8_t delim) const noexcept {
    if (available() == 0)
      return nullptr;
    return static_cast<const uint8_t*>(
      std::memchr(buf_.data() + pos_, delim, available()));
  }

  void consume(size_t n) {
    pos_ += n;
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
  }

  caf::actor inner_;
  size_t capacity_;
  byte_buffer buf_; // unread from `pos_`
  size_t pos_ = 0;
  bool eof_ = false;
  bool busy_ = false; // one recv to `inner_` in flight
  std::deque<op> ops_;
  /// The requester of a bypassing recv in flight.
  std::optional<caf::response_promise> inflight_rp_;
  bool closed_ = false;
};

caf::behavior buffered_reader::make_behavior() {
  return {
    [this](net::recv_atom, size_t max) -> caf::result<caf::message> {
      if (max == 0 && !closed_)
        return make_actio_error(errc::invalid_argument, "recv: max is 0");
      return enqueue(op{op_kind::recv, max, 0, {}, {}});
    },
    [this](read_until_atom, uint8_t delim,
           size_t max_len) -> caf::result<caf::message> {
      if (max_len == 0 && !closed_)
        return make_actio_error(errc::invalid_argument,
                                "read_until: max_len is 0");
      return enqueue(op{op_kind::read_until, max_len, delim, {}, {}});
    },
    [this](net::write_atom, byte_buffer& bytes) -> caf::result<caf::message> {
      if (closed_)
        return closed_error("write");
      return delegate(inner_, net::write_atom::value, std::move(bytes));
    },
    [this](net::flush_atom) -> caf::result<caf::message> {
      if (closed_)
        return closed_error("flush");
      return delegate(inner_, net::flush_atom::value);
    },
    [this](net::shutdown_atom) -> caf::result<caf::message> {
      if (closed_)
        return closed_error("shutdown");
      return delegate(inner_, net::shutdown_atom::value);
    },
    [this](net::close_atom) -> caf::result<caf::message> {
      if (closed_)
        return caf::message{};
      closed_ = true;
      fail_waiting(make_actio_error(errc::cancelled, "buffered reader closed"));
      buf_ = byte_buffer{};
      pos_ = 0;
      return delegate(inner_, net::close_atom::value);
    },
  };
}

caf::result<caf::message> buffered_reader::enqueue(op x) {
  if (closed_)
    return closed_error(x.kind == op_kind::recv ? "recv" : "read_until");
  auto rp = make_response_promise();
  x.rp = rp;
  ops_.push_back(std::move(x));
  pump();
  return rp;
}

void buffered_reader::pump() {
  while (!busy_ && !ops_.empty()) {
    auto& x = ops_.front();
    if (x.kind == op_kind::recv && available() == 0 && !eof_
        && x.max >= capacity_) {
      auto next = std::move(x);
      ops_.pop_front();
      bypass(std::move(next));
      return;
    }
    if (!step(x)) {
      refill();
      return;
    }
    ops_.pop_front();
  }
}

bool buffered_reader::step(op& x) {
  auto avail = available();
  switch (x.kind) {
    case op_kind::recv:
      if (avail > 0)
        x.rp.deliver(take(x.max));
      else if (eof_)
        x.rp.deliver(byte_buffer{});
      else
        return false;
      return true;
    case op_kind::read_until: {
      auto first = buf_.data() + pos_;
      auto hit = find(x.delim);
      auto n = hit ? static_cast<size_t>(hit - first) + 1 : avail;
      if (x.gathered.size() + n > x.max) {
        consume(n);
        x.rp.deliver(make_actio_error(errc::too_long,
                                      "read_until: piece longer than "
                                        + std::to_string(x.max) + " bytes"));
        if (!hit) {
          x.kind = op_kind::skip;
          x.gathered = byte_buffer{};
          x.rp = caf::response_promise{};
          return step(x);
        }
        return true;
      }
      x.gathered.insert(x.gathered.end(), first, first + n);
      consume(n);
      if (hit || eof_) {
        x.rp.deliver(std::move(x.gathered));
        return true;
      }
      return false;
    }
    case op_kind::skip: {
      auto first = buf_.data() + pos_;
      auto hit = find(x.delim);
      consume(hit ? static_cast<size_t>(hit - first) + 1 : avail);
      return hit || eof_;
    }
  }
  return true;
}

void buffered_reader::refill() {
  busy_ = true;
  request(inner_, caf::infinite, net::recv_atom::value, capacity_)
    .then(
      [this](byte_buffer& bytes) {
        busy_ = false;
        if (closed_)
          return;
        if (bytes.empty())
          eof_ = true;
        buf_ = std::move(bytes);
        pos_ = 0;
        pump();
      },
      [this](caf::error& err) {
        busy_ = false;
        if (closed_ || ops_.empty())
          return;
        // The read that needed the refill fails; a skip has no requester,
        // it just ends.
        ops_.front().rp.deliver(err);
        ops_.pop_front();
        pump();
      });
}

void buffered_reader::bypass(op x) {
  busy_ = true;
  inflight_rp_ = std::move(x.rp);
  request(inner_, caf::infinite, net::recv_atom::value, x.max)
    .then(
      [this](byte_buffer& bytes) {
        busy_ = false;
        if (bytes.empty())
          eof_ = true;
        if (inflight_rp_) {
          inflight_rp_->deliver(std::move(bytes));
          inflight_rp_.reset();
        }
        pump();
      },
      [this](caf::error& err) {
        busy_ = false;
        if (inflight_rp_) {
          inflight_rp_->deliver(err);
          inflight_rp_.reset();
        }
        pump();
      });
}

byte_buffer buffered_reader::take(size_t max) {
  auto n = std::min(max, available());
  if (pos_ == 0 && n == buf_.size()) { // all of it: hand the buffer on
    auto out = std::move(buf_);
    buf_ = byte_buffer{};
    return out;
  }
  auto first = buf_.begin() + static_cast<ptrdiff_t>(pos_);
  byte_buffer out(first, first + static_cast<ptrdiff_t>(n));
  consume(n);
  return out;
}

void buffered_reader::fail_waiting(const caf::error& err) {
  if (inflight_rp_) {
    inflight_rp_->deliver(err);
    inflight_rp_.reset();
  }
  for (auto& x : ops_)
    if (x.rp.pending())
      x.rp.deliver(err);
  ops_.clear();
}

void buffered_reader::on_exit() {
  fail_waiting(make_actio_error(errc::cancelled, "buffered reader exited"));
  inner_ = nullptr;
  caf::event_based_actor::on_exit();
}

} // namespace

caf::actor spawn_buffered_reader(caf::actor_system& sys, caf::actor inner,
                                 size_t capacity) {
  return sys.spawn<buffered_reader>(std::move(inner), capacity);
}

} // namespace actio::io
