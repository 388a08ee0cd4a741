#include "actio/io/framed_core.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "actio/drivers/errc.hpp"

namespace actio::io {

caf::error validate(const framed_options& opts) {
  if (opts.read_window == 0 || opts.max_frames == 0
      || opts.max_bytes_in_flight == 0 || opts.max_frame_size == 0
      || opts.max_send_queue == 0)
    return make_actio_error(errc::invalid_argument,
                            "framed_options: every limit must be > 0");
  return caf::none;
}

framed_core::framed_core(net::connection* self, framed_options opts)
  : opts_(opts), self_(self) {
  for (auto* x : {&opts_.read_window, &opts_.max_frames,
                  &opts_.max_bytes_in_flight, &opts_.max_frame_size,
                  &opts_.max_send_queue})
    *x = std::max(*x, size_t{1}); // (validate() reports zeros to callers)
}

framed_core::~framed_core() {
  settle(make_actio_error(errc::shutting_down, "framed connection exited"));
}

void framed_core::settle(const caf::error& err) {
  for (auto& w : waiters_)
    w.second.deliver(err);
  waiters_.clear();
}

bool framed_core::tell(caf::message msg) {
  return static_cast<bool>(user_(msg));
}

// -- sending -----------------------------------------------------------------

bool framed_core::encoded(size_t before, caf::error err, bool flush) {
  auto n = pending_.size() - before;
  if (!err && n > opts_.max_frame_size)
    err = make_actio_error(errc::too_long,
                           "frame of " + std::to_string(n)
                             + " bytes to send exceeds "
                             + std::to_string(opts_.max_frame_size));
  if (err) {
    pending_.resize(before);
    close(std::move(err));
    return false;
  }
  sent_ += n;
  if (flush && !in_handler_)
    kick();
  return true;
}

void framed_core::flush() {
  if (!in_handler_)
    kick();
}

void framed_core::ack_when_written(caf::response_promise rp) {
  if (written_ >= sent_)
    rp.deliver(caf::unit);
  else
    waiters_.emplace_back(sent_, std::move(rp));
}

/// One write in flight; what is sent meanwhile goes out as one write after
/// it. Then the shutdown, once everything is written.
void framed_core::kick() {
  if (closing_ || write_id_ != 0)
    return;
  if (!pending_.empty()) {
    inflight_ = pending_.size();
    byte_buffer buf;
    buf.swap(pending_);
    write_id_ = self_->write(std::move(buf));
    if (write_id_ == 0)
      write_id_ = ~op_id{0}; // (ids start at 1; never 0 while in flight)
    return;
  }
  if (shutdown_wanted_ && !shutdown_sent_) {
    shutdown_sent_ = true;
    self_->shutdown_write();
  }
}

void framed_core::drop_held() {
  queued_ -= std::min(queued_, held_.size());
  held_.clear();
}

void framed_core::finish() {
  if (closing_ || discarding_)
    return;
  discarding_ = true;
  drop_held();
  shutdown_wanted_ = true;
  in_.clear();
  pos_ = 0;
  kick();
  if (read_done_ && shutdown_done_)
    self_->close();
  else
    grant_more();
}

void framed_core::close(caf::error reason) {
  if (closing_)
    return;
  closing_ = true;
  reason_ = std::move(reason);
  drop_held();
  in_.clear();
  pos_ = 0;
  self_->close();
}

// -- reading -----------------------------------------------------------------

void framed_core::start() {
  started_ = true;
  pump();
}

/// A decoded frame goes to the behaviour at once, from within the decoding
/// loop (no trip through the mailbox; the loop kicks the write after it).
void framed_core::deliver(caf::message frame) {
  ++queued_;
  hold_or_handle(std::move(frame));
}

/// Queues `frame` behind the frames that wait while the behaviour is
/// paused, or runs the behaviour on it; true if it ran.
bool framed_core::hold_or_handle(caf::message frame) {
  if (paused_ || !held_.empty()) {
    held_.push_back(std::move(frame)); // (still counted in queued_)
    return false;
  }
  handle(std::move(frame));
  return true;
}

void framed_core::fail_decode(caf::error err) {
  failed_ = true;
  ++queued_;
  caf::anon_send(caf::actor_cast<caf::actor>(self_),
                 decode_failed{std::move(err)});
}

void framed_core::on_frame(caf::message frame) {
  if (closing_ || discarding_) {
    queued_ -= std::min(queued_, size_t{1});
    return; // finishing or closed: frames still queued are dropped
  }
  if (hold_or_handle(std::move(frame))) {
    kick();
    pump();
  }
}

/// A held frame to the behaviour, then its write and more decoding.
void framed_core::dispatch(caf::message frame) {
  handle(std::move(frame));
  kick();
  pump();
}

/// One frame (or decode error) to the behaviour; what it sends waits for
/// the caller's kick(). An unhandled decode error closes with it; after a
/// handled one the behaviour ends the connection (at once or once it
/// answered what came before: nothing more is read).
void framed_core::handle(caf::message frame) {
  --queued_;
  caf::error failure;
  bool is_failure = frame.match_elements<decode_failed>();
  if (is_failure)
    failure = frame.get_as<decode_failed>(0).reason;
  auto outer = in_handler_;
  in_handler_ = true;
  bool handled = tell(std::move(frame));
  in_handler_ = outer;
  if (is_failure && !handled)
    close(std::move(failure));
}

void framed_core::resume() {
  paused_ = false;
  if (!resume_sent_ && !closing_) {
    resume_sent_ = true;
    caf::anon_send(caf::actor_cast<caf::actor>(self_), framed_resume{});
  }
}

void framed_core::on_resume() {
  resume_sent_ = false;
  stalled_ = false; // the codec may take now what it held back
  while (!paused_ && !held_.empty() && !closing_ && !discarding_) {
    auto frame = std::move(held_.front());
    held_.pop_front();
    dispatch(std::move(frame));
  }
  pump();
}

void framed_core::on_received(byte_buffer& bytes) {
  credit_ -= std::min(credit_, bytes.size());
  received_ += bytes.size();
  if (closing_)
    return;
  if (discarding_) {
    grant_more();
    return;
  }
  if (pos_ == in_.size()) {
    in_ = std::move(bytes);
    pos_ = 0;
  } else {
    if (pos_ > 0) {
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos_));
      pos_ = 0;
    }
    in_.insert(in_.end(), bytes.begin(), bytes.end());
  }
  stalled_ = false;
  pump();
}

