#pragma once

/// Byte streams from and to byte endpoints (io/endpoint.hpp): a passive
/// connection, a duplex end, a buffered reader or writer.
///
/// ```
/// auto conn = net::tcp_connect(rt, host, port, net::passive());
/// io::spawn_endpoint_source(sys, *conn, io::spawn_wc_sink(sys, done));
/// ```

#include <cstddef>
#include <cstdint>
#include <functional>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

namespace actio::io {

/// Streams the bytes `endpoint` answers to `recv` requests (at most `chunk`
/// bytes each) to `dest` as a `stream<byte_chunk>`. Reads only as CAF's
/// credit allows (two reads ahead at most), so a slow sink stops the
/// reading and, for a connection, the peer. End of stream (an empty reply)
/// sends the `last` chunk; an error reply stops the stream with it (the
/// sink's finaliser gets it). The endpoint is not closed.
caf::actor spawn_endpoint_source(caf::actor_system& sys, caf::actor endpoint,
                                 caf::actor dest, size_t chunk = 64 * 1024);

struct endpoint_sink_options {
  /// After the last chunk was written: shut down the endpoint's write side
  /// (the peer reads end of stream).
  bool shutdown_at_end = true;
  /// Most `write` requests (chunks) not yet answered, plus chunks granted to
  /// upstream but not yet arrived: memory stays within about
  /// `2 * max_writes_in_flight` chunks whatever the peer does.
  size_t max_writes_in_flight = 4;
};

/// A `stream<byte_chunk>` sink writing each chunk to `endpoint` with
/// `write` requests. Credit to upstream follows the acknowledged writes, so
/// a peer that does not read stalls the source. At the end (the `last`
/// chunk, or the stream closing) it waits for every write, shuts the write
/// side down (option) and calls `done(bytes written, {})` once; a failed
/// write stops the stream (upstream sees the error) and calls `done` with
/// the error; a stream error calls `done` with that error.
caf::actor spawn_endpoint_sink(
  caf::actor_system& sys, caf::actor endpoint,
  std::function<void(uint64_t, const caf::error&)> done,
  endpoint_sink_options opts = {});

} // namespace actio::io
