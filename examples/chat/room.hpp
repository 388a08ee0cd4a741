#pragma once

// A chat room: an actor that fans each event out to its members on this
// node and, once, to each peer node's federation actor, whose room of the
// same name tells its own members (full mesh, no relaying: each event
// crosses one node link, and an actor's messages to another actor keep
// their order, so every member hears each message once, in sender order).

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "chat_metrics.hpp"
#include "node_protocol.hpp"

namespace chat {

/// Spawns room `name` (see atoms.hpp for its protocol) for `registry`,
/// known to `peers` from the start: it sends each its members (a RoomSync).
/// A peer's members in it are capped at `max_peer_members`. When it has no
/// member on any node it tells the registry, which stops it. With
/// `metrics`, it counts itself, its members here and their messages there.
caf::actor spawn_room(caf::actor_system& sys, caf::actor registry,
                      std::string name, peer_map peers = {},
                      size_t max_peer_members = 65536,
                      const chat_metrics* metrics = nullptr);

} // namespace chat
