#pragma once

/// A TCP connection actor: pinned to its driver's thread, it owns one socket
/// and runs the user's behaviour for it.
///
/// ```
/// caf::behavior echo(actio::net::connection* self) {
///   self->grant(64 * 1024);                         // start reading
///   return {
///     [=](actio::received& in) { self->write(std::move(in.bytes)); },
///     [=](const actio::write_completed& w) { self->grant(w.bytes); },
///     [=](const actio::read_closed&) { self->shutdown_write(); },
///     [=](const actio::shutdown_completed&) { self->close(); },
///   };
/// }
/// ```
///
/// Events (drivers/completions.hpp) arrive as messages: `connected` (client
/// connections only, first), `received`, `read_closed`, `write_completed`,
/// `shutdown_completed`, `write_paused`, `write_resumed`, `timer_expired`,
/// `draining` (net/draining.hpp), and last `connection_closed`, after which
/// the actor ends. Events the behaviour does not handle are dropped.
///
/// A behaviour that throws, or a message that is neither an event nor
/// handled (by the behaviour or the requests below), fails the connection:
/// the failure is reported with the peer (one rate-limited stderr line),
/// the socket closes with `errc::actor_failed` (pending requests and the
/// unhandled request itself get that error) and the actor exits with it.
/// Other connections and the listener are not affected. When a
/// timeout (`connection_options::timeouts`) expires, the connection closes
/// with `errc::idle_timeout`, `read_timeout` or `write_timeout`: pending
/// requests fail with it and `connection_closed{reason}` carries it.
///
/// Other actors may send `(write_atom, byte_buffer)`, `(shutdown_atom)`,
/// `(close_atom)`, `(grant_atom, size_t)` and `(drain_atom, timespan)`
/// (net/atoms.hpp); a connection closed at its drain deadline exits with
/// `errc::shutting_down` (its monitors see it), otherwise normally.
/// Requests get exactly one response: the result or an `actio::errc` error.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/driver.hpp"
#include "actio/net/draining.hpp"
#include "actio/net/timeouts.hpp"
#include "actio/net/resolver.hpp"
#include "actio/net/socket_options.hpp"
#include "actio/net/tls_context.hpp"

namespace actio::net {

/// What a client connection connects to (see `tcp_connect`, `unix_connect`).
struct connect_request {
  std::string host;  ///< non-empty: resolved off the driver thread first
  uint16_t port = 0; ///< with `host`
  std::vector<connect_target> targets; ///< else: tried in order
  std::string name;  ///< "host:port" or the path, for error texts
};

/// Per-connection settings.
struct connection_options {
  write_limits limits;   ///< write-queue watermarks and hard limit
  socket_options socket; ///< kernel socket options (net/socket_options.hpp)
  /// Client connections: resolving plus connecting (all addresses) must
  /// finish within this, else `connected{errc::timed_out}`.
  std::chrono::milliseconds connect_timeout{10'000};
  connection_timeouts timeouts; ///< idle/read/write timeouts, all off
  /// TLS under the connection (net/tls_context.hpp): a server context for
  /// listeners, a client context for `tcp_connect` / `unix_connect`. The
  /// behaviour sees plaintext; a client's `connected` comes after the
  /// handshake. Unset: plain bytes.
  std::optional<tls_context> tls;
};

class connection;

namespace detail {
caf::result<caf::message> drop_events(caf::scheduled_actor*, caf::message_view&);
struct tls_state;
} // namespace detail

/// Makes the behaviour of a new connection.
using connection_factory = std::function<caf::behavior(connection*)>;

class connection : public pinned<caf::event_based_actor> {
public:
  using super = pinned<caf::event_based_actor>;

  /// An accepted connection on the connected socket `fd`.
  connection(caf::actor_config& cfg, owned_fd fd, connection_factory factory,
             connection_options opts);

  /// A client connection: resolves `req.host` (if any) on a helper thread,
  /// then tries each address in order until one connects. The behaviour is
  /// made once that is decided; its first event is `connected{reason}`, and
  /// on failure `connection_closed` follows. Requests from other actors
  /// wait meanwhile.
  connection(caf::actor_config& cfg, connect_request req,
             connection_factory factory, connection_options opts);

  ~connection() override;

  // -- requests (only from this actor's own handlers) ------------------------

  /// Allows reading `bytes` more; `received` events stop at zero credit.
  void grant(size_t bytes);

  /// Queues `buf`; completes with `write_completed{id}`.
  op_id write(byte_buffer buf);

  /// Shuts down the write side after queued writes; completes with
  /// `shutdown_completed{id}`. Reading goes on until `read_closed`.
  op_id shutdown_write();

  /// Closes now: queued writes complete with `errc::cancelled`, then
  /// `connection_closed` arrives and the actor ends.
  void close();

