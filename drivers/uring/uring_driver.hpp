#pragma once

/// The io_uring backend (liburing >= 2.3): completion-based.
///
/// - Woken by a pending read of an eventfd on the ring (mio's Waker).
/// - Network: multishot accept; multishot recv from a provided-buffer ring,
///   armed only while the owner has credit (a connection whose data is not
///   consumed must not drain the shared pool and stall the others); one send
///   in flight per socket, short sends resubmitted; shutdown; close after
///   every in-flight operation on the socket was cancelled and reaped.
/// - Files: openat, read/write at offsets (short transfers resubmitted),
///   fsync/fdatasync, statx, close; cancel by operation id.
/// - Timers: in user space (drivers/detail/timer_table.hpp); the ring's
///   wait times out at the earliest deadline.
///
/// Buffer lifecycle (every operation): 1. the request moves its buffer (and
/// path, statx storage) into a heap `op`; 2. the SQE carries the
/// op's address as user_data; 3. the op lives until its last CQE (for
/// multishot ops: the CQE without IORING_CQE_F_MORE), whatever happened to
/// the requester meanwhile; 4. only then is it deleted. Teardown cancels
/// everything and reaps until no op is left.
///
/// The write queues and the accept back-off are the ones the readiness
/// backends use (drivers/detail/). Definitions: uring_driver.cpp (probe,
/// setup, loop, dispatch, registry), uring_streams.cpp, uring_datagrams.cpp,
/// uring_close.cpp, uring_timers.cpp, uring_files.cpp; uring_internal.hpp
/// and uring_op.hpp are what they share.

#include <atomic>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <liburing.h>

#include "actio/drivers/detail/accept_backoff.hpp"
#include "actio/drivers/detail/timer_table.hpp"
#include "actio/drivers/detail/datagram_queue.hpp"
#include "actio/drivers/detail/fifo.hpp"
#include "actio/drivers/detail/slot_table.hpp"
#include "actio/drivers/detail/write_queue.hpp"
#include "actio/drivers/driver.hpp"
#include "actio/drivers/uring/uring_buffers.hpp"

namespace actio {

/// Its own file backend: file operations are SQEs on the same ring as the
/// sockets', reaped by the same loop (drivers/uring/uring_files.cpp).
class uring_driver final : public driver, private file_backend {
public:
  /// Checks that io_uring works here and has every opcode we use. ENOSYS,
  /// EPERM (seccomp, containers) or a missing opcode: an error saying why.
  static caf::error probe();

  static caf::expected<std::unique_ptr<driver>> make();

  ~uring_driver() override;

  std::string_view name() const noexcept override {
    return "uring";
  }

  void wake() noexcept override;
  caf::expected<socket_id> adopt(int fd, caf::strong_actor_ptr owner,
                                 write_limits limits) override;
  void start_accept(socket_id listener) override;
  bool connect(socket_id sock, const sockaddr_storage& addr, socklen_t len,
               op_id id) override;
  void grant(socket_id sock, size_t bytes) override;
  bool send(socket_id sock, op_id id, byte_buffer buf,
            caf::response_promise rp) override;
  bool shutdown_write(socket_id sock, op_id id,
                      caf::response_promise rp) override;
  caf::expected<socket_id> adopt_datagram(int fd, caf::strong_actor_ptr owner,
                                          datagram_limits limits) override;
  bool send_to(socket_id sock, op_id id, byte_buffer buf,
               const sockaddr_storage& to, socklen_t len,
               caf::response_promise rp) override;
  caf::error connect_datagram(socket_id sock, const sockaddr_storage& to,
                              socklen_t len) override;
  void close(socket_id sock, caf::error reason) override;
  std::optional<socket_progress> progress(socket_id sock) override;
  op_id start_timer(clock::duration delay,
                    caf::strong_actor_ptr owner) override;
  bool cancel_timer(op_id id) override;

  file_backend& files() override {
    return *this;
  }

  // -- file_backend (uring_files.cpp) -----------------------------------------

  ACTIO_FILE_BACKEND_OVERRIDES;

  // -- the loop -----------------------------------------------------------------

  bool process() override;
  caf::error poll(std::optional<clock::duration> timeout) override;
  size_t sockets() const noexcept override;
  void close_all() override;

  /// Operations whose CQE has not arrived yet (tests).
  size_t in_flight() const noexcept {
    return live_ops_;
  }

private:
  enum class op_kind : uint8_t {
    wake,
    accept,
    recv,       // multishot into provided buffers
    recv_owned, // bulk mode: one recv into the op's own buffer
    send,
    recvmsg, // datagram: one per credit
    sendmsg, // datagram: one in flight per socket
    shutdown,
    connect,
    close_socket,
    file_open,
    file_read,
    file_write,
    file_sync,
    file_stat,
    file_close,
  };

  struct op;
  struct read_batch_state; // a read_batch's buffers and answer (uring_files.cpp)

  using write_req = detail::write_req; // an op's `w`: send, sendmsg, shutdown

