#pragma once

/// What every backend provides (mio's `sys/mod.rs`, as one screen).
///
/// A driver owns one kernel I/O object (an epoll set, an io_uring ring, ...)
/// and runs on one dedicated thread (see `actors/driver_unit.hpp`). Requests
/// come from actors pinned to that thread; completions go back as messages
/// (`drivers/completions.hpp`) to the socket's owner, or to a response promise
/// when the request came from another actor by message.
///
/// Rules every backend keeps:
/// - every request gets exactly one completion, also on close and shutdown;
/// - no completion is delivered from inside a request call (no re-entrancy):
///   requests mark work, `process()`/`poll()` do it;
/// - a buffer the kernel may still touch stays owned by the driver;
/// - reads happen only under credit (`grant`), so a slow consumer stops
///   its socket, never the others.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include <sys/socket.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/types.hpp"

namespace actio {

/// Per-socket write-queue limits (bytes).
struct write_limits {
  size_t high_watermark = 256 * 1024; ///< `write_paused` above this
  size_t low_watermark = 64 * 1024;   ///< `write_resumed` at or below this
  size_t max_queued = 8 * 1024 * 1024; ///< writes beyond fail: write_queue_full
};

/// Progress of one socket, for timeout checks (net/timeouts.hpp): counters
/// only, so the I/O path pays an addition, not a clock read or a timer.
struct socket_progress {
  uint64_t bytes_read = 0;    ///< taken from the kernel so far
  uint64_t bytes_written = 0; ///< handed to the kernel so far
  size_t credit = 0;          ///< read credit left
  size_t queued = 0;          ///< write bytes not yet with the kernel
  bool reading = false;       ///< read side open (no EOF or error yet)
};

/// Per-socket limits of a datagram socket.
struct datagram_limits {
  size_t max_size = 64 * 1024; ///< receive size: longer datagrams arrive truncated
  size_t max_queued = 1024;    ///< datagrams waiting to be sent; beyond: write_queue_full
};

class driver {
public:
  using clock = std::chrono::steady_clock;

  virtual ~driver();

  /// The backend's name: "epoll", "uring", ...
  virtual std::string_view name() const noexcept = 0;

  // -- any thread --------------------------------------------------------------

  /// Makes a blocked `poll` return soon. Cheap when a wake is already pending.
  virtual void wake() noexcept = 0;

  // -- driver thread only ------------------------------------------------------

  /// Registers `fd` (non-blocking stream socket or listener) for `owner`, who
  /// receives its completion messages. On failure `fd` is closed.
  virtual caf::expected<socket_id>
  adopt(int fd, caf::strong_actor_ptr owner, write_limits limits = {}) = 0;

  /// Starts accepting on a listening socket: one `accepted` per connection
  /// until `close`. Under EMFILE and friends: `accept_paused`, back-off, retry.
  virtual void start_accept(socket_id listener) = 0;

  /// Connects the registered (non-blocking, unconnected) socket `sock` to
  /// `addr`; completes with `connected{sock, id, reason}`. Writes and reads
  /// requested meanwhile wait for the connection. False if `sock` is unknown.
  virtual bool connect(socket_id sock, const sockaddr_storage& addr,
                       socklen_t len, op_id id) = 0;

  /// Allows reading up to `bytes` more; reading stops when credit is zero.
  virtual void grant(socket_id sock, size_t bytes) = 0;

  /// Queues `buf` for writing; completes with `write_completed{id}`, or via
  /// `rp` when it is pending. Returns false, taking nothing, when `sock` is
  /// unknown (closed): the caller completes the request itself.
  virtual bool send(socket_id sock, op_id id, byte_buffer buf,
                    caf::response_promise rp = {}) = 0;

  /// Shuts down the write side once queued writes are done; reading goes on.
  /// Returns false, like `send`, when `sock` is unknown.
  virtual bool shutdown_write(socket_id sock, op_id id,
                              caf::response_promise rp = {}) = 0;

  // -- datagram sockets (UDP, AF_UNIX SOCK_DGRAM) ------------------------------
  //
  // `grant` counts datagrams on these sockets: one credit, one
  // `datagram_received`. Without credit nothing is read and the kernel drops
  // what does not fit its receive buffer: the process never queues. `close`
  // works as for streams. Errors the kernel reports asynchronously (ICMP:
  // connection refused, unreachable) fail the next send, or arrive as
  // `datagram_error` when a receive sees them; the socket stays open.

  /// Registers a non-blocking datagram socket for `owner`. On failure `fd`
  /// is closed.
  virtual caf::expected<socket_id>
  adopt_datagram(int fd, caf::strong_actor_ptr owner, datagram_limits limits) = 0;

