#pragma once

/// Stream sinks. Each calls its `done` callback exactly once, from the
/// sink's thread, with what it gathered and the stream's error (empty on a
/// regular end).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "actio/drivers/types.hpp"
#include "actio/io/word_count.hpp"

namespace actio::io {

/// Discards bytes, counting them (Tokio's `sink()`).
caf::actor spawn_sink(caf::actor_system& sys,
                      std::function<void(uint64_t, const caf::error&)> done);

/// Counts lines, words and bytes (see `word_count`). With `count_words`
/// false, words stay 0 and lines are counted with the vectorised
/// `count_newlines` (the `wc -l` / `wc -c` fast path, several times faster).
caf::actor spawn_wc_sink(caf::actor_system& sys,
                         std::function<void(const word_count&, const caf::error&)> done,
                         bool count_words = true);

/// Collects all bytes (tests; unbounded by design).
caf::actor spawn_collect_bytes(caf::actor_system& sys,
                               std::function<void(byte_buffer, const caf::error&)> done);

/// Collects all lines of a `line_batch` stream (tests).
caf::actor spawn_collect_lines(
  caf::actor_system& sys,
  std::function<void(std::vector<std::string>, const caf::error&)> done);

/// Collects all items of a `buffer_batch` stream (tests).
caf::actor spawn_collect_buffers(
  caf::actor_system& sys,
  std::function<void(std::vector<byte_buffer>, const caf::error&)> done);

} // namespace actio::io
