#pragma once

/// The `aio` backend (Linux, glibc POSIX AIO): the epoll backend (the
/// readiness driver core over `epoll_poller`) with files through POSIX AIO
/// (`aio_files`) instead of the worker pool. Networking, timers and the waker
/// are inherited unchanged; the AIO completion signal is read from a
/// signalfd watched in that same epoll set. A portability backend: `auto`
/// never picks it.
///
/// | option              | default | effect                                  |
/// |---------------------|---------|-----------------------------------------|
/// | aio-fds-per-file    | 4       | dup'd descriptors per open file (glibc runs one request per descriptor at a time) |
/// | aio-threads         | 8       | glibc aio_init aio_threads (first driver of the process) |
/// | aio-num             | 64      | glibc aio_init aio_num                  |

#include <memory>

#include <caf/fwd.hpp>

#include "actio/drivers/aio/aio_files.hpp"
#include "actio/drivers/epoll/epoll_driver.hpp"

namespace actio {

class aio_driver final : public epoll_driver {
public:
  static caf::expected<std::unique_ptr<driver>> make(aio_options opts);

  /// The options from a config (`actio.io.aio-*`), defaults for the rest.
  static aio_options options_from(const caf::actor_system_config& cfg);

  ~aio_driver() override;

  std::string_view name() const noexcept override {
    return "aio";
  }

  // -- files: POSIX AIO instead of the worker pool ----------------------------

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

  // -- the loop: the engine's work, then epoll's ------------------------------

  bool process() override;
  caf::error poll(std::optional<clock::duration> timeout) override;
  void close_all() override;

private:
  explicit aio_driver(aio_options opts);

  int sfd_ = -1; ///< signalfd for aio_signal()
  aio_files engine_;
  void* registration_ = nullptr; ///< in the engine registry (aio_signal.hpp)
};

} // namespace actio
