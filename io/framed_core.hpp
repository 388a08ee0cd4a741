#pragma once

/// The part of a framed connection (io/framed.hpp) that does not depend on
/// the codec: read credit in bytes and frames, the write path with its
/// acknowledgements, EOF, finish and close. `framed<Codec>` builds on it;
/// use that, not this.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/completions.hpp"
#include "actio/net/connection.hpp"

namespace actio::io {

/// Limits of one framed connection (all > 0).
struct framed_options {
  /// Bytes read ahead of decoding: granted credit plus bytes received and
  /// not consumed by the codec yet.
  size_t read_window = 64 * 1024;
  /// Frames decoded and queued to the behaviour, not handled yet; reading
  /// pauses at this many.
  size_t max_frames = 64;
  /// Bytes sent (encoded) and not yet acknowledged by the driver; reading
  /// pauses at this many, so a peer that never reads stops being read.
  size_t max_bytes_in_flight = 256 * 1024;
  /// Unconsumed bytes that do not make a frame yet, and the encoded size of
  /// one frame: beyond this, `errc::too_long` closes the connection (a
  /// backstop: codecs check their own, smaller limits first).
  size_t max_frame_size = 8 * 1024 * 1024;
  /// Unacknowledged bytes beyond which a `send_frame_atom` request from
  /// another actor fails with `errc::write_queue_full`.
  size_t max_send_queue = 8 * 1024 * 1024;
};

/// A decode error (malformed, too long, EOF inside a frame) on its way to
/// the behaviour, after the frames decoded before it (io/framed.hpp).
struct decode_failed {
  caf::error reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decode_failed& x) {
  return f(caf::meta::type_name("actio.io.decode_failed"), x.reason);
}

/// Internal: the frames held while paused go on (see `framed_core::resume`).
struct framed_resume {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, framed_resume&) {
  return f(caf::meta::type_name("actio.io.framed_resume"));
}

/// `errc::invalid_argument` for a zero limit, else none.
caf::error validate(const framed_options& opts);

class framed_core {
public:
  framed_core(net::connection* self, framed_options opts);
  framed_core(const framed_core&) = delete;
  framed_core& operator=(const framed_core&) = delete;
  /// Requests from other actors still waiting fail with `shutting_down`.
  virtual ~framed_core();

  net::connection* self() const noexcept {
    return self_;
  }

  const framed_options& opts() const noexcept {
    return opts_;
  }

  /// The user's behaviour (frames and the events it wants).
  void set_user(caf::behavior user) {
    user_ = std::move(user);
  }

  // -- what the handle does ---------------------------------------------------

  /// Open for sending: not closing, write side not shut down.
  bool can_send() const noexcept {
    return !closing_ && !shutdown_wanted_;
  }

  /// Where `encode` appends; call `encoded(before, err)` after it.
  byte_buffer& out() noexcept {
    return pending_;
  }

  /// Accounts for (or, on error, undoes and closes with) what `encode`
  /// appended to `out()` since it had `before` bytes. True if sent. With
  /// `flush` false the bytes wait for `flush()` (or the next write).
  bool encoded(size_t before, caf::error err, bool flush = true);

  /// Writes what was encoded and not written yet (after the running write;
  /// inside a frame handler: when it returns).
  void flush();

  /// Flush, shut down the write side, discard input until EOF, close.
  void finish();

  /// Closes now; `connection_closed` carries `reason` (may be empty).
  void close(caf::error reason = {});

  /// Bytes sent and not acknowledged yet.
  size_t unacknowledged() const noexcept {
    return inflight_ + pending_.size();
  }

  /// Waits (as a promise) for the bytes sent so far to be acknowledged.
  void ack_when_written(caf::response_promise rp);

  /// The behaviour gets no more frames, decode errors or `read_closed`
  /// until `resume()`; they wait in order (counted against `max_frames`,
  /// so reading stops too).
  void pause() noexcept {
    paused_ = true;
  }

  /// Ends a `pause()`: what waited is delivered in order, from the mailbox
  /// (not from within the caller).
  void resume();

  bool paused() const noexcept {
    return paused_;
  }

  /// Bytes received from the peer, ever.
  uint64_t bytes_received() const noexcept {
    return received_;
  }

  /// Bytes sent (encoded), ever.
  uint64_t bytes_sent() const noexcept {
    return sent_;
  }

  // -- events -----------------------------------------------------------------

  void start();
  void on_frame(caf::message frame);
  void on_resume();
  void on_received(byte_buffer& bytes);
  void on_read_closed(const caf::error& reason);
  void on_write_completed(const write_completed& w);
  void on_shutdown_completed(const shutdown_completed& s);
  void on_connected(const connected& c);
  void on_draining(const draining& d);
  void on_closed(const connection_closed& c);

protected:
  /// Decodes at most one frame from `input()`; returns false when no
  /// progress was made (more bytes needed). Uses `consume`, `deliver`, `close`.
  virtual bool decode_one() = 0;
  /// The peer's EOF with every decodable frame handled.
  virtual void decode_eof() = 0;

  const uint8_t* input() const noexcept {
    return in_.data() + pos_;
  }
  size_t available() const noexcept {
    return in_.size() - pos_;
  }
  void consume(size_t n) noexcept {
    pos_ += n;
  }
  /// Hands a decoded frame to the behaviour: at once (from within the
  /// decoding loop), or behind the frames that wait while it is paused.
  void deliver(caf::message frame);
  /// Stops decoding and reading; `err` goes to the behaviour as
  /// `decode_failed` after the frames before it.
  void fail_decode(caf::error err);

  framed_options opts_;

private:
  void pump();
  void kick();
  void grant_more();
  bool tell(caf::message msg);
  void drop_held();
  void dispatch(caf::message msg);
  void handle(caf::message msg);
  bool hold_or_handle(caf::message msg);
  void settle(const caf::error& err);

  net::connection* self_;
  caf::behavior user_;
  byte_buffer in_; // received, from pos_ on not consumed
  size_t pos_ = 0;
  size_t credit_ = 0;  // granted, not received yet
  size_t queued_ = 0;  // frames delivered, not handled yet
  bool started_ = false;
  bool stalled_ = false;   // the codec wants more bytes
  bool in_handler_ = false; // sends wait for the handler to return
  bool pumping_ = false;    // in the decoding loop
  bool read_done_ = false;
  bool eof_decoded_ = false;
  bool eof_told_ = false;
  bool discarding_ = false; // finishing: input is dropped
  bool closing_ = false;
  bool failed_ = false;    // a decode error: no more decoding or reading
  bool paused_ = false;
  bool resume_sent_ = false;
  std::deque<caf::message> held_; // frames that came while paused
  uint64_t received_ = 0;
  caf::error read_error_;
  caf::error reason_; // why we closed
  byte_buffer pending_; // encoded, not handed to the driver yet
  size_t inflight_ = 0; // bytes of the write in flight
  op_id write_id_ = 0;
  uint64_t sent_ = 0;    // bytes ever encoded
  uint64_t written_ = 0; // bytes ever acknowledged
  std::deque<std::pair<uint64_t, caf::response_promise>> waiters_;
  bool shutdown_wanted_ = false;
  bool shutdown_sent_ = false;
  bool shutdown_done_ = false;
};

} // namespace actio::io
