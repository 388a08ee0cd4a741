#pragma once

// A chat room: an actor that fans each event out to its members.

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace chat {

/// Spawns room `name` (see atoms.hpp for its protocol).
caf::actor spawn_room(caf::actor_system& sys, std::string name);

} // namespace chat
