#pragma once

// The chat federation actor: this node's face to the other chat nodes,
// published on the node port through CAF's middleman (proto/node.hpp).
//
// Peers: the nodes given with --peer are watched by node links
// (proto/node_link.hpp: reconnect forever). When a link comes up, this
// actor says hello to the peer's federation actor; a node that says hello
// is a peer too. So each pair of nodes needs a link in one direction only.
// Each peer's federation actor is monitored (heartbeats on, see
// node_config): when its node goes away, the registry and the rooms hear
// peer_down and announce its members as left.
//
// What a peer sends (proto/chat_node.proto) is taken only from nodes that
// are peers and handed to the registry as (remote_atom, node, msg); a
// hello is answered by nothing but taking the node as a peer. Anything
// else a peer sends (other types, exit or down messages about actors here)
// is dropped. At most --max-peers peers at once.
//
//   (caf::connect_atom, std::string own_address)   start the links
//                                                  (after publishing)

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actio/actors/metrics.hpp"
#include "actio/proto/node.hpp"
#include "node_protocol.hpp"

namespace chat {

struct federation_options {
  actio::node_options node;                            ///< TLS, timeouts
  std::vector<std::pair<std::string, uint16_t>> peers; ///< --peer
  peer_limits limits;
  /// The node links' series (node_link.hpp) go here; null: not counted.
  actio::metrics::registry* metrics = nullptr;
};

/// Spawns the federation actor of this node, handing peers to `registry`.
caf::actor spawn_federation(caf::actor_system& sys, caf::actor registry,
                            federation_options opts);

} // namespace chat
