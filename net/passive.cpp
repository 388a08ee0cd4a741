#include "actio/net/passive.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <utility>

#include <caf/result.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"

namespace actio::net {

namespace {

struct pending_recv {
  size_t max;
  caf::response_promise rp;
};

struct pending_op {
  op_id id;
  caf::response_promise rp;
};

/// What a passive connection holds between requests and driver events.
class passive_state {
public:
  passive_state(connection* self, passive_options opts)
    : self_(self), opts_(opts), established_(!self->is_client()) {
    if (opts_.max_grant == 0)
      opts_.max_grant = 1;
  }

  passive_state(const passive_state&) = delete;
  passive_state& operator=(const passive_state&) = delete;

  /// The behaviour ends without a `connection_closed` (runtime shutdown):
  /// nobody waits forever.
  ~passive_state() {
    fail_all(make_actio_error(errc::shutting_down, "connection exited"));
  }

  // -- requests --------------------------------------------------------------

  caf::result<byte_buffer> recv(size_t max) {
    if (max == 0)
      return make_actio_error(errc::invalid_argument, "recv: max is 0");
    if (closed_)
      return failure_;
    if (recvs_.empty() && available() > 0)
      return take(max);
    if (recvs_.empty() && read_done_)
      return read_end();
    if (failure_)
      return failure_;
    auto rp = self_->make_response_promise();
    recvs_.push_back({max, rp});
    want();
    return rp;
  }

  caf::result<size_t> write(byte_buffer& buf) {
    if (failure_)
      return failure_;
    auto rp = self_->make_response_promise();
    writes_.push_back({self_->write(std::move(buf)), rp});
    return rp;
  }

  caf::result<void> flush() {
    if (failure_)
      return failure_;
    if (writes_.empty()) {
      if (write_error_)
        return write_error_;
      return caf::unit;
    }
    auto rp = self_->make_response_promise();
    flushes_.push_back({writes_.back().id, rp});
    return rp;
  }

  caf::result<void> shutdown() {
    if (failure_)
      return failure_;
    auto rp = self_->make_response_promise();
    shutdowns_.push_back({self_->shutdown_write(), rp});
    return rp;
  }

  void close() {
    if (failure_)
      return;
    closed_ = true;
    failure_ = make_actio_error(errc::closed, "passive connection is closed");
    fail_reads(make_actio_error(errc::cancelled, "recv cancelled by close"));
    self_->close(); // writes, shutdowns (and flushes) complete as cancelled
  }

  // -- driver events ---------------------------------------------------------

  void on_received(byte_buffer& bytes) {
    credit_ -= std::min(credit_, bytes.size());
    if (pos_ == buf_.size()) {
      buf_ = std::move(bytes);
      pos_ = 0;
    } else {
      buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    }
    serve();
  }

  void on_read_closed(const caf::error& reason) {
    // A client socket may report a read end around a failed connect: that
    // is the connect error, not an end of stream. Before `connected` it
    // waits for it.
    if (!established_) {
      early_read_end_ = true;
      early_read_error_ = reason;
      return;
    }
    read_done_ = true;
    read_error_ = connect_error_ ? connect_error_ : reason;
    serve();
  }

  void on_write_completed(const write_completed& w) {
    auto it = std::find_if(writes_.begin(), writes_.end(),
                           [&](const pending_op& x) { return x.id == w.id; });
    if (it == writes_.end())
      return;
    auto rp = it->rp;
    writes_.erase(it);
    if (w.reason) {
      auto err = translate(w.reason);
      if (!write_error_)
        write_error_ = err;
      rp.deliver(std::move(err));
    } else {
      rp.deliver(w.bytes);
    }
    // Writes complete in order: flushes issued after the last pending
    // write's predecessors are due.
    while (!flushes_.empty()
           && (writes_.empty() || flushes_.front().id < writes_.front().id)) {
      auto f = std::move(flushes_.front());
      flushes_.pop_front();
      if (write_error_)
        f.rp.deliver(write_error_);
      else
        f.rp.deliver(caf::unit);
    }
  }

  void on_shutdown_completed(const shutdown_completed& s) {
    auto it = std::find_if(shutdowns_.begin(), shutdowns_.end(),
                           [&](const pending_op& x) { return x.id == s.id; });
    if (it == shutdowns_.end())
      return;
    auto rp = it->rp;
    shutdowns_.erase(it);
    if (s.reason)
      rp.deliver(translate(s.reason));
    else
      rp.deliver(caf::unit);
  }

