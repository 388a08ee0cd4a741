#pragma once

/// Definitions of `readiness_driver<Poller>` (readiness_driver.hpp). Only a
/// backend's .cpp includes this, to instantiate the core for its poller:
///
///     template class actio::readiness_driver<actio::epoll_poller>;
///
/// The definitions come in parts, along the core's seams:
/// - readiness_core_impl.hpp: construction, registry, close and failure,
///   from poller events to I/O, the loop's two calls;
/// - readiness_streams_impl.hpp: listeners and stream sockets;
/// - readiness_datagrams_impl.hpp: datagram sockets;
/// - readiness_timers_impl.hpp: timers;
/// and, below, files (on a worker pool).

#include "actio/drivers/readiness/readiness_core_impl.hpp"
#include "actio/drivers/readiness/readiness_datagrams_impl.hpp"
#include "actio/drivers/readiness/readiness_streams_impl.hpp"
#include "actio/drivers/readiness/readiness_timers_impl.hpp"

namespace actio {

// -- files (worker pool) ------------------------------------------------------

template <readiness_poller Poller>
file_pool& readiness_driver<Poller>::files() {
  if (!files_)
    files_ = std::make_unique<file_pool>([this] { wake(); });
  return *files_;
}

template <readiness_poller Poller>
void readiness_driver<Poller>::open_file(std::string path, int flags,
                                         unsigned mode,
                                         caf::response_promise rp) {
  files().open_file(std::move(path), flags, mode, std::move(rp));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::read_at(file_id file, uint64_t offset,
                                       size_t len, op_id id,
                                       caf::response_promise rp) {
  files().read_at(file, offset, len, id, std::move(rp));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::write_at(file_id file, uint64_t offset,
                                        byte_buffer buf, op_id id,
                                        caf::response_promise rp) {
  files().write_at(file, offset, std::move(buf), id, std::move(rp));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::sync_file(file_id file, bool datasync,
                                         caf::response_promise rp) {
  files().sync_file(file, datasync, std::move(rp));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::stat_file(file_id file,
                                         caf::response_promise rp) {
  files().stat_file(file, std::move(rp));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::close_file(file_id file,
                                          caf::response_promise rp) {
  files().close_file(file, std::move(rp));
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::cancel_file_op(op_id id) {
  return files_ ? files_->cancel(id) : false;
}

} // namespace actio
