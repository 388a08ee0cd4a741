#pragma once

/// The kqueue backend (BSD/macOS; on Linux through libkqueue): the
/// readiness driver core (drivers/readiness/readiness_driver.hpp) over
/// `kqueue_poller`. `kqueue_driver::make()` creates the kqueue with its
/// EVFILT_USER waker and EVFILT_TIMER. Files go to the worker pool, as
/// with epoll.

#include "actio/drivers/kqueue/kqueue_poller.hpp"
#include "actio/drivers/readiness/readiness_driver.hpp"

namespace actio {

using kqueue_driver = readiness_driver<kqueue_poller>;

extern template class readiness_driver<kqueue_poller>;

} // namespace actio
