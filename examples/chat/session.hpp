#pragma once

// One chat client on one connection: its behaviour as a connection actor.
//
// Mode, decided by the first byte the client sends: 0x00 is a protobuf
// client (every frame starts with the 4-byte big-endian length, and frames
// are < 16 MiB, so the first byte of a frame is always 0x00); anything else
// is a text-line client. The mode holds for the whole connection.
//
// A misbehaving client (a line over `max_line`, a frame over `max_frame`, a
// frame that is not a chat Request, more requests than the rate limit
// allows) gets an error (line or event), its write side is shut down and the
// connection closes when the client closes (or `linger` later): other clients
// only see it leave its room. Requests before the bad input are served first
// (also when they arrived in the same read); nothing after it is read. A client that does not read is disconnected
// silently when its unsent output exceeds `max_queue` bytes.

#include <chrono>
#include <cstddef>

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
};

/// The connection behaviour of a chat client, speaking to `registry`.
caf::behavior session(actio::net::connection* self, caf::actor registry,
                      session_options opts);

} // namespace chat
