#pragma once

// A streamed body (response::body_source) reading `length` bytes of an
// open file-service file from `offset`, one pull at a time; the file is
// closed when the actor exits (the server sends it an exit when done).

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace actio::http::detail {

caf::actor spawn_file_body(caf::actor_system& sys, caf::actor files,
                           uint64_t file, uint64_t offset, uint64_t length);

} // namespace actio::http::detail
