#pragma once

/// Stream stages (each an actor taking `stream<byte_chunk>`), with Tokio's
/// io::util semantics. Compose with sources and sinks:
/// `spawn_file_source(sys, files, path, sink * spawn_lines(sys))`.
///
/// On an error (lines, split, frames) the source is stopped at once; the
/// items produced before the error (also from the same chunk) reach the
/// sink first, then its finaliser gets the error. Each stage holds at most
/// the sink's credit plus 4 elements, whatever the speed of the source
/// (see bounded_stage.hpp). `take` has its own file (io/take.hpp).

#include <cstddef>
#include <cstdint>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace actio::io {

/// byte_chunk -> line_batch: see `lines_codec` (strips LF / CR LF, keeps
/// a last line without newline; longer than `max_length`: error).
caf::actor spawn_lines(caf::actor_system& sys, size_t max_length = 64 * 1024);

/// byte_chunk -> buffer_batch: segments between `delimiter` bytes.
caf::actor spawn_split(caf::actor_system& sys, uint8_t delimiter,
                       size_t max_length = 64 * 1024);

/// byte_chunk -> buffer_batch: length-delimited frame payloads (u32 BE
/// length prefix); oversize or truncated frames are errors naming the offset.
caf::actor spawn_frames(caf::actor_system& sys,
                        size_t max_frame = 8 * 1024 * 1024);

} // namespace actio::io
