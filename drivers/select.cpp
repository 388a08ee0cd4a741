// The backend selector: the one file that knows which backends this build
// has (every #ifdef for backends lives here), in order of preference, and
// which of them this machine can run.

#include <cerrno>
#include <cstring>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/settings.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/backend_choice.hpp"
#include "actio/drivers/driver.hpp"

#ifdef ACTIO_HAVE_URING
#  include "actio/drivers/uring/uring_driver.hpp"
#endif
#ifdef ACTIO_HAVE_EPOLL
#  include "actio/drivers/epoll/epoll_driver.hpp"
#endif
#ifdef ACTIO_HAVE_KQUEUE
#  include "actio/drivers/kqueue/kqueue_driver.hpp"
#endif
#ifdef ACTIO_HAVE_AIO
#  include "actio/drivers/aio/aio_driver.hpp"
#  include "actio/drivers/aio/aio_notifier.hpp"
#endif

namespace actio {

namespace {

/// Whether `name` was built in, and if so why it cannot run here (none: ok).
/// `automatic`: `auto` may pick it (portability backends such as aio only
/// run when asked for by name).
struct candidate {
  const char* name;
  bool built;
  caf::error (*probe)();
  bool automatic = true;
};

caf::error always_ok() {
  return caf::none;
}

#ifdef ACTIO_HAVE_URING
// The kernel does not change under us: probe once per process.
caf::error probe_uring_once() {
  static const caf::error result = uring_driver::probe();
  return result;
}
#endif

const candidate candidates[] = {
#ifdef ACTIO_HAVE_URING
  {"uring", true, &probe_uring_once},
#else
  {"uring", false, nullptr},
#endif
#ifdef ACTIO_HAVE_EPOLL
  {"epoll", true, &always_ok},
#else
  {"epoll", false, nullptr},
#endif
// After epoll: on Linux kqueue (libkqueue over epoll) is for verification;
// on BSD/macOS, where uring and epoll are not built, it comes first.
#ifdef ACTIO_HAVE_KQUEUE
  {"kqueue", true, &always_ok},
#else
  {"kqueue", false, nullptr},
#endif
#ifdef ACTIO_HAVE_AIO
  {"aio", true, &always_ok, false},
#else
  {"aio", false, nullptr, false},
#endif
};

/// Whether `c` can run here. `actio.io.uring-probe=fail` (for tests: the
/// fallback of `auto` cannot otherwise be shown on a machine that has
/// io_uring) makes the io_uring probe fail as a kernel without it would.
caf::error probe(const candidate& c, const caf::actor_system_config* cfg) {
  if (cfg != nullptr && std::string_view{c.name} == "uring"
      && caf::get_or(*cfg, "actio.io.uring-probe", std::string{"kernel"})
           == "fail")
    return make_actio_error(errc::backend_unavailable,
                            std::string{"io_uring_setup: "}
                              + std::strerror(ENOSYS)
                              + " (forced by actio.io.uring-probe=fail)");
  return c.probe();
}

caf::expected<std::unique_ptr<driver>>
make_named(const std::string& name, [[maybe_unused]] caf::actor_system& sys) {
#ifdef ACTIO_HAVE_URING
  if (name == "uring")
    return uring_driver::make();
#endif
#ifdef ACTIO_HAVE_EPOLL
  if (name == "epoll")
    return epoll_driver::make();
#endif
#ifdef ACTIO_HAVE_KQUEUE
  if (name == "kqueue")
    return kqueue_driver::make();
#endif
#ifdef ACTIO_HAVE_AIO
  if (name == "aio")
    return aio_driver::make(aio_driver::options_from(sys.config()));
#endif
  return make_actio_error(errc::backend_unavailable,
                          "backend '" + name + "' is not built in");
}

} // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> result;
  for (auto& c : candidates)
    if (c.built && !c.probe())
      result.emplace_back(c.name);
  return result;
}

caf::expected<std::unique_ptr<driver>>
make_driver(std::string_view backend, caf::actor_system& sys) {
  std::string name{backend};
  const auto* cfg = &sys.config();
  if (name == "auto") {
    for (auto& c : candidates)
      if (c.automatic && c.built && !probe(c, cfg))
        return make_named(c.name, sys);
    return make_actio_error(errc::backend_unavailable,
                            "no I/O backend of this build works here");
  }
  for (auto& c : candidates) {
    if (name != c.name)
      continue;
    if (!c.built)
      return make_actio_error(errc::backend_unavailable,
                              "backend '" + name
                                + "' is not available in this build");
    if (auto err = probe(c, cfg))
      return make_actio_error(errc::backend_unavailable,
                              "backend '" + name + "' is not available: "
                                + describe(err));
    return make_named(name, sys);
  }
  return make_actio_error(errc::invalid_argument,
                          "unknown backend '" + name
                            + "' (expected auto, uring, epoll, kqueue or aio)");
}

void prepare_backend_signals() noexcept {
#ifdef ACTIO_HAVE_AIO
  prepare_aio_process();
#endif
}

namespace {

std::string choice_reason(const caf::actor_system_config* cfg) {
  std::string result;
  for (auto& c : candidates) {
    if (!result.empty())
      result += "; ";
    result += c.name;
    if (!c.built)
      result += ": not built";
    else if (auto err = probe(c, cfg))
      result += ": unavailable (" + describe(err) + ")";
    else if (!c.automatic)
      result += ": available (only by name)";
    else
      result += ": available";
  }
  return result;
}

} // namespace

/// Why `auto` chose what it chose, for the start-up log line.
std::string auto_choice_reason() {
  return choice_reason(nullptr);
}

std::string auto_choice_reason(const caf::actor_system_config& cfg) {
  return choice_reason(&cfg);
}

} // namespace actio