  /// The graceful end (the usual answer to `draining` and `read_closed`):
  /// after the queued writes complete, shuts down the write side (the peer
  /// sees EOF), then keeps reading, discarding what arrives and granting
  /// the credit back, until the peer's EOF, then closes. Closing with
  /// unread input would reset the connection instead. From the call on, the
  /// behaviour sees no more `received`, `read_closed` or the shutdown's
  /// `shutdown_completed`; `write_completed` of earlier writes still come.
  /// Idempotent; do not mix with an own `shutdown_write`.
  void finish();

  /// One-shot timer on the driver: `timer_expired{id}` after `delay`.
  op_id start_timer(driver::clock::duration delay);

  /// Cancels a timer; false if it already fired.
  bool cancel_timer(op_id id);

  /// After `connection_closed` the actor stays and its behaviour keeps
  /// answering requests (with errors) until the last handle to it is gone
  /// or it gets an exit message (runtime shutdown). Default: it ends.
  void stay_after_close() noexcept {
    stay_ = true;
  }

  /// True for client connections (made by `tcp_connect` / `unix_connect`).
  bool is_client() const noexcept {
    return request_.has_value();
  }

  /// The socket's id with the driver; 0 once closed.
  socket_id socket() const noexcept {
    return sock_;
  }

  /// "address:port" of the peer (numeric), "unix:PATH" for Unix sockets;
  /// for a client connection before it connected, the name it connects to.
  const std::string& peer() const noexcept {
    return peer_;
  }

  /// The socket's descriptor, for getsockopt and the like; -1 when none.
  /// Owned by the driver: never close, read or write it.
  int native_handle() const noexcept {
    return sock_ != 0 ? native_fd_ : -1;
  }

  const char* name() const override {
    return "actio.connection";
  }

protected:
  caf::behavior make_behavior() override;
  void on_exit() override;
  caf::invoke_message_result consume(caf::mailbox_element& x) override;

private:
  friend caf::result<caf::message> detail::drop_events(caf::scheduled_actor*,
                                                       caf::message_view&);

  void set_failure_handler();
  /// The behaviour threw or got a message it cannot handle: reports it with
  /// the peer, closes the socket with `errc::actor_failed` and returns that.
  caf::error fail(const std::string& what, bool close_now);

  template <class T>
  void to_self(T&& event) {
    enqueue(nullptr, caf::make_message_id(),
            caf::make_message(std::forward<T>(event)), context());
  }

  /// Everything after the timers: finish(), the behaviour, the end.
  caf::invoke_message_result deliver(caf::mailbox_element& x);
  bool finish_step(const caf::type_erased_tuple& xs);

  // -- TLS (net/connection_tls.cpp) --
  template <class T>
  void tls_dispatch(T&& event);
  void tls_start(op_id connect_op); // before the behaviour is made
  void tls_begin();                 // after: the handshake starts
  bool tls_intercept(caf::mailbox_element& x);
  void tls_on_cipher(byte_buffer& bytes);
  void tls_on_eof(caf::error reason);
  void tls_handshake_step();
  void tls_established();
  void tls_pump_reads();
  void tls_top_up();
  void tls_flush();
  void tls_fail(caf::error reason);
  void tls_grant(size_t bytes);
  void tls_write(op_id id, byte_buffer buf, caf::response_promise* rp);
  void tls_shutdown(op_id id, caf::response_promise* rp);
  void tls_send_write(op_id id, byte_buffer buf, caf::response_promise* rp);
  void tls_send_shutdown(op_id id, caf::response_promise* rp);
  void tls_complete(op_id id, size_t bytes, bool shutdown,
                    caf::response_promise* rp, caf::error reason,
                    bool now);
  void tls_abandon(const caf::error& reason);
  void check_timeouts();
  void start_drain(caf::timespan deadline);
  caf::behavior user_behavior();
  caf::behavior connecting_behavior();
  void try_next_target();
  void abort_connect(caf::error reason);
  void finish_connect(socket_id sock, op_id op, caf::error reason);

  owned_fd fd_;
  connection_factory factory_;
  connection_options opts_;
  std::optional<connect_request> request_;
  socket_id sock_ = 0;
  int native_fd_ = -1;
  op_id next_op_ = 1;
  std::string peer_;
  std::optional<timeout_watch> watch_;
  op_id watch_timer_ = 0; // 0: not armed
  op_id drain_timer_ = 0;
  bool draining_ = false;
  bool forced_ = false; // closed at the drain deadline
  // -- finish() --
  bool finishing_ = false;
  bool peer_eof_ = false;  // read_closed seen
  bool finish_shut_ = false; // the write side is shut down
  op_id finish_op_ = 0;
  // -- client connections while connecting --
  size_t next_target_ = 0;
  socket_id attempt_ = 0;   ///< the socket trying the current address
  int attempt_fd_ = -1;
  op_id connect_timer_ = 0; ///< pending deadline timer
  op_id stale_timer_ = 0;   ///< a deadline that fired too late: drop it
  bool aborting_ = false;   ///< giving up once `attempt_` closed
  caf::error last_error_;
  bool stay_ = false;
  caf::error failure_; ///< set by fail(): the actor's exit reason
  std::unique_ptr<detail::tls_state> tls_; ///< with `opts_.tls`
};

} // namespace actio::net
