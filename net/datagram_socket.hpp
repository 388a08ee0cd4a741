#pragma once

/// A datagram socket actor (UDP or AF_UNIX SOCK_DGRAM): pinned to its
/// driver's thread, it owns one socket and runs the user's behaviour for it.
/// Made by `udp_bind` (net/udp_socket.hpp) or `unix_datagram_bind`
/// (net/unix_datagram.hpp).
///
/// ```
/// caf::behavior echo(actio::net::datagram_socket* self) {
///   self->grant(64);                               // 64 datagrams
///   return {
///     [=](actio::datagram_received& in) {
///       self->send_to(in.from, std::move(in.bytes));
///     },
///     [=](const actio::write_completed&) { self->grant(1); },
///   };
/// }
/// ```
///
/// Reading is by credit counted in datagrams: without credit nothing is read
/// and the kernel drops what its receive buffer cannot hold, so memory stays
/// bounded whatever peers send. Events (drivers/completions.hpp):
/// `datagram_received{from, bytes, truncated}` (one per credit; `truncated`
/// when longer than `max_datagram`), `datagram_error` (an ICMP error seen
/// while receiving; the socket stays open), `write_completed` (one per
/// send), `timer_expired`, and last `connection_closed`, after which the
/// actor ends. Events the behaviour does not handle are dropped.
///
/// Other actors may send (net/atoms.hpp) `(send_to_atom, address,
/// byte_buffer) -> size_t`, `(send_atom, byte_buffer) -> size_t` (connected
/// mode), `(connect_atom, address) -> unit`, `(grant_atom, size_t
/// datagrams)` and `(close_atom)`. Every request gets exactly one response;
/// on close pending sends fail with `errc::cancelled`.

#include <functional>
#include <string>

#include <caf/event_based_actor.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/address.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/driver.hpp"

namespace actio::net {

/// Settings shared by UDP and Unix datagram sockets.
struct datagram_options {
  /// Receive size: a longer datagram arrives cut, marked `truncated`.
  size_t max_datagram = 64 * 1024;
  /// Datagrams waiting to be sent; beyond: `errc::write_queue_full`.
  size_t max_queued = 1024;
  /// SO_RCVBUF in bytes (the kernel doubles it); 0: system default.
  int recv_buffer = 0;
  /// SO_SNDBUF in bytes (the kernel doubles it); 0: system default.
  int send_buffer = 0;
};

class datagram_socket;

/// Makes the behaviour of a new datagram socket.
using datagram_factory = std::function<caf::behavior(datagram_socket*)>;

class datagram_socket : public pinned<caf::event_based_actor> {
public:
  using super = pinned<caf::event_based_actor>;

  /// `unlink_path`: a socket file this socket created by binding, removed
  /// when the actor ends.
  datagram_socket(caf::actor_config& cfg, owned_fd fd, datagram_factory factory,
                  datagram_limits limits, net::address local,
                  std::string unlink_path);

  // -- requests (only from this actor's own handlers) ------------------------

  /// Allows receiving `datagrams` more.
  void grant(size_t datagrams);

  /// Queues one datagram to `to`; completes with `write_completed{id}`.
  op_id send_to(const net::address& to, byte_buffer buf);

  /// Queues one datagram to the connected peer (see `connect`).
  op_id send(byte_buffer buf);

  /// Sets the default peer; afterwards only datagrams from it arrive.
  caf::error connect(const net::address& to);

  /// Closes now: queued sends complete with `errc::cancelled`, then
  /// `connection_closed` arrives and the actor ends.
  void close();

  /// One-shot timer on the driver: `timer_expired{id}` after `delay`.
  op_id start_timer(driver::clock::duration delay);

  /// Cancels a timer; false if it already fired.
  bool cancel_timer(op_id id);

  /// The socket's id with the driver; 0 once closed.
  socket_id socket() const noexcept {
    return sock_;
  }

  /// The bound address.
  const net::address& local() const noexcept {
    return local_;
  }

  /// The connected peer; empty when not connected.
  const net::address& peer() const noexcept {
    return peer_;
  }

  const char* name() const override {
    return "actio.datagram_socket";
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
  datagram_factory factory_;
  datagram_limits limits_;
  net::address local_;
  net::address peer_;
  std::string unlink_path_;
  socket_id sock_ = 0;
  op_id next_op_ = 1;
};

/// Creates a non-blocking datagram socket of `family`, applies `opts`'
/// buffer sizes and `setup` (extra options), binds it to `local` (empty:
/// no bind) and returns it. Runs on the caller's thread.
caf::expected<int> make_datagram_socket(int family, const net::address& local,
                                        const datagram_options& opts,
                                        const std::function<caf::error(int)>& setup = {});

} // namespace actio::net
