#pragma once

/// The byte-endpoint protocol: a connected byte stream as an actor that
/// answers requests (Erlang's gen_tcp in passive mode, Tokio's
/// AsyncRead/AsyncWrite as messages). Spoken by connections in passive mode
/// (`net::passive`), by both ends of `duplex`, by buffered readers and
/// writers; consumed by the endpoint stream source and sink adapters.
///
/// | request                              | response                        |
/// |--------------------------------------|---------------------------------|
/// | `(net::recv_atom, size_t max)`       | `byte_buffer`, 1..max bytes; empty = end of stream |
/// | `(net::write_atom, byte_buffer)`     | `size_t` bytes, once accepted (backpressure: the reply waits) |
/// | `(net::flush_atom)`                  | unit, once earlier writes were handed on |
/// | `(net::shutdown_atom)`               | unit: write side closed after queued writes (peer reads end of stream) |
/// | `(net::close_atom)`                  | unit: closed both ways; pending requests fail with `errc::cancelled` |
///
/// Every request gets exactly one response. Reads and writes are served in
/// arrival order; a read after end of stream answers empty again. Requests
/// to a closed endpoint fail with `errc::closed`; a reset peer fails them
/// with `errc::connection_reset`.

#include "actio/net/atoms.hpp"