  void on_connected(const connected& c) {
    if (c.reason)
      connect_error_ = c.reason;
    established_ = true;
    if (early_read_end_) {
      early_read_end_ = false;
      on_read_closed(early_read_error_);
    }
  }

  void on_closed(const caf::error& reason) {
    closed_ = true;
    if (!failure_) {
      failure_ = connect_error_ ? connect_error_
                 : reason       ? reason
                                : make_actio_error(errc::closed,
                                                   "passive connection is closed");
    }
    fail_all(failure_);
  }

private:
  size_t available() const noexcept {
    return buf_.size() - pos_;
  }

  byte_buffer take(size_t max) {
    auto n = std::min(max, available());
    byte_buffer out;
    if (pos_ == 0 && n == buf_.size()) {
      out = std::move(buf_);
      buf_.clear();
    } else {
      out.assign(buf_.begin() + static_cast<std::ptrdiff_t>(pos_),
                 buf_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
      pos_ += n;
    }
    if (pos_ >= buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    return out;
  }

  /// The answer to a `recv` once the read side ended and nothing is left.
  caf::result<byte_buffer> read_end() {
    if (read_error_)
      return translate(read_error_);
    return byte_buffer{};
  }

  /// Grants the driver what pending `recv`s still want.
  void want() {
    size_t needed = 0;
    for (auto& r : recvs_)
      needed += std::min(r.max, opts_.max_grant);
    if (needed > credit_ && !read_done_) {
      self_->grant(needed - credit_);
      credit_ = needed;
    }
  }

  void serve() {
    while (!recvs_.empty() && available() > 0) {
      auto r = std::move(recvs_.front());
      recvs_.pop_front();
      r.rp.deliver(take(std::min(r.max, opts_.max_grant)));
    }
    if (read_done_) {
      while (!recvs_.empty()) {
        auto r = std::move(recvs_.front());
        recvs_.pop_front();
        if (read_error_)
          r.rp.deliver(translate(read_error_));
        else
          r.rp.deliver(byte_buffer{});
      }
    }
  }

  /// Requests cancelled because connecting failed carry the connect error.
  caf::error translate(const caf::error& err) const {
    if (connect_error_ && err.category() == caf::atom("actio")
        && err.code() == static_cast<uint8_t>(errc::cancelled))
      return connect_error_;
    return err;
  }

  void fail_reads(const caf::error& err) {
    for (auto& r : recvs_)
      r.rp.deliver(err);
    recvs_.clear();
  }

  void fail_all(const caf::error& err) {
    fail_reads(err);
    for (auto* q : {&writes_, &flushes_, &shutdowns_}) {
      for (auto& x : *q)
        x.rp.deliver(err);
      q->clear();
    }
  }

  connection* self_;
  passive_options opts_;
  std::deque<pending_recv> recvs_;
  std::deque<pending_op> writes_;
  std::deque<pending_op> flushes_; // id: the last write before the flush
  std::deque<pending_op> shutdowns_;
  byte_buffer buf_; // received, not yet asked for (from pos_)
  size_t pos_ = 0;
  size_t credit_ = 0; // granted, not yet received
  bool read_done_ = false;
  bool closed_ = false; // by `close`
  bool established_;     // accepted, or `connected` arrived
  bool early_read_end_ = false; // a read end before `connected`
  caf::error early_read_error_;
  caf::error read_error_;
  caf::error write_error_;
  caf::error connect_error_;
  caf::error failure_; // set once closed: what every request gets
};

} // namespace

connection_factory passive(passive_options opts) {
  return [opts](connection* self) -> caf::behavior {
    // Requests that come after the socket closed (a refused connect can
    // end before the first request arrives) get the typed error, not a
    // dead actor's `request_receiver_down`.
    self->stay_after_close();
    auto st = std::make_shared<passive_state>(self, opts);
    return {
      [st](recv_atom, size_t max) { return st->recv(max); },
      [st](write_atom, byte_buffer& buf) { return st->write(buf); },
      [st](flush_atom) { return st->flush(); },
      [st](shutdown_atom) { return st->shutdown(); },
      [st](close_atom) { st->close(); },
      [](grant_atom, size_t) {},
      [st](received& in) { st->on_received(in.bytes); },
      [st](const read_closed& r) { st->on_read_closed(r.reason); },
      [st](const write_completed& w) { st->on_write_completed(w); },
      [st](const shutdown_completed& s) { st->on_shutdown_completed(s); },
      [st](const connected& c) { st->on_connected(c); },
      [st](const connection_closed& c) { st->on_closed(c.reason); },
    };
  };
}

} // namespace actio::net
