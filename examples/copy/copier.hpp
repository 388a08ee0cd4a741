#pragma once

// The actor behind actio-copy: copies SRC to the resolved DST through the
// file service, as messages, with a window of pipelined reads and writes.

#include <cstddef>
#include <cstdint>
#include <future>
#include <string>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "copy_progress.hpp"
#include "copy_target.hpp"

/// One run of actio-copy.
struct copy_job {
  std::string src;
  copy_target target; ///< from `resolve_copy_target`
  uint64_t chunk;     ///< bytes per read and write
  size_t depth;       ///< chunks between their read and their write's ack
  bool sync;          ///< fsync a regular DST before closing it
  /// Regular SRC and DST: copy_range requests (the kernel copies, see
  /// io/file_service.hpp) instead of reads and writes through this process.
  bool kernel_copy;
  progress* bar;      ///< null: no progress bar
};

/// The outcome: bytes copied, or the error.
using copy_result = caf::expected<uint64_t>;

/// Opens SRC, then DST (created with `target.mode`, or truncated), and
/// copies until SRC's end, which a read finds (the size `stat` reports is
/// only a hint: /proc files say 0, files may grow). Then, with `sync`,
/// fsync; a size check of a regular DST; close. Sets `done` exactly once and
/// quits: the bytes copied, or the first error. Once DST was opened, an
/// error is reported after the reads and writes still out have answered,
/// its text ending with what was left there: "; N bytes written, partial
/// file left at DST" (N: DST's size then), or "; N bytes written" for a
/// device.
caf::behavior copier(caf::event_based_actor* self, caf::actor files,
                     copy_job job, std::promise<copy_result>* done);
