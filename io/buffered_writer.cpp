#include "actio/io/buffered_writer.hpp"

#include <algorithm>
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
                          std::string{what} + ": buffered writer is closed");
}

class buffered_writer : public caf::event_based_actor {
public:
  buffered_writer(caf::actor_config& cfg, caf::actor inner, size_t capacity)
    : caf::event_based_actor(cfg), inner_(std::move(inner)),
      capacity_(std::max<size_t>(capacity, 1)) {
  }

  const char* name() const override {
    return "actio.buffered_writer";
  }

protected:
  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  enum class op_kind { write, flush, shutdown };

  /// A request waiting for its turn (arrival order).
  struct op {
    op_kind kind;
    byte_buffer bytes;
    caf::response_promise rp;
  };

  caf::result<caf::message> enqueue(op_kind kind, byte_buffer bytes);
  void pump();
  void send_buffer();
  void forward(op& x);
  void inner_done(const caf::error& err);
  void fail_waiting(const caf::error& err);

  caf::actor inner_;
  size_t capacity_;
  byte_buffer buf_;
  std::deque<op> ops_;
  bool busy_ = false; // one request to `inner_` in flight
  /// The requester waiting on the request in flight, if it is not ours.
  std::optional<caf::response_promise> inflight_rp_;
  caf::error error_; // sticky: an error from `inner_`
  bool shut_ = false;
  bool closed_ = false;
};

caf::behavior buffered_writer::make_behavior() {
  return {
    [this](net::write_atom, byte_buffer& bytes) -> caf::result<caf::message> {
      if (!closed_ && shut_)
        return make_actio_error(errc::closed, "write: after shutdown");
      return enqueue(op_kind::write, std::move(bytes));
    },
    [this](net::flush_atom) -> caf::result<caf::message> {
      return enqueue(op_kind::flush, {});
    },
    [this](net::shutdown_atom) -> caf::result<caf::message> {
      auto res = enqueue(op_kind::shutdown, {});
      shut_ = true;
      return res;
    },
    [this](net::recv_atom, size_t max) -> caf::result<caf::message> {
      if (closed_)
        return closed_error("recv");
      return delegate(inner_, net::recv_atom::value, max);
    },
    [this](net::close_atom) -> caf::result<caf::message> {
      if (closed_)
        return caf::message{};
      closed_ = true;
      fail_waiting(make_actio_error(errc::cancelled, "buffered writer closed"));
      buf_ = byte_buffer{};
      // A request in flight gets its answer from `inner_`, which cancels it.
      return delegate(inner_, net::close_atom::value);
    },
  };
}

caf::result<caf::message> buffered_writer::enqueue(op_kind kind,
                                                   byte_buffer bytes) {
  static constexpr const char* names[] = {"write", "flush", "shutdown"};
  if (closed_)
    return closed_error(names[static_cast<int>(kind)]);
  if (error_)
    return error_;
  auto rp = make_response_promise();
  ops_.push_back(op{kind, std::move(bytes), rp});
  pump();
  return rp;
}

void buffered_writer::pump() {
  if (!busy_ && buf_.size() == capacity_)
    send_buffer(); // filled while a write was in flight
  while (!ops_.empty()) {
    auto& x = ops_.front();
    if (x.kind == op_kind::write && x.bytes.size() < capacity_) {
      if (buf_.size() + x.bytes.size() > capacity_) {
        if (busy_)
          return; // the buffer is full and a write is in flight: wait
        send_buffer();
      }
      if (buf_.empty())
        buf_.reserve(capacity_);
      buf_.insert(buf_.end(), x.bytes.begin(), x.bytes.end());
      x.rp.deliver(x.bytes.size());
      ops_.pop_front();
      if (buf_.size() == capacity_ && !busy_)
        send_buffer();
      continue;
    }
    // A large write, flush or shutdown: the buffer first, then it alone.
    if (busy_)
      return;
    if (!buf_.empty()) {
      send_buffer();
      return;
    }
    auto next = std::move(x);
    ops_.pop_front();
    forward(next);
    return;
  }
}

void buffered_writer::send_buffer() {
  busy_ = true;
  auto bytes = std::move(buf_);
  buf_ = byte_buffer{};
  request(inner_, caf::infinite, net::write_atom::value, std::move(bytes))
    .then([this](size_t) { inner_done(caf::error{}); },
          [this](caf::error& err) { inner_done(err); });
}

void buffered_writer::forward(op& x) {
  busy_ = true;
  inflight_rp_ = x.rp;
  auto reply = [this](auto... result) {
    if (inflight_rp_) {
      inflight_rp_->deliver(result...);
      inflight_rp_.reset();
    }
    inner_done(caf::error{});
  };
  auto fail = [this](caf::error& err) {
    if (inflight_rp_) {
      inflight_rp_->deliver(err);
      inflight_rp_.reset();
    }
    inner_done(err);
  };
  switch (x.kind) {
    case op_kind::write:
      request(inner_, caf::infinite, net::write_atom::value, std::move(x.bytes))
        .then([reply](size_t n) { reply(n); }, fail);
      break;
    case op_kind::flush:
      request(inner_, caf::infinite, net::flush_atom::value)
        .then([reply]() { reply(caf::unit); }, fail);
      break;
    case op_kind::shutdown:
      request(inner_, caf::infinite, net::shutdown_atom::value)
        .then([reply]() { reply(caf::unit); }, fail);
      break;
  }
}

void buffered_writer::inner_done(const caf::error& err) {
  busy_ = false;
  if (closed_)
    return;
  if (err && !error_) {
    error_ = err;
    buf_ = byte_buffer{}; // cannot go anywhere any more
    fail_waiting(err);
  }
  pump();
}

void buffered_writer::fail_waiting(const caf::error& err) {
  for (auto& x : ops_)
    x.rp.deliver(err);
  ops_.clear();
}

void buffered_writer::on_exit() {
  auto err = make_actio_error(errc::cancelled, "buffered writer exited");
  if (inflight_rp_) {
    inflight_rp_->deliver(err);
    inflight_rp_.reset();
  }
  fail_waiting(err);
  inner_ = nullptr;
  caf::event_based_actor::on_exit();
}

} // namespace

caf::actor spawn_buffered_writer(caf::actor_system& sys, caf::actor inner,
                                 size_t capacity) {
  return sys.spawn<buffered_writer>(std::move(inner), capacity);
}

} // namespace actio::io