  /// Queues one datagram to `to` (`len == 0`: to the connected peer);
  /// completes with `write_completed{id, bytes}`, or via `rp` when pending.
  /// Returns false, taking nothing, when `sock` is unknown.
  virtual bool send_to(socket_id sock, op_id id, byte_buffer buf,
                       const sockaddr_storage& to, socklen_t len,
                       caf::response_promise rp = {}) = 0;

  /// Connects a datagram socket: `to` becomes the default destination and
  /// the only accepted source. Never blocks; the result comes back at once.
  virtual caf::error connect_datagram(socket_id sock, const sockaddr_storage& to,
                                      socklen_t len) = 0;

  /// Fails pending requests with `reason`, or `errc::cancelled` when it is
  /// empty, deregisters and closes the socket, then reports
  /// `connection_closed{reason}` to the owner.
  virtual void close(socket_id sock, caf::error reason = {}) = 0;

  /// Counters of a registered socket; nullopt if `sock` is unknown.
  virtual std::optional<socket_progress> progress(socket_id sock) = 0;

  /// One-shot timer: `timer_expired{id}` to `owner` after `delay`, where
  /// `id` is the returned, driver-unique value.
  virtual op_id start_timer(clock::duration delay,
                            caf::strong_actor_ptr owner) = 0;

  /// Stops a timer; returns false if it already fired or never existed.
  virtual bool cancel_timer(op_id id) = 0;

  /// Does deferred work (requests marked since the last call). Returns true
  /// if work remains, i.e. the next `poll` must not block.
  virtual bool process() = 0;

  /// Waits for I/O, a timer, or `wake()`, at most `timeout` (nullopt: no
  /// limit), then performs ready operations and delivers completions.
  virtual caf::error poll(std::optional<clock::duration> timeout) = 0;

  // -- files (driver thread only) -------------------------------------------
  //
  // Each completes exactly once through `rp`: the value, or an `actio`
  // error naming the path and the OS reason. Buffers stay with the driver
  // until the kernel is done with them, also when the requester is gone.

  /// openat(path, flags | O_CLOEXEC, mode) -> file_id (uint64_t).
  virtual void open_file(std::string path, int flags, unsigned mode,
                         caf::response_promise rp) = 0;

  /// Reads `len` bytes at `offset` -> byte_buffer (shorter only at EOF).
  /// With `offset == stream_offset`: one read at the current position, for
  /// pipes and terminals; shorter whenever less is there, empty at EOF.
  virtual void read_at(file_id file, uint64_t offset, size_t len, op_id id,
                       caf::response_promise rp) = 0;

  /// Writes all of `buf` at `offset` -> uint64_t bytes written.
  virtual void write_at(file_id file, uint64_t offset, byte_buffer buf,
                        op_id id, caf::response_promise rp) = 0;

  /// fsync (or fdatasync) -> unit.
  virtual void sync_file(file_id file, bool datasync,
                         caf::response_promise rp) = 0;

  /// Size of the file -> uint64_t.
  virtual void stat_file(file_id file, caf::response_promise rp) = 0;

  /// Closes after in-flight operations finished -> unit. Later requests on
  /// `file` fail with `errc::closed`.
  virtual void close_file(file_id file, caf::response_promise rp) = 0;

  /// Cancels the in-flight read_at/write_at `id`: it completes with
  /// `errc::cancelled` (or its result, if the kernel was faster). Returns
  /// false if no such operation is in flight.
  virtual bool cancel_file_op(op_id id) = 0;

  /// Number of registered sockets (for tests and shutdown).
  virtual size_t sockets() const noexcept = 0;

  /// Closes every socket (completing their requests) and cancels timers.
  virtual void close_all() = 0;

  /// Sets the execution unit completions are enqueued with (the driver
  /// thread's unit), so messages to pinned owners skip the wake-up.
  void set_unit(caf::execution_unit* eu) noexcept {
    eu_ = eu;
  }

protected:
  /// Sends `msg` to `owner` as an anonymous message (no-op without owner).
  void deliver(const caf::strong_actor_ptr& owner, caf::message msg);

  caf::execution_unit* eu_ = nullptr;
};

/// Creates a backend by name ("epoll", ...; "auto" picks the best available).
/// Asking for a backend this build or machine lacks is an
/// `errc::backend_unavailable` error with the reason.
caf::expected<std::unique_ptr<driver>>
make_driver(std::string_view backend, caf::actor_system& sys);

/// The backends this build offers and this machine supports, best first.
std::vector<std::string> available_backends();

/// Prepares the process for backends that need it before any thread runs:
/// blocks the aio backend's completion signal in the calling thread, so the
/// threads it starts afterwards inherit that (see drivers/aio/aio_signal.hpp).
/// `actio::config`'s constructor calls it. No-op without such backends.
void prepare_backend_signals() noexcept;

/// One line on every backend: built, available, or why not ("uring:
/// available; epoll: available"), for logging `auto`'s choice.
std::string auto_choice_reason();

} // namespace actio
