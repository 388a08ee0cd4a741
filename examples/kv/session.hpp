#pragma once
// One client connection of actio-kv (session.cpp).

#include <atomic>
#include <cstddef>

#include <caf/actor.hpp>

#include "actio/io/framed_core.hpp"
#include "actio/net/connection.hpp"

#include "command_metrics.hpp"
#include "resp_codec.hpp"

namespace kv {

struct session_options {
  caf::actor store;   ///< the store actor (commands.hpp)
  resp_limits limits; ///< the codec's limits
  /// The framed connection's limits (io/framed_core.hpp); `session` sets
  /// `max_bytes_in_flight` (replies waiting for the kernel) to 1 MiB and
  /// `max_frame_size` to fit `limits`.
  actio::io::framed_options framing;
  std::atomic<int64_t>* clients = nullptr; ///< counts open sessions
  /// Counts the commands run by name (a relaxed add each); null: not
  /// counted.
  const command_metrics* commands = nullptr;
};

/// The connection factory: a framed connection (io/framed.hpp) with the
/// RESP codec (`resp_frames`) that runs the commands on the store in
/// batches and sends the replies in order.
actio::net::connection_factory session(session_options opts);

} // namespace kv
