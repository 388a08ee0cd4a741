#pragma once

// The chat's registry: unique nicknames and the rooms by name. With peer
// nodes (federation.hpp) it also knows the nicks taken there (a nick known
// to be taken on a peer is refused here), tells each peer this node's
// nicks, and routes the peers' room messages to the rooms (making a room
// in which a peer has members, within --max-rooms, so the room list is the
// same everywhere). A room with no member on any node is freed.

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "chat_metrics.hpp"
#include "node_protocol.hpp"

namespace chat {

/// Spawns the registry (see atoms.hpp); at most `max_rooms` rooms at once
/// (rooms made for peers count too; empty rooms are freed). The handle is
/// the front of a supervisor (actio/actors/supervisor.hpp): a crashed
/// registry is restarted behind it, an exit message to it stops both.
/// With `metrics` (which must outlive it) the rooms are counted
/// (chat_metrics.hpp).
caf::actor spawn_registry(caf::actor_system& sys, size_t max_rooms,
                          peer_limits limits = {},
                          const chat_metrics* metrics = nullptr);

} // namespace chat
