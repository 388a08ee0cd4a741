#pragma once

/// Framed connections: a connection that speaks frames. A codec
/// (io/codec.hpp) decodes received bytes into frames, delivered to the
/// behaviour as messages, and encodes the frames it sends; read credit and
/// write acknowledgements are the framework's, counted in frames and bytes
/// (`framed_options`), so a slow behaviour or a peer that never reads stops
/// the reading instead of growing a buffer. Tokio's `Framed`, as an actor.
///
/// ```
/// auto echo = io::framed(io::line_frames{1024}, [](io::framed_self<io::line_frames> self) {
///   return caf::behavior{[=](std::string& line) { self.send(line); }};
/// });
/// auto srv = net::tcp_listen(rt, {"127.0.0.1", 7000}, echo);
/// ```
///
/// The behaviour gets each frame as a message of type `Codec::in_frame`,
/// one at a time, as it is decoded: within the activation that received
/// the bytes, not through the mailbox, and what the handlers of one such
/// run send goes out as one write. Decoding stops while `max_frames`
/// frames wait for a paused behaviour (`pause()`) and while
/// `max_bytes_in_flight` sent bytes are unacknowledged. It also gets the
/// connection events it handles: `connected`
/// (clients, first), `read_closed` (after every frame before it),
/// `draining`, `write_paused`/`write_resumed`, `timer_expired`, last
/// `connection_closed{reason}`. Defaults for what it leaves unhandled:
/// - `read_closed` (the peer's EOF) and `draining`: `finish()` — flush what
///   was sent, shut down the write side, read on (discarding) to the peer's
///   EOF, close; a listener's drain deadline closes what is left;
/// - a decode error (too long, malformed, truncated at EOF) arrives as
///   `decode_failed{reason}` after the frames decoded before it; nothing
///   more is decoded or read. Unhandled, it closes the connection and
///   `connection_closed` carries the error; handled, the behaviour ends the
///   connection itself (`finish()` or `close()`), at once or after it
///   answered what came before (an error frame, say);
/// - an encode error closes the connection; `connection_closed` carries it.
///
/// `self.pause()` holds back frames, decode errors and `read_closed` (in
/// order, counted against `max_frames`, so reading stops too) until
/// `self.resume()`: a behaviour that serves a frame asynchronously (a
/// request to another actor, a timer) takes the next one when it is done.
///
/// Other actors send frames with `(send_frame_atom, out_frame) -> unit`,
/// answered once the frame's bytes were written (or with the error:
/// `closed`, `write_queue_full` over `max_send_queue`, the write's error),
/// and may send `(net::close_atom)` and `(net::drain_atom, timespan)`.
/// Do not send raw `net::write_atom` bytes to a framed connection.

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/message_handler.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/result.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/codec.hpp"
#include "actio/io/framed_core.hpp"
#include "actio/net/connection.hpp"

namespace actio::io {

/// `(send_frame_atom, out_frame) -> unit`: send a frame on a framed
/// connection; the reply comes once its bytes were written.
using send_frame_atom = caf::atom_constant<caf::atom("io_fsend")>;

template <codec C>
class framed_state;

/// What a framed behaviour holds to act on its connection. Valid inside
/// the connection's own handlers only (other actors use messages).
template <codec C>
class framed_self {
public:
  using out_frame = typename C::out_frame;

  explicit framed_self(framed_state<C>* st) : st_(st) {
  }

  /// Encodes and sends `f`; false if the connection is closing, its write
  /// side is shut down, or encoding failed (then it closes with the error).
  /// Frames sent from one handler go out as one write when it returns.
  /// `f` is an `out_frame` or anything else the codec has an `encode`
  /// overload for (as Tokio's `Encoder<Item>`), e.g. a view that saves a copy.
  template <class F = out_frame>
    requires encodes<C, F>
  bool send(const F& f) const {
    return st_->send(f, true);
  }

  /// Like `send`, but outside a frame handler (a response handler, a
  /// timer) the bytes wait for `flush()`, so that frames fed one after the
  /// other go out as one write (Tokio's `SinkExt::feed`).
  template <class F = out_frame>
    requires encodes<C, F>
  bool feed(const F& f) const {
    return st_->send(f, false);
  }

  /// Writes what `feed` encoded (after the write in flight, if any).
  void flush() const {
    st_->flush();
  }

  /// Flush, shut down the write side, read on (discarding) to EOF, close.
  void finish() const {
    st_->finish();
  }

  /// Closes now; unsent frames are dropped, `connection_closed` carries
  /// `reason`.
  void close(caf::error reason = {}) const {
    st_->close(std::move(reason));
  }

  /// Bytes sent and not yet acknowledged by the driver.
  size_t unacknowledged() const noexcept {
    return st_->unacknowledged();
  }

  /// No more frames, decode errors or `read_closed` until `resume()`.
  void pause() const noexcept {
    st_->pause();
  }

  /// Delivers what waited, in order, from the mailbox, and tries decoding
  /// again (also when not paused: after the codec changed its mind about
  /// bytes it held back, say a protocol switch).
  void resume() const {
    st_->resume();
  }

