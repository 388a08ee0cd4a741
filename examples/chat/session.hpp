#pragma once

// One chat client on one connection: its behaviour as a connection actor,
// a framed connection (actio/io/framed.hpp) with the chat's codec
// (client_codec.hpp).
//
// Mode, decided by the first byte the client sends: 0x00 is a protobuf
// client (every frame starts with the 4-byte big-endian length, and frames
// are < 16 MiB, so the first byte of a frame is always 0x00); anything else
// is a text-line client. A client that sends nothing for `welcome_delay`
// after connecting is a text client (nc, telnet: the user waits to be told
// what to do), so a protobuf client sends its first frame at once. The mode
// holds for the whole connection. A text client's first line is the
// welcome (text_protocol.hpp).
//
// Text from the client is cleaned (clean_text.hpp) where it comes in.
// Requests are served one at a time and answered in order: the answers to
// one request (errors too) come before those of the next. Backpressure is
// the framed connection's read credit: while a request is served, input
// waits and reading stops once the window is full, so a paste or a client
// over `rate` is slowed down, never disconnected (client.hpp).
//
// A misbehaving client (a line over `max_line`, a frame over `max_frame`, a
// frame that is not a chat Request) gets an error (line or event), its write
// side is shut down and the connection closes when the client closes (or
// `linger` later): other clients only see it leave its room. Requests before
// the bad input are served first (also when they arrived in the same read);
// nothing after it is read. So does a client over `max_clients` (at once)
// and one idle (no byte either way) for `idle_timeout`. A client that does
// not read is disconnected silently when its unsent output exceeds
// `max_queue` bytes.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>

#include "actio/net/connection.hpp"

namespace chat {

struct session_options {
  size_t max_line = 1024;        ///< text line bytes (without newline)
  size_t max_frame = 4096;       ///< protobuf frame payload bytes
  double rate = 20;              ///< requests per second (token bucket), 0: off
  double burst = 40;             ///< bucket size
  size_t max_queue = 1024 * 1024; ///< unsent output bytes before disconnect
  std::chrono::milliseconds linger{2000}; ///< after an error, close by then
  std::chrono::milliseconds idle_timeout{300'000}; ///< 0: none
  size_t max_clients = 10000; ///< clients at once (0: no limit), counted in
  std::shared_ptr<std::atomic<size_t>> clients; ///< shared by all sessions
};

/// A client silent this long after connecting is a text client.
constexpr std::chrono::milliseconds welcome_delay{1000};

/// The connection behaviour of a chat client, speaking to `registry`.
caf::behavior session(actio::net::connection* self, caf::actor registry,
                      session_options opts);

} // namespace chat
