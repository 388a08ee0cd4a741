#pragma once

/// The readiness-based driver core, shared by the epoll and kqueue backends:
/// sockets are registered once, edge-triggered; the driver remembers
/// readiness and performs the non-blocking syscall when there is both
/// readiness and a reason (credit to read, queued bytes to write), then
/// reports completions. Everything but the kernel object lives here (socket
/// state, datagrams, timers, the file engine); the kernel object is
/// the `Poller` (drivers/readiness/poller.hpp), a member, so its calls are
/// direct. The write queues and the accept back-off are the ones the
/// io_uring backend uses too (drivers/detail/).
///
/// Instantiated once per poller, in that backend's .cpp (see
/// drivers/epoll/epoll_driver.hpp); the definitions are in
/// readiness_driver_impl.hpp and the parts it includes. Files go to a
/// `file_engine` (drivers/detail/file_engine.hpp) the driver owns and drives
/// from its loop: the blocking pool by default, POSIX AIO for the aio backend
/// (composed in drivers/select.cpp).

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "actio/drivers/detail/accept_backoff.hpp"
#include "actio/drivers/detail/datagram_queue.hpp"
#include "actio/drivers/detail/file_engine.hpp"
#include "actio/drivers/detail/slot_table.hpp"
#include "actio/drivers/detail/timer_table.hpp"
#include "actio/drivers/detail/write_queue.hpp"
#include "actio/drivers/driver.hpp"
#include "actio/drivers/readiness/poller.hpp"

namespace actio {

template <readiness_poller Poller>
class readiness_driver : public driver {
public:
  /// Opens the poller (its kernel objects) and returns the driver, with the
  /// file engine `files` makes (none: `file_pool`, blocking calls on helper
  /// threads) and the backend name `name` (the aio backend: "aio").
  static caf::expected<std::unique_ptr<driver>>
  make(file_engine_factory files = {}, std::string_view name = Poller::name);

  ~readiness_driver() override;

  std::string_view name() const noexcept override {
    return name_;
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
  file_backend& files() override;
  bool process() override;
  caf::error poll(std::optional<clock::duration> timeout) override;
  size_t sockets() const noexcept override;
  void close_all() override;

  /// Also watches `fd` for readability (level-triggered); `on_ready` runs
  /// in `poll`, on the driver thread. For the file engine's `notify_fd` (the
  /// AIO engine's completion notifier). One watch per driver; `fd` stays the
  /// caller's, who calls `unwatch` before closing it.
  caf::error watch(int fd, std::function<void()> on_ready);

  /// Ends `watch`.
  void unwatch();

protected:
  readiness_driver();

  /// Creates the poller's kernel objects (`make` does this).
  caf::error open();

private:
  struct slot {
    int fd = -1;
    caf::strong_actor_ptr owner;
    bool listener = false;
    bool accepting = false;
    detail::accept_state accept;
    bool readable = false;
    bool writable = false;
    bool hup = false;       // last read event: peer hung up, read to EOF, not to a short read
    bool write_eof = false; // the write side failed since connect (connect refused, reset)
    int eof_errno = 0;      // socket error the poller consumed (libkqueue), else 0
    bool read_done = false; // EOF or read error reported
    bool queued_ready = false;
    bool out_armed = false; // write interest registered
    std::optional<op_id> connecting; // connect in progress
    size_t credit = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
    detail::write_queue wq; // head: partly sent (`done`), until complete
    // datagram sockets: credit counts datagrams
    bool datagram = false;
    detail::datagram_queue dq;
  };

  slot* find(socket_id id) noexcept;
  socket_id id_of(uint32_t index) const noexcept;
  void mark_ready(uint32_t index);
  void update(socket_id id, const readiness& r);
  void do_io(uint32_t index);
  void do_accept(uint32_t index);
  void do_read(uint32_t index);
  void do_write(uint32_t index);
  void finish_connect(uint32_t index);
  void do_dgram_read(uint32_t index);
  void do_dgram_write(uint32_t index);
  void want_writable(uint32_t index, bool on);
  void fail(uint32_t index, caf::error err);
  void release(uint32_t index, caf::error reason, bool read_failed = false);
  op_id add_timer(clock::duration delay, detail::timer_entry t);
  void fire_timers();

  /// Where the shared queues send completions: to the owner of `s`.
  auto to_owner(slot& s) {
    return [this, &s](auto&& ev) {
      deliver(s.owner, std::forward<decltype(ev)>(ev));
    };
  }

  Poller poller_;
  detail::slot_table<slot> slots_;
  std::vector<uint32_t> ready_;
  detail::accept_backoff backoff_;
  detail::timer_table timers_;
  std::optional<clock::time_point> armed_; ///< the poller's deadline
  std::vector<uint8_t> scratch_;
  /// Files: readiness does not apply to regular files, so they go to an
  /// engine (helper threads, POSIX AIO) whose results come back through
  /// `process()` on this thread. Set by `make`, lives as long as the driver.
  std::unique_ptr<file_engine> files_;
  std::string_view name_ = Poller::name;
  int watch_fd_ = -1;
  std::function<void()> watch_; ///< see `watch`
};

} // namespace actio
