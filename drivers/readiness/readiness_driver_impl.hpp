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
/// and, below, files (handed to the file engine).

#include "actio/drivers/readiness/readiness_core_impl.hpp"
#include "actio/drivers/readiness/readiness_datagrams_impl.hpp"
#include "actio/drivers/readiness/readiness_streams_impl.hpp"
#include "actio/drivers/readiness/readiness_timers_impl.hpp"

namespace actio {

// -- files (the engine) -------------------------------------------------------

template <readiness_poller Poller>
file_backend& readiness_driver<Poller>::files() {
  return *files_;
}

} // namespace actio
