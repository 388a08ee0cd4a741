#pragma once

/// A buffered writer (Tokio's `BufWriter`): a byte endpoint
/// (io/endpoint.hpp) in front of another one, `inner`, that coalesces small
/// writes.
///
/// - A write smaller than `capacity` is copied into the buffer and
///   acknowledged at once while the buffer has room. When it does not fit,
///   the buffer goes to `inner` as one write first. A full buffer goes to
///   `inner` at once.
/// - A write of `capacity` bytes or more goes straight to `inner` (after the
///   buffer) and is acknowledged when `inner` acknowledged it.
/// - At most one request to `inner` is in flight, plus the buffer: further
///   writes wait (backpressure), in arrival order.
/// - `flush` sends the buffer, then flushes `inner`; it replies once `inner`
///   acknowledged everything before it. `shutdown` is flush, then `inner`'s
///   shutdown; later writes fail with `errc::closed`.
/// - `recv` passes through to `inner`.
/// - An error from `inner` fails the requests waiting on it (a write, flush
///   or shutdown) and every later write, flush and shutdown (the buffered
///   bytes may be lost); recv still passes through.
/// - `close` fails waiting requests with `errc::cancelled`, drops the
///   buffer, closes `inner` and replies when `inner` did; later requests
///   fail with `errc::closed`. Dropping the writer's last handle loses the
///   buffer too (like dropping a BufWriter): flush or shut down first.
///   Exiting (exit message, runtime shutdown) fails waiting requests with
///   `errc::cancelled`.

#include <cstddef>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace actio::io {

/// Spawns a buffered writer in front of `inner` with a `capacity`-byte
/// buffer (0 is taken as 1). The writer holds `inner` for its lifetime.
caf::actor spawn_buffered_writer(caf::actor_system& sys, caf::actor inner,
                                 size_t capacity = 8 * 1024);

} // namespace actio::io
