#include "actio/drivers/epoll/epoll_driver.hpp"

#include "actio/drivers/readiness/readiness_driver_impl.hpp"

namespace actio {

template class readiness_driver<epoll_poller>;

} // namespace actio
