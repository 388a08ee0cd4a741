#pragma once

// The provided-buffer ring that multishot recvs take their buffers from.
// Private to the io_uring backend.
//
// Sizing (the reason this is its own piece): every recv completion holds a
// whole buffer until the driver copies it out and hands it back, and with
// COOP_TASKRUN the kernel fills buffers for every ready connection in one
// io_uring_enter before the driver reaps a single completion. With 128
// buffers shared by 5,000 connections the ring ran dry every turn: thousands
// of multishot recvs ended with ENOBUFS, were re-armed, ran dry again, and
// some connections waited for seconds. So the ring holds many small buffers
// (enough for one completion per connection of a large server per turn);
// consecutive completions of one socket are merged before delivery, so bulk
// streams do not become many small messages.

#include <cstddef>
#include <cstdint>

#include <liburing.h>

#include "actio/drivers/driver.hpp"

namespace actio {

class uring_buffers {
public:
  /// Buffers in the ring (a power of two, at most 32,768).
  static constexpr unsigned count = 8192;
  /// Bytes per buffer. All of count * size is resident (16 MiB here,
  /// touched at init, i.e. at the first stream recv). A bulk stream needs a completion per 2 KiB, merged
  /// per batch before delivery.
  static constexpr size_t size = 2048;

  uring_buffers() = default;
  uring_buffers(const uring_buffers&) = delete;
  uring_buffers& operator=(const uring_buffers&) = delete;
  ~uring_buffers();

  /// Maps the ring and the buffers and registers them as group `group`;
  /// nothing if that was done. The driver calls it when it arms its first
  /// stream recv, not at start: a process without TCP or Unix stream
  /// sockets (actio-copy, actio-wc on files) never pays the 16 MiB and
  /// the page faults of touching it.
  caf::error init(io_uring& ring, uint16_t group);

  /// Whether `init` succeeded.
  bool ready() const noexcept {
    return registered_;
  }

  /// Unregisters the group (before the ring is torn down).
  void unregister(io_uring& ring) noexcept;

  /// The buffer the kernel filled, by the id from the CQE's flags.
  uint8_t* data(unsigned bid) noexcept {
    return pool_ + static_cast<size_t>(bid) * size;
  }

  /// Gives buffer `bid` back to the kernel.
  void recycle(unsigned bid) noexcept;

private:
  io_uring_buf_ring* br_ = nullptr;
  size_t br_bytes_ = 0;
  uint8_t* pool_ = nullptr; // mmap'ed
  uint16_t group_ = 0;
  bool registered_ = false;
};

} // namespace actio
