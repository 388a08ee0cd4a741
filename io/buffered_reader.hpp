#pragma once

/// A buffered reader (Tokio's `BufReader`): a byte endpoint
/// (io/endpoint.hpp) in front of another one, `inner`, that reads it in
/// fixed-capacity refills.
///
/// - `(net::recv_atom, size_t max)` is served from the buffer: 1..max
///   buffered bytes. When the buffer is empty, one `recv(capacity)` to
///   `inner` refills it; a recv with `max >= capacity` and an empty buffer
///   bypasses the buffer (one `recv(max)` to `inner`, its reply passed on).
/// - `(read_until_atom, uint8_t delim, size_t max_len)` -> `byte_buffer`:
///   the bytes up to and including the next `delim`; at end of stream the
///   last bytes without it; empty = end of stream (Tokio's `read_until`).
///   A piece (delimiter included) longer than `max_len` fails with
///   `errc::too_long` as soon as that is certain; the rest of that piece, up
///   to and including its delimiter, is then skipped, so the next
///   read_until returns the next piece.
/// - Reads are served in arrival order; at most one recv to `inner` is in
///   flight. Memory: `capacity` bytes of buffer plus `max_len` per
///   read_until being assembled.
/// - An error from `inner` fails the read that needed the refill (bytes a
///   read_until had gathered are dropped); later reads try `inner` again.
/// - `write`, `flush` and `shutdown` pass through to `inner`.
/// - `close` fails waiting reads with `errc::cancelled`, drops the buffer,
///   closes `inner` and replies when `inner` did; later requests fail with
///   `errc::closed`. Exiting fails waiting reads with `errc::cancelled`.
/// - `recv` with max 0 and read_until with max_len 0 fail with
///   `errc::invalid_argument`.

#include <cstddef>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

namespace actio::io {

/// `(read_until_atom, uint8_t delim, size_t max_len) -> byte_buffer`.
using read_until_atom = caf::atom_constant<caf::atom("io_until")>;

/// Spawns a buffered reader in front of `inner` with a `capacity`-byte
/// buffer (0 is taken as 1). The reader holds `inner` for its lifetime.
caf::actor spawn_buffered_reader(caf::actor_system& sys, caf::actor inner,
                                 size_t capacity = 8 * 1024);

} // namespace actio::io