  /// Delivers `rp` (an empty answer) once the bytes sent so far were
  /// written, or the write's error: how a frame sent for another actor is
  /// acknowledged, as `send_frame_atom` is.
  void ack_when_written(caf::response_promise rp) const {
    st_->ack_when_written(std::move(rp));
  }

  bool paused() const noexcept {
    return st_->paused();
  }

  /// Bytes received from the peer and bytes sent, ever (for idle checks,
  /// statistics).
  uint64_t bytes_received() const noexcept {
    return st_->bytes_received();
  }

  uint64_t bytes_sent() const noexcept {
    return st_->bytes_sent();
  }

  /// This connection's codec.
  C& codec() const noexcept {
    return st_->codec();
  }

  /// The connection actor underneath (timers, `peer()`, `is_client()`).
  net::connection* connection() const noexcept {
    return st_->self();
  }

  /// The connection as a handle for other actors.
  caf::actor handle() const {
    return caf::actor_cast<caf::actor>(st_->self());
  }

private:
  framed_state<C>* st_;
};

/// Makes the behaviour of a framed connection.
template <codec C>
using framed_factory = std::function<caf::behavior(framed_self<C>)>;

/// The codec-specific part of a framed connection.
template <codec C>
class framed_state : public framed_core {
public:
  framed_state(net::connection* self, C c, framed_options opts)
    : framed_core(self, opts), codec_(std::move(c)) {
  }

  C& codec() noexcept {
    return codec_;
  }

  template <class F>
  bool send(const F& f, bool flush = true) {
    if (!can_send())
      return false;
    auto before = out().size();
    if constexpr (std::is_same_v<decltype(codec_.encode(f, out())), void>) {
      codec_.encode(f, out());
      return encoded(before, caf::error{}, flush);
    } else {
      return encoded(before, codec_.encode(f, out()), flush);
    }
  }

protected:
  bool decode_one() override {
    auto d = codec_.decode(input(), available());
    return take(d);
  }

  void decode_eof() override {
    if constexpr (codec_with_finish<C>) {
      take(codec_.finish(input(), available()));
    } else if (available() > 0) {
      fail_decode(make_actio_error(errc::truncated,
                             std::to_string(available())
                               + " bytes of an incomplete frame at EOF"));
    }
  }

private:
  bool take(decoded<typename C::in_frame>& d) {
    if (d.error) {
      fail_decode(std::move(d.error));
      return false;
    }
    consume(std::min(d.consumed, available()));
    if (d.frame) {
      deliver(caf::make_message(std::move(*d.frame)));
      return true;
    }
    return d.consumed > 0;
  }

  bool take(decoded<typename C::in_frame>&& d) {
    return take(d);
  }

  C codec_;
};

/// A connection factory for `net::tcp_listen`, `unix_listen`,
/// `tcp_connect`, `unix_connect`: each connection gets a codec from
/// `make_codec()` and the behaviour `user` makes.
template <codec C, std::invocable Make>
  requires std::same_as<std::invoke_result_t<Make>, C>
net::connection_factory framed_with(Make make_codec,
                                    std::type_identity_t<framed_factory<C>> user,
                                    framed_options opts = {}) {
  using out_frame = typename C::out_frame;
  return [make_codec, user, opts](net::connection* self) -> caf::behavior {
    auto st = std::make_shared<framed_state<C>>(self, make_codec(), opts);
    auto mine = user ? user(framed_self<C>{st.get()}) : caf::behavior{};
    st->set_user(mine);
    if (!self->is_client())
      st->start();
    caf::message_handler core{
      [st](decode_failed& f) { st->on_frame(caf::make_message(std::move(f))); },
      [st](framed_resume) { st->on_resume(); },
      [st](send_frame_atom, out_frame& f) -> caf::result<void> {
        if (!st->can_send())
          return make_actio_error(errc::closed, "framed connection is closed");
        if (st->unacknowledged() > st->opts().max_send_queue)
          return make_actio_error(errc::write_queue_full,
                                  "framed connection: send queue full");
        if (!st->send(f))
          return make_actio_error(errc::malformed, "frame cannot be encoded");
        auto rp = st->self()->make_response_promise();
        st->ack_when_written(rp);
        return rp;
      },
      [st](received& in) { st->on_received(in.bytes); },
      [st](const read_closed& r) { st->on_read_closed(r.reason); },
      [st](const write_completed& w) { st->on_write_completed(w); },
      [st](const shutdown_completed& s) { st->on_shutdown_completed(s); },
      [st](const connected& c) { st->on_connected(c); },
      [st](const draining& d) { st->on_draining(d); },
      [st](const connection_closed& c) { st->on_closed(c); },
    };
    if (!mine)
      return core;
    return core.or_else(mine.as_behavior_impl());
  };
}

/// The same with a codec value copied for each connection; the codec type
/// is deduced: `framed(line_frames{1024}, user)`.
template <codec C>
net::connection_factory framed(C proto,
                               std::type_identity_t<framed_factory<C>> user,
                               framed_options opts = {}) {
  return framed_with<C>([proto] { return proto; }, std::move(user), opts);
}

} // namespace actio::io
