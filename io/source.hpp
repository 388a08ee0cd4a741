#pragma once

/// Sources and sinks as values: recipes that start a stream, so combinators
/// (`chain`, `copy`) can start them when and where they need to.
///
/// - A `source` starts a `stream<byte_chunk>` to the actor it is given (a
///   sink, a stage composition, or a `chain`) and returns the source actor.
///   It may be called more than once; each call starts a new stream.
/// - A `sink` spawns an actor taking a `stream<byte_chunk>` and returns it;
///   the actor calls `done(bytes, error)` exactly once, with the bytes it
///   took and the stream's error (empty on a regular end).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "actio/drivers/types.hpp"

namespace actio::io {

/// Called once by a sink: bytes taken, and the stream's error.
using done_fn = std::function<void(uint64_t, const caf::error&)>;

/// Starts a stream of byte_chunk to `dest`; returns the source actor.
using source = std::function<caf::actor(caf::actor dest)>;

/// Spawns a sink actor reporting to `done`; returns it.
using sink = std::function<caf::actor(done_fn done)>;

/// `spawn_memory_source` as a recipe (each start streams copies of `chunks`).
/// `sys` must outlive the recipe (as for every maker below).
source memory_source(caf::actor_system& sys, std::vector<byte_buffer> chunks);

/// `spawn_empty_source` as a recipe.
source empty_source(caf::actor_system& sys);

/// `spawn_repeat_source` as a recipe.
source repeat_source(caf::actor_system& sys, byte_buffer pattern,
                     uint64_t total, size_t chunk = 64 * 1024);

/// `spawn_file_source` as a recipe: reads `path` through the file service
/// `files` each time it starts.
source file_source(caf::actor_system& sys, caf::actor files, std::string path,
                   size_t chunk = 128 * 1024);

/// `spawn_sink` as a recipe: discards the bytes, counting them.
sink discard(caf::actor_system& sys);

} // namespace actio::io
