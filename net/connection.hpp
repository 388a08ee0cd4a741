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
/// connections only, first), `received`,
/// `read_closed`, `write_completed`, `shutdown_completed`, `write_paused`,
/// `write_resumed`, `timer_expired`, and last `connection_closed`, after which
/// the actor ends. Events the behaviour does not handle are dropped.
///
/// Other actors may send `(write_atom, byte_buffer)`, `(shutdown_atom)`,
/// `(close_atom)` and `(grant_atom, size_t)` (net/atoms.hpp); requests get
/// exactly one response: the result or an `actio::errc` error.

#include <functional>
#include <optional>

#include <caf/event_based_actor.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/driver.hpp"

namespace actio::net {

/// Where a client connection connects to (see `tcp_connect`).
struct connect_target {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

/// Per-connection settings.
struct connection_options {
  write_limits limits;  ///< write-queue watermarks and hard limit
  bool nodelay = true;  ///< TCP_NODELAY
};

class connection;

/// Makes the behaviour of a new connection.
using connection_factory = std::function<caf::behavior(connection*)>;

class connection : public pinned<caf::event_based_actor> {
public:
  using super = pinned<caf::event_based_actor>;

  /// With `target`, the socket is connected first: the behaviour's first
  /// event is `connected{reason}`; on failure the connection then closes.
  connection(caf::actor_config& cfg, owned_fd fd, connection_factory factory,
             connection_options opts,
             std::optional<connect_target> target = std::nullopt);

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

  /// True for client connections (made with a `connect_target`).
  bool is_client() const noexcept {
    return target_.has_value();
  }

  /// The socket's id with the driver; 0 once closed.
  socket_id socket() const noexcept {
    return sock_;
  }

  /// "address:port" of the peer.
  const std::string& peer() const noexcept {
    return peer_;
  }

  const char* name() const override {
    return "actio.connection";
  }

protected:
  caf::behavior make_behavior() override;
  void on_exit() override;
  caf::invoke_message_result consume(caf::mailbox_element& x) override;

private:
  template <class T>
  void to_self(T&& event) {
    enqueue(nullptr, caf::make_message_id(),
            caf::make_message(std::forward<T>(event)), context());
  }

  owned_fd fd_;
  connection_factory factory_;
  connection_options opts_;
  std::optional<connect_target> target_;
  socket_id sock_ = 0;
  op_id next_op_ = 1;
  std::string peer_;
  bool stay_ = false;
};

} // namespace actio::net
