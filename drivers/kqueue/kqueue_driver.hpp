#pragma once

/// The kqueue backend (BSD/macOS; on Linux through libkqueue): readiness-
/// based like epoll. EVFILT_READ is registered once with EV_CLEAR (edge-
/// triggered); EVFILT_WRITE, also EV_CLEAR, only while a write or a connect
/// waits; its `data` is never used (libkqueue reports bytes queued there,
/// not space free). One EVFILT_TIMER, re-armed to the earliest deadline of a
/// timer table, serves every timer; EVFILT_USER (NOTE_TRIGGER) is the waker.
/// Every filter is EV_DELETEd before its descriptor is closed (libkqueue
/// cannot notice a close). Files go to the worker pool, as with epoll.

#include <atomic>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "actio/drivers/driver.hpp"
#include "actio/drivers/file_pool.hpp"
#include "actio/drivers/slot_table.hpp"

namespace actio {

class kqueue_driver final : public driver {
public:
  /// Creates the kqueue with its EVFILT_USER waker and EVFILT_TIMER.
  static caf::expected<std::unique_ptr<driver>> make();

  ~kqueue_driver() override;

  std::string_view name() const noexcept override {
    return "kqueue";
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
  void open_file(std::string path, int flags, unsigned mode,
                 caf::response_promise rp) override;
  void read_at(file_id file, uint64_t offset, size_t len, op_id id,
               caf::response_promise rp) override;
  void write_at(file_id file, uint64_t offset, byte_buffer buf, op_id id,
                caf::response_promise rp) override;
  void sync_file(file_id file, bool datasync,
                 caf::response_promise rp) override;
  void stat_file(file_id file, caf::response_promise rp) override;
  void close_file(file_id file, caf::response_promise rp) override;
  bool cancel_file_op(op_id id) override;
  bool process() override;
  caf::error poll(std::optional<clock::duration> timeout) override;
  size_t sockets() const noexcept override;
  void close_all() override;

private:
  struct write_op {
    op_id id;
    byte_buffer buf;
    size_t offset;
    caf::response_promise rp;
  };

  struct shutdown_op {
    op_id id;
    caf::response_promise rp;
  };

  struct dgram_op {
    write_op w; // w.offset: bytes sent
    sockaddr_storage to;
    socklen_t len;
  };

  struct slot {
    int fd = -1;
    uint32_t gen = 1;
    caf::strong_actor_ptr owner;
    write_limits limits;
    bool listener = false;
    bool accepting = false;
    bool accept_backoff = false;
    bool accept_reported = false;
    std::chrono::milliseconds backoff{0};
    bool readable = false;
    bool writable = false;
    bool hup = false;       // last read event had EV_EOF: read to EOF, not to a short read
    bool write_eof = false; // EVFILT_WRITE reported EV_EOF (connect failed, reset)
    int eof_errno = 0;      // error an EV_EOF event carried in fflags
    bool read_done = false; // EOF or read error reported
    bool write_shut = false;
    bool paused = false; // above the high watermark
    bool queued_ready = false;
    bool out_armed = false; // EVFILT_WRITE registered
    std::optional<op_id> connecting; // connect in progress
    size_t credit = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
    std::deque<write_op> wq;
    size_t queued = 0;
    std::optional<shutdown_op> shut;
    // datagram sockets: credit counts datagrams
    bool datagram = false;
    datagram_limits dlimits;
    std::deque<dgram_op> dq;
  };

  struct timer {
    caf::strong_actor_ptr owner; // null: accept back-off of `sock`
    socket_id sock = 0;
  };

  explicit kqueue_driver(int kq);

  slot* find(socket_id id) noexcept;
  socket_id id_of(uint32_t index) const noexcept;
  void mark_ready(uint32_t index);
  void do_io(uint32_t index);
  void do_accept(uint32_t index);
  void do_read(uint32_t index);
  void do_write(uint32_t index);
  void finish_connect(uint32_t index);
  void do_dgram_read(uint32_t index);
  void do_dgram_write(uint32_t index);
  bool change(int fd, int filter, unsigned flags, socket_id id);
  void want_writable(uint32_t index, bool on);
  void complete(slot& s, socket_id id, write_op& op, caf::error err);
  void complete(slot& s, socket_id id, shutdown_op& op, caf::error err);
  void fail(uint32_t index, caf::error err);
  void release(uint32_t index, caf::error reason);
  op_id add_timer(clock::duration delay, timer t);
  void arm_timer();
  void fire_timers();
  void retry_backed_off_accepts();

  int kq_;
  std::atomic<bool> wake_pending_{false};
  slot_table<slot> slots_;
  std::vector<uint32_t> ready_;
  size_t backed_off_ = 0;
  op_id next_timer_ = 1;
  std::map<std::pair<clock::time_point, op_id>, timer> timers_;
  std::unordered_map<op_id, clock::time_point> timer_index_;
  std::optional<clock::time_point> armed_; // nullopt: parked (far future)
  bool timer_failed_ = false; // re-arming failed: poll() bounds its wait
  std::vector<uint8_t> scratch_;
  /// Files: readiness does not apply to regular files, so blocking
  /// pread/pwrite run on a small worker pool; results come back through
  /// `process()` on this thread. Created on first use.
  file_pool& files();
  std::unique_ptr<file_pool> files_;
};

} // namespace actio