/// Decodes while the behaviour has room (and is not paused) and the bytes it
/// sent stay under max_bytes_in_flight -- its replies may be far larger than
/// the frames (a GET of a large value), so bytes already read must not be
/// decoded without bound either --, handles EOF once every frame before it
/// was handled, then grants what the limits allow.
void framed_core::pump() {
  if (!started_ || pumping_)
    return;
  // Frames decoded here are handled here; what their handlers send goes
  // out as one write after the loop.
  pumping_ = true;
  auto outer = in_handler_;
  in_handler_ = true;
  while (!closing_ && !discarding_ && !failed_ && !stalled_
         && queued_ < opts_.max_frames
         && unacknowledged() < opts_.max_bytes_in_flight)
    if (!decode_one())
      stalled_ = true;
  in_handler_ = outer;
  pumping_ = false;
  kick();
  if (closing_ || discarding_ || failed_)
    return;
  if (stalled_ && available() > opts_.max_frame_size) {
    fail_decode(make_actio_error(errc::too_long,
                                 "framed connection to " + self_->peer() + ": "
                                   + std::to_string(available())
                                   + " bytes without a complete frame"));
    return;
  }
  if (pos_ == in_.size()) {
    in_.clear();
    pos_ = 0;
  }
  if (paused_)
    return; // (no EOF either: a last frame may come with it)
  if (read_done_ && stalled_ && queued_ == 0 && !eof_decoded_) {
    eof_decoded_ = true;
    if (!read_error_)
      decode_eof(); // may deliver a last frame or a decode error
    if (closing_ || failed_)
      return;
  }
  if (eof_decoded_ && queued_ == 0 && !eof_told_ && !paused_) {
    eof_told_ = true;
    if (!tell(caf::make_message(read_closed{self_->socket(), read_error_})))
      finish(); // default: flush, shut down the write side, close
    return;
  }
  grant_more();
}

void framed_core::grant_more() {
  if (!started_ || closing_ || read_done_ || (failed_ && !discarding_))
    return;
  if (!discarding_
      && (paused_ || queued_ >= opts_.max_frames
          || unacknowledged() >= opts_.max_bytes_in_flight))
    return; // the behaviour or the peer is behind: stop reading
  // Unconsumed bytes count against the window unless the codec needs more
  // of them for one frame (bounded by its own limit and max_frame_size).
  auto have = credit_ + (discarding_ || stalled_ ? 0 : available());
  if (have < opts_.read_window) {
    auto n = opts_.read_window - have;
    credit_ += n;
    self_->grant(n);
  }
}

void framed_core::on_read_closed(const caf::error& reason) {
  read_done_ = true;
  read_error_ = reason;
  credit_ = 0;
  if (discarding_) {
    if (shutdown_done_)
      self_->close();
    return;
  }
  pump();
}

// -- other events ------------------------------------------------------------

void framed_core::on_write_completed(const write_completed& w) {
  if (w.id != write_id_)
    return;
  write_id_ = 0;
  if (w.reason) {
    settle(w.reason);
    close(w.reason);
    return;
  }
  written_ += inflight_;
  inflight_ = 0;
  while (!waiters_.empty() && waiters_.front().first <= written_) {
    waiters_.front().second.deliver(caf::unit);
    waiters_.pop_front();
  }
  kick();
  pump();
}

void framed_core::on_shutdown_completed(const shutdown_completed& s) {
  shutdown_done_ = true;
  if (s.reason)
    close(s.reason);
  else if (read_done_)
    self_->close();
}

void framed_core::on_connected(const connected& c) {
  tell(caf::make_message(c));
  if (!c.reason)
    start();
}

void framed_core::on_draining(const draining& d) {
  if (!tell(caf::make_message(d)))
    finish();
}

void framed_core::on_closed(const connection_closed& c) {
  closing_ = true;
  auto reason = reason_ ? reason_ : c.reason;
  settle(reason ? reason
                : make_actio_error(errc::closed, "framed connection closed"));
  tell(caf::make_message(connection_closed{c.sock, std::move(reason)}));
}

} // namespace actio::io
