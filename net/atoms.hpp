#pragma once

/// Atoms of the message protocol that connection and listener actors speak
/// with other actors (any thread, any node-local actor).

#include <caf/atom.hpp>

namespace actio::net {

/// `(write_atom, byte_buffer) -> size_t`: write, reply when acknowledged.
using write_atom = caf::atom_constant<caf::atom("net_write")>;
/// `(shutdown_atom) -> unit`: shut down the write side after queued writes.
using shutdown_atom = caf::atom_constant<caf::atom("net_shut")>;
/// `(close_atom) -> unit`: close; pending writes fail with `cancelled`.
using close_atom = caf::atom_constant<caf::atom("net_close")>;
/// `(grant_atom, size_t)`: allow reading that many more bytes.
using grant_atom = caf::atom_constant<caf::atom("net_grant")>;
/// `(recv_atom, size_t max) -> byte_buffer`: the next 1..max bytes; empty
/// at end of stream (see io/endpoint.hpp).
using recv_atom = caf::atom_constant<caf::atom("net_recv")>;
/// `(flush_atom) -> unit`: everything written so far has been handed on.
using flush_atom = caf::atom_constant<caf::atom("net_flush")>;
/// `(drain_atom, caf::timespan deadline)`: to a listener `-> drain_result`
/// (stop accepting, let connections finish, force-close at the deadline);
/// to a connection: `draining` event now, close at the deadline.
using drain_atom = caf::atom_constant<caf::atom("net_drain")>;
/// `(stats_atom) -> listener_stats`: a listener's connection counts.
using stats_atom = caf::atom_constant<caf::atom("net_stats")>;
/// `(port_atom) -> uint16_t`: a listener's bound port.
using port_atom = caf::atom_constant<caf::atom("net_port")>;

/// `(send_to_atom, address, byte_buffer) -> size_t`: send one datagram.
using send_to_atom = caf::atom_constant<caf::atom("net_sendto")>;
/// `(send_atom, byte_buffer) -> size_t`: one datagram to the connected peer.
using send_atom = caf::atom_constant<caf::atom("net_send")>;
/// `(connect_atom, address) -> unit`: a datagram socket's default peer.
using connect_atom = caf::atom_constant<caf::atom("net_conn")>;

} // namespace actio::net
