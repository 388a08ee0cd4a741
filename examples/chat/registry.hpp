#pragma once

// The chat's registry: unique nicknames and the rooms by name. With peer
// nodes (federation.hpp) it also knows the nicks taken there (a nick known
// to be taken on a peer is refused here), tells each peer this node's
// nicks, and routes the peers' room messages to the rooms (making a room
// a peer has, within --max-rooms, so the room list is the same everywhere).

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "node_protocol.hpp"

namespace chat {

/// Spawns the registry (see atoms.hpp); at most `max_rooms` rooms (rooms
/// stay once made; rooms made for peers count too).
caf::actor spawn_registry(caf::actor_system& sys, size_t max_rooms,
                          peer_limits limits = {});

} // namespace chat
