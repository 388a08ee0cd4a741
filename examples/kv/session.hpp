#pragma once
// One client connection of actio-kv (session.cpp).

#include <atomic>
#include <cstddef>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>

#include "actio/net/connection.hpp"

#include "resp_codec.hpp"

namespace kv {

struct session_options {
  caf::actor store;          ///< the store actor (commands.hpp)
  resp_limits limits;        ///< the codec's limits
  size_t window = 64 * 1024; ///< input bytes read ahead of the replies written
  std::atomic<int64_t>* clients = nullptr; ///< counts open sessions
};

/// The connection behaviour: decodes commands, runs them on the store in
/// batches, writes the replies in order.
caf::behavior session(actio::net::connection* self, const session_options& opts);

} // namespace kv
