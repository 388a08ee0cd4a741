#pragma once

/// Completion messages: what a driver reports to the actor that owns a
/// socket. Named after what happened, like CAF's `new_data_msg`. Every request
/// gets exactly one of these (or a response, for requests made with a
/// response promise), also on close, cancel and shutdown.

#include <cstddef>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "actio/drivers/types.hpp"
#include "actio/drivers/address.hpp"

namespace actio {

/// A listener accepted a connection. The descriptor closes itself if nobody
/// takes it.
struct accepted {
  socket_id listener = 0;
  owned_fd fd;
};

/// Accepting failed (EMFILE, ENFILE, ENOMEM, ...). The driver backs off and
/// retries by itself; `accept_resumed` follows once it works again.
struct accept_paused {
  socket_id listener = 0;
  caf::error reason;
};

/// Accepting works again after an `accept_paused`.
struct accept_resumed {
  socket_id listener = 0;
};

/// Bytes read under the credit the owner granted.
struct received {
  socket_id sock = 0;
  byte_buffer bytes;
};

/// The read side ended: `reason` is empty for an orderly EOF from the peer.
struct read_closed {
  socket_id sock = 0;
  caf::error reason;
};

/// Completion of one write: all `bytes` are with the kernel, or `reason`
/// says why not (then `bytes` tells how many made it).
struct write_completed {
  socket_id sock = 0;
  op_id id = 0;
  size_t bytes = 0;
  caf::error reason;
};

/// Completion of a shutdown of the write side (after queued writes drained).
struct shutdown_completed {
  socket_id sock = 0;
  op_id id = 0;
  caf::error reason;
};

/// Queued write bytes rose above the high watermark: stop producing.
struct write_paused {
  socket_id sock = 0;
  size_t queued = 0;
};

/// Queued write bytes fell to the low watermark: produce again.
struct write_resumed {
  socket_id sock = 0;
  size_t queued = 0;
};

/// The socket is closed and deregistered: by `close` (empty reason) or by an
/// error. The last message a connection receives from its driver.
struct connection_closed {
  socket_id sock = 0;
  caf::error reason;
};

/// Completion of `driver::connect`: connected, or `reason` says why not.
struct connected {
  socket_id sock = 0;
  op_id id = 0;
  caf::error reason;
};

/// One datagram, read under one credit. `truncated`: it was longer than the
/// socket's receive size and `bytes` holds only its first part (MSG_TRUNC).
struct datagram_received {
  socket_id sock = 0;
  net::address from;
  byte_buffer bytes;
  bool truncated = false;
};

/// An error the kernel reported on a datagram socket while receiving (an
/// ICMP error for an earlier send: `connection_refused`, `unreachable`).
/// The socket stays open; no credit was used.
struct datagram_error {
  socket_id sock = 0;
  caf::error reason;
};

/// A timer started with `driver::start_timer` expired.
struct timer_expired {
  op_id id = 0;
};

// -- inspection (CAF 0.17) -----------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accepted& x) {
  return f(caf::meta::type_name("actio.accepted"), x.listener);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accept_paused& x) {
  return f(caf::meta::type_name("actio.accept_paused"), x.listener, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accept_resumed& x) {
  return f(caf::meta::type_name("actio.accept_resumed"), x.listener);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, received& x) {
  return f(caf::meta::type_name("actio.received"), x.sock, x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_closed& x) {
  return f(caf::meta::type_name("actio.read_closed"), x.sock, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_completed& x) {
  return f(caf::meta::type_name("actio.write_completed"), x.sock, x.id,
           x.bytes, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shutdown_completed& x) {
  return f(caf::meta::type_name("actio.shutdown_completed"), x.sock, x.id,
           x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_paused& x) {
  return f(caf::meta::type_name("actio.write_paused"), x.sock, x.queued);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_resumed& x) {
  return f(caf::meta::type_name("actio.write_resumed"), x.sock, x.queued);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_closed& x) {
  return f(caf::meta::type_name("actio.connection_closed"), x.sock, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connected& x) {
  return f(caf::meta::type_name("actio.connected"), x.sock, x.id, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, datagram_received& x) {
  return f(caf::meta::type_name("actio.datagram_received"), x.sock, x.from,
           x.bytes, x.truncated);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, datagram_error& x) {
  return f(caf::meta::type_name("actio.datagram_error"), x.sock, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timer_expired& x) {
  return f(caf::meta::type_name("actio.timer_expired"), x.id);
}

} // namespace actio
