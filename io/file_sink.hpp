#pragma once

/// A stream sink writing a file through the file service (so through the
/// driver's file operations, whatever the backend).
///
/// Chunks are written in stream order at increasing offsets, at most
/// `max_in_flight` writes at a time. The sink grants the stream credit
/// only for chunks it can hold (`max_buffered` chunks queued or in flight),
/// so a slow disk slows the source: memory stays bounded by
/// `max_buffered` chunks. The file is closed at the end, also on errors,
/// before `done` is called, exactly once, with the bytes written and the
/// error:
/// - the file cannot be opened: the open error (`errc::not_found`,
///   `permission_denied`, `is_directory`, ...); the stream is stopped;
/// - a write fails (`errc::no_space`, `file_too_large`, ...): that error;
///   the stream is stopped, so the source stops;
/// - the stream fails upstream: its error (after the writes in flight
///   completed).

#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actio/io/source.hpp"

namespace actio::io {

struct file_sink_options {
  /// open(2) flags.
  int flags = O_WRONLY | O_CREAT | O_TRUNC;
  /// Permission bits for a created file (before the umask).
  uint32_t mode = 0644;
  /// fsync(2) before closing (a failed fsync is the sink's error).
  bool fsync = false;
  /// Writes in flight at a time.
  size_t max_in_flight = 4;
  /// Chunks held at most (queued + in flight); at least `max_in_flight`.
  size_t max_buffered = 8;
};

/// Spawns a sink writing the stream to `path` via the file service `files`.
caf::actor spawn_file_sink(caf::actor_system& sys, caf::actor files,
                           std::string path, done_fn done,
                           file_sink_options options = {});

/// `spawn_file_sink` as a recipe. `sys` must outlive it.
sink file_sink(caf::actor_system& sys, caf::actor files, std::string path,
               file_sink_options options = {});

} // namespace actio::io
