#pragma once

/// Small value types shared by drivers, connection actors and users.

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

namespace actio {

/// Owned bytes. A write moves its buffer into the driver; reads arrive in
/// freshly allocated buffers the receiver owns.
using byte_buffer = std::vector<uint8_t>;

/// Names a socket registered with one driver: slot index (low 32 bits) and
/// a generation (high 32 bits), so a stale id never reaches a reused slot.
/// mio calls this a Token.
using socket_id = uint64_t;

/// Names one request (a write, a shutdown, a timer) for its completion.
using op_id = uint64_t;

/// Names an open file of one driver (slot + generation, like `socket_id`),
/// so a handle used after close is detected, never aliased.
using file_id = uint64_t;

/// `read_at` offset meaning "the current position": sequential reads of
/// pipes and terminals (io_uring's offset -1).
constexpr uint64_t stream_offset = ~uint64_t{0};

/// A file descriptor in flight between actors. If the message carrying it is
/// dropped (say, its receiver died), the descriptor is closed, not leaked.
class owned_fd {
public:
  owned_fd() = default;
  explicit owned_fd(int fd);

  /// The descriptor, still owned; -1 when empty or released.
  int get() const noexcept;

  /// Gives up ownership; the caller must close the result.
  int release() noexcept;

private:
  struct holder {
    int fd;
    ~holder();
  };
  std::shared_ptr<holder> ptr_;
};

} // namespace actio

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actio::owned_fd)
