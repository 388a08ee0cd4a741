#include "actio/drivers/aio/aio_driver.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>

#include <unistd.h>

#include <caf/actor_system_config.hpp>
#include <caf/settings.hpp>

#include "actio/actors/errc.hpp"
#include "actio/drivers/aio/aio_signal.hpp"

namespace actio {

extern std::atomic<uint64_t> aio_wakeups; // aio_files.cpp

aio_options aio_driver::options_from(const caf::actor_system_config& cfg) {
  aio_options opts;
  opts.fds_per_file = caf::get_or(cfg, "actio.io.aio-fds-per-file",
                                  opts.fds_per_file);
  opts.threads = caf::get_or(cfg, "actio.io.aio-threads", opts.threads);
  opts.num = caf::get_or(cfg, "actio.io.aio-num", opts.num);
  return opts;
}

caf::expected<std::unique_ptr<driver>> aio_driver::make(aio_options opts) {
  // Normally done by actio::config before any thread started; repeated here
  // for this thread in case the program used a plain actor_system_config.
  block_aio_signal();
  std::unique_ptr<aio_driver> drv{new aio_driver(opts)};
  if (auto err = drv->open())
    return err;
  drv->sfd_ = open_aio_signalfd();
  if (drv->sfd_ < 0)
    return make_errno_error("signalfd", errno);
  auto* self = drv.get();
  if (auto err = drv->watch(drv->sfd_, [self] {
        if (drain_aio_signalfd(self->sfd_)) {
          ++aio_wakeups;
          // The signal may have been meant for another driver's request.
          notify_aio_engines(self->registration_);
        }
      }))
    return err;
  drv->registration_ = register_aio_engine([self] { self->wake(); });
  return std::unique_ptr<driver>{std::move(drv)};
}

aio_driver::aio_driver(aio_options opts) : engine_(opts) {
}

aio_driver::~aio_driver() {
  if (registration_ != nullptr)
    unregister_aio_engine(registration_);
  engine_.shutdown();
  unwatch();
  if (sfd_ >= 0)
    ::close(sfd_);
  // ~epoll_driver then closes the sockets.
}

// -- files: POSIX AIO ----------------------------------------------------------

void aio_driver::open_file(std::string path, int flags, unsigned mode,
                           caf::response_promise rp) {
  engine_.open_file(std::move(path), flags, mode, std::move(rp));
}

void aio_driver::read_at(file_id file, uint64_t offset, size_t len, op_id id,
                         caf::response_promise rp) {
  engine_.read_at(file, offset, len, id, std::move(rp));
}

void aio_driver::write_at(file_id file, uint64_t offset, byte_buffer buf,
                          op_id id, caf::response_promise rp) {
  engine_.write_at(file, offset, std::move(buf), id, std::move(rp));
}

void aio_driver::sync_file(file_id file, bool datasync,
                           caf::response_promise rp) {
  engine_.sync_file(file, datasync, std::move(rp));
}

void aio_driver::stat_file(file_id file, caf::response_promise rp) {
  engine_.stat_file(file, std::move(rp));
}

void aio_driver::close_file(file_id file, caf::response_promise rp) {
  engine_.close_file(file, std::move(rp));
}

bool aio_driver::cancel_file_op(op_id id) {
  return engine_.cancel(id);
}

// -- the loop ------------------------------------------------------------------

bool aio_driver::process() {
  bool more = engine_.process();
  return epoll_driver::process() || more;
}

caf::error aio_driver::poll(std::optional<clock::duration> timeout) {
  // Safety net against a completion signal that went to a thread which had
  // it unblocked (aio_signal.hpp): never sleep long with requests in flight.
  if (engine_.in_flight() > 0) {
    clock::duration cap = aio_rescan_interval;
    timeout = timeout ? std::min(*timeout, cap) : cap;
  }
  return epoll_driver::poll(timeout);
}

void aio_driver::close_all() {
  engine_.shutdown();
  epoll_driver::close_all();
}

} // namespace actio
