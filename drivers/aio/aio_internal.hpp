#pragma once

// What the aio engine's .cpp files share besides the class (aio_files.hpp):
// the request and call types, the process-wide counters and the error
// texts. Private to the backend.
//
// The engine comes in parts, along its seams:
// - aio_files.cpp: construction, counters, the file table, the loop's call;
// - aio_submit.cpp: read/write/fsync, batched into lio_listio, collected
//   and delivered;
// - aio_calls.cpp: open, fstat and close on helper threads;
// - aio_shutdown.cpp: shutdown, parking what neither finishes nor cancels.

#include <aio.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/aio/aio_files.hpp"
#include "actio/drivers/detail/engine_job.hpp"
#include "actio/drivers/detail/file_replies.hpp"
#include "actio/drivers/errc.hpp"

namespace actio::detail {

enum class aio_op : uint8_t { read, write, sync };

/// One read/write/fsync from request to delivery. `cb` points into `buf`;
/// both stay put (the request is heap-allocated) until aio_error reports
/// that the AIO implementation is done with them.
struct aio_request {
  aio_request(aio_op kind, caf::response_promise promise)
    : op(kind), rp(std::move(promise)) {
  }

  aio_op op;
  caf::response_promise rp;
  aiocb cb{};
  uint32_t index = 0;    ///< slot counting this request in `in_flight`
  bool counted = false;  ///< `index` valid
  size_t pos = 0;        ///< where it sits in `in_flight_`
  uint64_t serial = 0;   ///< names this submission to an exact notifier
  op_id id = 0;
  uint64_t offset = 0;   ///< where `buf` starts in the file
  size_t len = 0;
  size_t done = 0;       ///< bytes read/written so far
  bool stream = false;   ///< read at the current position
  bool datasync = false;
  bool cancel_asked = false;
  byte_buffer buf;
  int sys_err = 0;
  caf::error err;        ///< why it never ran, or cancelled
};

enum class aio_call_kind : uint8_t { open, stat, close, read_batch };

/// One open/fstat/close on a helper thread (detail/blocking_pool.hpp). `run`
/// writes only the outcome; the engine (driver thread) owns `rp` and reads
/// the outcome only in `complete`, so an abandoned call (still running at
/// shutdown) can be answered while its worker finishes it.
struct aio_call final : engine_job<aio_call, aio_files, aio_call_kind> {
  using engine_job::engine_job;

  void run() noexcept override;

  /// Shutdown answered this open already: nobody learns the descriptors.
  void discard() noexcept override {
    if (kind == aio_call_kind::open)
      for (auto fd : fds)
        ::close(fd);
  }

  // Arguments.
  uint32_t index = no_slot; ///< stat/close: the slot (stat counts in it)
  std::string path;         ///< open
  int flags = 0;
  unsigned mode = 0;
  size_t copies = 1;        ///< open: descriptors wanted (1 + dups)
  int fd = -1;              ///< stat, read_batch: the slot's first descriptor
  std::vector<uint64_t> offsets; ///< read_batch: where (`len` bytes each)
  size_t len = 0;
  caf::error err;           ///< answered without running (driver thread)

  // Outcome; close: `fds` is the input (owned by the call).
  std::vector<int> fds;     ///< open: the descriptor and its dups
  bool seekable = true;     ///< open: lseek works
  uint64_t pos = 0;         ///< open: the current position
  uint64_t size = 0;        ///< stat
  std::vector<byte_buffer> bufs; ///< read_batch
  int sys_err = 0;
};

/// Process-wide, behind `aio_stats()` (aio_files.cpp).
struct aio_atomic_counters {
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> submitted{0};
  std::atomic<uint64_t> largest_batch{0};
  std::atomic<uint64_t> cancel_hits{0};
  std::atomic<uint64_t> parked{0};
};

extern aio_atomic_counters aio_counts;

// -- error texts and replies --------------------------------------------------

inline const char* op_name(const aio_request& r) {
  switch (r.op) {
    case aio_op::read: return "read_at";
    case aio_op::write: return "write_at";
    case aio_op::sync: return r.datasync ? "fdatasync" : "fsync";
  }
  return "file";
}

inline const char* call_name(const aio_call& c) {
  switch (c.kind) {
    case aio_call_kind::open: return "open";
    case aio_call_kind::stat: return "fstat";
    case aio_call_kind::close: return "close";
    case aio_call_kind::read_batch: return "read_batch";
  }
  return "file";
}

} // namespace actio::detail

namespace actio {

// The engine's parts (aio_*.cpp, the only includers) name these unqualified.
using detail::aio_call;
using detail::aio_call_kind;
using detail::aio_counts;
using detail::aio_op;
using detail::aio_request;
using detail::call_name;
using detail::cancelled_error;
using detail::closed_error;
using detail::op_name;
using detail::reply;

} // namespace actio
