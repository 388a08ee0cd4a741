#pragma once

/// The `aio` backend (POSIX AIO for files): networking, timers and the
/// waker are the platform's readiness backend's (an `epoll_driver` inside on
/// Linux, a `kqueue_driver` on FreeBSD); files go through POSIX AIO
/// (`aio_files`), whose completion notifications (a signalfd on Linux, a
/// kqueue on FreeBSD: aio_notifier.hpp) are watched in that same poller.
/// A portability backend: `auto` never picks it.
///
/// Options (`actio.io.*`):
/// | option              | default | effect                                  |
/// |---------------------|---------|-----------------------------------------|
/// | aio-fds-per-file    | 4       | dup'd descriptors per open file (glibc runs one request per descriptor at a time) |
/// | aio-threads         | 8       | glibc aio_init aio_threads (first driver of the process) |
/// | aio-num             | 64      | glibc aio_init aio_num                  |
/// | aio-helper-threads  | 4       | most open/fstat/close calls running at once (helper threads, started on demand) |

#include <memory>

#include <caf/fwd.hpp>

#include "actio/drivers/aio/aio_files.hpp"
#include "actio/drivers/driver.hpp"

namespace actio {

class aio_driver final : public driver {
public:
  static caf::expected<std::unique_ptr<driver>> make(aio_options opts);

  /// The options from a config (`actio.io.aio-*`), defaults for the rest.
  static aio_options options_from(const caf::actor_system_config& cfg);

  ~aio_driver() override;

  std::string_view name() const noexcept override {
    return "aio";
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
  aio_driver(std::unique_ptr<driver> net,
             std::unique_ptr<aio_notifier> notifier, aio_options opts);

  void sync_unit();

  std::unique_ptr<driver> net_; ///< epoll (Linux) or kqueue (FreeBSD)
  aio_files files_;             ///< after net_: destroyed before it
};

} // namespace actio
