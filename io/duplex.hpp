#pragma once

/// `duplex(capacity)`: an in-memory connected pair of byte endpoints
/// (Tokio's `io::duplex`), for tests and in-process plumbing. Both ends
/// speak the byte-endpoint protocol (io/endpoint.hpp); what one end writes,
/// the other reads.
///
/// - Each direction buffers at most `capacity` bytes. A write replies once
///   all its bytes went into that buffer; a write larger than the free space
///   is taken in pieces as the reader drains, its reply waits meanwhile
///   (that is the backpressure). Memory per direction: `capacity` bytes plus
///   the bytes of write requests still waiting in messages.
/// - `recv(max)` replies with 1..max buffered bytes, or waits for some.
/// - `flush` replies once the writes before it are in the buffer.
/// - `shutdown` closes the write side after the writes before it: the other
///   end reads the buffered bytes, then end of stream (empty buffers). Later
///   writes fail with `errc::closed`; flush and shutdown reply unit.
/// - `close` (or the death of an end, also when its last handle is dropped):
///   that end's pending requests fail with `errc::cancelled`, its later
///   requests with `errc::closed`. The other end's pending and later recvs
///   return what is buffered, then end of stream; its pending and later
///   writes, flushes and shutdowns fail with `errc::connection_reset`
///   (Tokio: BrokenPipe).
/// - An end that exits (exit message, runtime shutdown) fails its pending
///   requests with `errc::cancelled`.
/// - `recv` with max 0 fails with `errc::invalid_argument`.

#include <cstddef>
#include <utility>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace actio::io {

/// Spawns a connected pair of endpoints with `capacity` bytes of buffer per
/// direction (0 is taken as 1). Dropping every handle to an end closes it.
std::pair<caf::actor, caf::actor> duplex(caf::actor_system& sys,
                                         size_t capacity);

} // namespace actio::io
