#include "actio/drivers/kqueue/kqueue_driver.hpp"

#include "actio/drivers/readiness/readiness_driver_impl.hpp"

namespace actio {

template class readiness_driver<kqueue_poller>;

} // namespace actio
