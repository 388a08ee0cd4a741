#pragma once

/// The `take` stage (Tokio's `AsyncReadExt::take`): passes on the first `n`
/// bytes of a `stream<byte_chunk>`, then ends the stream and stops the
/// source. Compose like the other stages (io/stages.hpp):
/// `spawn_file_source(sys, files, path, sink * spawn_take(sys, 4096))`.

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace actio::io {

/// byte_chunk -> byte_chunk: the first `n` bytes, then the stream ends (the
/// source is stopped).
caf::actor spawn_take(caf::actor_system& sys, uint64_t n);

} // namespace actio::io