  struct slot {
    int fd = -1;
    caf::strong_actor_ptr owner;
    bool listener = false;
    bool closing = false;
    caf::error close_reason;
    size_t ops = 0; // in-flight ops that use this slot's fd
    // accept
    op* accept_op = nullptr;
    detail::accept_state accept;
    // read side
    size_t credit = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
    op* recv_op = nullptr;
    detail::fifo<byte_buffer> stash; // read beyond credit, delivered on grant
    size_t stash_off = 0;   // bytes of the stash's front already delivered
    size_t stash_bytes = 0; // bytes in the stash not yet delivered
    caf::error read_error;
    uint32_t full_run = 0;    // multishot completions in a row that filled a buffer
    uint32_t bulk_want = 0;   // bytes the next owned recv asks for
    uint32_t small_reads = 0; // owned recvs in a row that brought little
    bool recv_cancel_sent = false;
    bool read_done = false;     // EOF or error seen (maybe not delivered)
    bool read_reported = false; // read_closed delivered
    bool starved = false;       // multishot ended with ENOBUFS
    bool bulk = false;   // recv into owned buffers (uring_bulk_recv.cpp)
    bool probed = false; // the single-shot first recv came back (uring_streams.cpp)
    bool flush_queued = false; // in to_flush_: stash delivered after the batch
    // write side
    detail::write_queue wq; // not yet submitted (send_op has the head)
    op* send_op = nullptr;
    bool connecting = false; // reads and writes wait for the connect
    // datagram sockets: credit counts datagrams; recv_op/send_op are the
    // single recvmsg/sendmsg in flight
    bool datagram = false;
    detail::datagram_queue dq;
  };

  struct file_slot {
    int fd = -1;
    std::string path;
    size_t ops = 0;
    bool closing = false;
    bool close_sent = false; ///< the close is the one op in flight
    std::optional<caf::response_promise> close_rp;
  };

  uring_driver();

  caf::error init();
  io_uring_sqe* sqe();
  op* new_op(op_kind kind);
  void arm_wake();
  void dispatch(io_uring_cqe* cqe);

  // sockets
  slot* find(socket_id id) noexcept;
  socket_id id_of(uint32_t index) const noexcept;
  void arm_accept(uint32_t index);
  void arm_recv(uint32_t index);
  void flush_stash(uint32_t index);
  void submit_send(uint32_t index);
  void submit_shutdown(uint32_t index, detail::shutdown_req r);
  void on_accept(op* o, int res, unsigned flags);
  void on_recv(op* o, int res, unsigned flags);
  void on_recv_owned(op* o, int res);
  void arm_owned_recv(uint32_t index);
  void on_send(op* o, int res);
  void on_gathered_send(op* o, int res);
  void submit_gather(op* o, int fd);
  void on_shutdown(op* o, int res);
  void on_connect(op* o, int res);
  void arm_dgram_recv(uint32_t index);
  void submit_dgram_send(uint32_t index);
  void submit_msg(slot& s, op* o, socklen_t name_len);
  uint32_t reaped(op* o, op* slot::*which);
  void on_dgram_recv(op* o, int res);
  void on_dgram_send(op* o, int res);
  void on_close_socket(op* o, int res);
  void fail(uint32_t index, caf::error err);
  void begin_close(uint32_t index, caf::error reason);
  void maybe_finish_close(uint32_t index);
  void op_done(op* o);

  /// Where the shared queues send completions: to the owner of `s`.
  auto to_owner(slot& s) {
    return [this, &s](auto&& ev) {
      deliver(s.owner, std::forward<decltype(ev)>(ev));
    };
  }

  // files
  caf::error file_error(const char* what, file_id id, int err);
  void submit_file_rw(op* o);
  void on_file(op* o, int res);
  void on_batch_read(op* o, int res, const std::string& path);
  void maybe_close_file(uint32_t index);

  // timers
  std::optional<clock::duration>
  wait_limit(std::optional<clock::duration> timeout) const;
  void fire_timers();
  void start_backoff_timer(socket_id listener, std::chrono::milliseconds delay);

  void flush_received();

  io_uring ring_{};
  bool ring_ok_ = false;
  int evfd_ = -1;
  uint64_t wake_buf_ = 0;
  std::atomic<bool> wake_pending_{false};
  op* live_ = nullptr;  // in flight: an intrusive list (uring_op.hpp)
  op* free_ = nullptr;  // done, kept for reuse (at most max_free_ops)
  size_t live_ops_ = 0;
  size_t free_ops_ = 0;
  detail::slot_table<slot> slots_;
  detail::accept_backoff backoff_;
  std::vector<uint32_t> ready_; // sockets to re-arm (ENOBUFS, back-off)
  std::vector<uint32_t> to_flush_; // sockets that received in this batch
  detail::slot_table<file_slot> files_;
  std::unordered_map<op_id, op*> file_ops_; // cancellable read/write
  detail::timer_table timers_;
  uring_buffers bufs_; // provided buffers of the multishot recvs
  bool stopping_ = false;
};

} // namespace actio
