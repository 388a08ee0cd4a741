#include "actio/drivers/aio/aio_driver.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>

#include <unistd.h>

#include <caf/actor_system_config.hpp>
#include <caf/settings.hpp>

#include "actio/drivers/aio/aio_notifier.hpp"

namespace actio {

aio_options aio_driver::options_from(const caf::actor_system_config& cfg) {
  aio_options opts;
  opts.fds_per_file = caf::get_or(cfg, "actio.io.aio-fds-per-file",
                                  opts.fds_per_file);
  opts.threads = caf::get_or(cfg, "actio.io.aio-threads", opts.threads);
  opts.num = caf::get_or(cfg, "actio.io.aio-num", opts.num);
  opts.helper_threads = caf::get_or(cfg, "actio.io.aio-helper-threads",
                                    opts.helper_threads);
  return opts;
}

caf::expected<std::unique_ptr<driver>> aio_driver::make(aio_options opts) {
  // Normally done by actio::config before any thread started; repeated here
  // for this thread in case the program used a plain actor_system_config.
  prepare_aio_process();
  auto notifier = make_aio_notifier();
  if (!notifier)
    return std::move(notifier.error());
  // The poller reports the notifier's descriptor to the engine, which
  // exists once the driver does (the callback runs only in poll()).
  auto engine = std::make_shared<aio_files*>(nullptr);
  auto net = make_aio_network((*notifier)->fd(),
                              [engine] { (*engine)->notified(); });
  if (!net)
    return std::move(net.error());
  std::unique_ptr<aio_driver> drv{
    new aio_driver(std::move(*net), std::move(*notifier), opts)};
  *engine = &drv->files_;
  return std::unique_ptr<driver>{std::move(drv)};
}

aio_driver::aio_driver(std::unique_ptr<driver> net,
                       std::unique_ptr<aio_notifier> notifier,
                       aio_options opts)
  : net_(std::move(net)),
    files_(opts, std::move(notifier), [this] { wake(); }) {
}

aio_driver::~aio_driver() {
  // Completes what is left while the networking driver (the waker) still
  // exists; files_ then goes before net_ (declaration order).
  files_.shutdown();
}

void aio_driver::sync_unit() {
  // set_unit() is not virtual: hand the driver thread's unit on lazily.
  net_->set_unit(eu_);
}

// -- networking and timers: the epoll backend ----------------------------------

void aio_driver::wake() noexcept {
  net_->wake();
}

caf::expected<socket_id> aio_driver::adopt(int fd, caf::strong_actor_ptr owner,
                                           write_limits limits) {
  return net_->adopt(fd, std::move(owner), limits);
}

caf::expected<socket_id>
aio_driver::adopt_datagram(int fd, caf::strong_actor_ptr owner,
                           datagram_limits limits) {
  return net_->adopt_datagram(fd, std::move(owner), limits);
}

bool aio_driver::send_to(socket_id sock, op_id id, byte_buffer buf,
                         const sockaddr_storage& to, socklen_t len,
                         caf::response_promise rp) {
  return net_->send_to(sock, id, std::move(buf), to, len, std::move(rp));
}

caf::error aio_driver::connect_datagram(socket_id sock,
                                        const sockaddr_storage& to,
                                        socklen_t len) {
  return net_->connect_datagram(sock, to, len);
}

std::optional<socket_progress> aio_driver::progress(socket_id sock) {
  return net_->progress(sock);
}

void aio_driver::start_accept(socket_id listener) {
  net_->start_accept(listener);
}

bool aio_driver::connect(socket_id sock, const sockaddr_storage& addr,
                         socklen_t len, op_id id) {
  return net_->connect(sock, addr, len, id);
}

void aio_driver::grant(socket_id sock, size_t bytes) {
  net_->grant(sock, bytes);
}

bool aio_driver::send(socket_id sock, op_id id, byte_buffer buf,
                      caf::response_promise rp) {
  return net_->send(sock, id, std::move(buf), std::move(rp));
}

bool aio_driver::shutdown_write(socket_id sock, op_id id,
                                caf::response_promise rp) {
  return net_->shutdown_write(sock, id, std::move(rp));
}

void aio_driver::close(socket_id sock, caf::error reason) {
  net_->close(sock, std::move(reason));
}

op_id aio_driver::start_timer(clock::duration delay,
                              caf::strong_actor_ptr owner) {
  return net_->start_timer(delay, std::move(owner));
}

bool aio_driver::cancel_timer(op_id id) {
  return net_->cancel_timer(id);
}

size_t aio_driver::sockets() const noexcept {
  return net_->sockets();
}

// -- files: POSIX AIO ----------------------------------------------------------

void aio_driver::open_file(std::string path, int flags, unsigned mode,
                           caf::response_promise rp) {
  files_.open_file(std::move(path), flags, mode, std::move(rp));
}

void aio_driver::read_at(file_id file, uint64_t offset, size_t len, op_id id,
                         caf::response_promise rp) {
  files_.read_at(file, offset, len, id, std::move(rp));
}

void aio_driver::write_at(file_id file, uint64_t offset, byte_buffer buf,
                          op_id id, caf::response_promise rp) {
  files_.write_at(file, offset, std::move(buf), id, std::move(rp));
}

void aio_driver::sync_file(file_id file, bool datasync,
                           caf::response_promise rp) {
  files_.sync_file(file, datasync, std::move(rp));
}

void aio_driver::stat_file(file_id file, caf::response_promise rp) {
  files_.stat_file(file, std::move(rp));
}

void aio_driver::close_file(file_id file, caf::response_promise rp) {
  files_.close_file(file, std::move(rp));
}

bool aio_driver::cancel_file_op(op_id id) {
  return files_.cancel(id);
}

// -- the loop ------------------------------------------------------------------

bool aio_driver::process() {
  sync_unit();
  bool more = files_.process();
  return net_->process() || more;
}

caf::error aio_driver::poll(std::optional<clock::duration> timeout) {
  sync_unit();
  // Safety net where a notification can go astray (Linux: a completion
  // signal taken by a thread that had it unblocked, aio_signal.hpp): never
  // sleep long with requests in flight.
  if (auto cap = files_.max_sleep()) {
    clock::duration limit = *cap;
    timeout = timeout ? std::min(*timeout, limit) : limit;
  }
  return net_->poll(timeout);
}

void aio_driver::close_all() {
  files_.shutdown();
  net_->close_all();
}

} // namespace actio
