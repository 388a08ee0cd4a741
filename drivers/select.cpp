// The backend selector: the one file that knows which backends this build
// has (every #ifdef for backends lives here), in order of preference.

#include <string>

#include "actio/actors/errc.hpp"
#include "actio/drivers/driver.hpp"

#ifdef ACTIO_HAVE_EPOLL
#  include "actio/drivers/epoll/epoll_driver.hpp"
#endif

namespace actio {

std::vector<std::string> available_backends() {
  std::vector<std::string> result;
#ifdef ACTIO_HAVE_EPOLL
  result.emplace_back("epoll");
#endif
  return result;
}

caf::expected<std::unique_ptr<driver>>
make_driver(std::string_view backend, caf::actor_system&) {
  // `names` outlives `backend`, which may point into it.
  auto names = available_backends();
  if (backend == "auto") {
    if (names.empty())
      return make_actio_error(errc::backend_unavailable,
                              "no I/O backend was built for this platform");
    backend = names.front();
  }
#ifdef ACTIO_HAVE_EPOLL
  if (backend == "epoll")
    return epoll_driver::make();
#endif
  if (backend == "epoll" || backend == "uring" || backend == "kqueue"
      || backend == "aio")
    return make_actio_error(errc::backend_unavailable,
                            "backend '" + std::string{backend}
                              + "' is not available in this build");
  return make_actio_error(errc::invalid_argument,
                          "unknown backend '" + std::string{backend}
                            + "' (expected auto or epoll)");
}

} // namespace actio
