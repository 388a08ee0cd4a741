#pragma once

/// A TCP proxy: copy_bidirectional between two TCP connections (Tokio's
/// `copy_bidirectional`): every accepted connection is
/// paired with a new connection to `target`, and bytes flow both ways.
///
/// - Backpressure end to end: a side reads only as much as its peer has
///   written on (credit returns with each acknowledged write), so a slow
///   reader on one side slows the sender on the other, memory stays bounded.
/// - Half-close is propagated each way: EOF from one side becomes a
///   shutdown of the write side towards the other, after the bytes before
///   it; reading goes on in the other direction.
/// - When both directions are done (or either side fails), both sockets are
///   closed: nothing is left in CLOSE_WAIT.
/// - `done` gets the byte counts (client->target, target->client) and the
///   error, if any, once per pair.

#include <cstdint>
#include <functional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/tcp_listener.hpp"

namespace actio::net {

struct copy_counts {
  uint64_t client_to_target = 0;
  uint64_t target_to_client = 0;
};

using proxy_done = std::function<void(const copy_counts&, const caf::error&)>;

/// Listens on `listen` and proxies each connection to target_host:port.
caf::expected<listener> tcp_proxy(runtime& rt, const listen_options& listen,
                                  std::string target_host, uint16_t target_port,
                                  proxy_done done = {});

} // namespace actio::net
