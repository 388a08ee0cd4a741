#pragma once

// The chat's registry: unique nicknames and the rooms by name.

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace chat {

/// Spawns the registry (see atoms.hpp); at most `max_rooms` rooms (rooms
/// stay once made).
caf::actor spawn_registry(caf::actor_system& sys, size_t max_rooms);

} // namespace chat
