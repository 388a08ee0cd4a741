#pragma once

/// Stream sources: each opens a `stream<byte_chunk>` to `dest` (a sink or a
/// composition `sink * stage ...`) and produces only as CAF's credit allows.
/// The last element has `last = true`.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actio/drivers/types.hpp"
#include "actio/io/stream.hpp"

namespace actio::io {

/// The given chunks, in order (tests, in-process plumbing).
caf::actor spawn_memory_source(caf::actor_system& sys,
                               std::vector<byte_buffer> chunks,
                               caf::actor dest);

/// Nothing: a single empty last chunk.
caf::actor spawn_empty_source(caf::actor_system& sys, caf::actor dest);

/// `pattern` repeated until `total` bytes, in chunks of `chunk` bytes,
/// generated on demand (never more than credit allows).
caf::actor spawn_repeat_source(caf::actor_system& sys, byte_buffer pattern,
                               uint64_t total, caf::actor dest,
                               size_t chunk = 64 * 1024);

/// A file's bytes, read through the file service `files` (so through the
/// driver), `chunk` bytes per read, up to 16 reads ahead of the credit. Errors
/// (missing file, ...) stop the stream: the sink's finaliser gets them.
/// `path` "-" reads standard input (sequentially, also a pipe or terminal).
caf::actor spawn_file_source(caf::actor_system& sys, caf::actor files,
                             std::string path, caf::actor dest,
                             size_t chunk = 128 * 1024);

} // namespace actio::io
