#pragma once

/// The epoll backend (Linux): the readiness driver core
/// (drivers/readiness/readiness_driver.hpp) over `epoll_poller`.
/// `epoll_driver::make()` creates the epoll set, the eventfd waker and the
/// timerfd.

#include "actio/drivers/epoll/epoll_poller.hpp"
#include "actio/drivers/readiness/readiness_driver.hpp"

namespace actio {

using epoll_driver = readiness_driver<epoll_poller>;

extern template class readiness_driver<epoll_poller>;

} // namespace actio
