#pragma once

/// Passive mode: a connection that speaks the byte-endpoint protocol
/// (io/endpoint.hpp) to any actor, like gen_tcp's `{active, false}`.
///
/// ```
/// auto conn = net::tcp_connect(rt, "example.org", 80, net::passive());
/// self->request(*conn, infinite, net::recv_atom::value, size_t{4096})
///   .then([](byte_buffer& bytes) { /* 1..4096 bytes; empty = EOF */ });
/// ```
///
/// Reading happens only for pending `recv` requests: the driver is granted
/// exactly what they ask for (at most `max_grant` each), so with no `recv`
/// pending nothing is read and the kernel pushes back on the peer. Bytes
/// that arrive beyond a request (the rest of its grant) wait for the next
/// one. Several pending `recv`s are served in arrival order.
///
/// - end of stream: empty replies, to every later `recv` too;
/// - `write` answers the byte count once the driver handed them to the
///   kernel; `flush` answers unit once every earlier write did (or the
///   error of an earlier failed write);
/// - `shutdown`: unit once queued writes drained and the write side closed;
/// - `close`: unit; pending requests fail with `errc::cancelled`, later
///   ones with `errc::closed`;
/// - a reset peer fails pending and later requests with
///   `errc::connection_reset`, runtime shutdown with `errc::shutting_down`;
/// - client connections (`tcp_connect`): requests made before `connected`
///   wait for it; if connecting fails they fail with its error (say
///   `errc::connection_refused`);
/// - `max == 0` fails with `errc::invalid_argument`; `grant_atom` messages
///   are ignored (the credit follows the `recv`s).
///
/// The connection stays open until `close` (or an error, or runtime
/// shutdown); end of stream and `shutdown` each close one direction only.
/// Once closed, the actor stays and answers every request with the typed
/// error (`closed`, `connection_refused`, `connection_reset`, ...) until the
/// last handle to it is gone or the runtime shuts down.

#include <cstddef>

#include "actio/net/connection.hpp"

namespace actio::net {

struct passive_options {
  /// Most read credit a single `recv` grants (larger `max` values are
  /// answered with at most this many bytes per reply); bounds the bytes a
  /// passive connection buffers per pending `recv`.
  size_t max_grant = 1024 * 1024;
};

/// A connection factory for `tcp_listen` / `tcp_connect`.
connection_factory passive(passive_options opts = {});

} // namespace actio::net
