// Making the aio backend's file engine: its options and its notifier. The
// backend itself (a readiness driver hosting this engine) is composed in
// drivers/select.cpp.

#include <caf/actor_system_config.hpp>
#include <caf/settings.hpp>

#include "actio/drivers/aio/aio_files.hpp"
#include "actio/drivers/aio/aio_notifier.hpp"

namespace actio {

aio_options aio_options_from(const caf::actor_system_config& cfg) {
  aio_options opts;
  opts.fds_per_file = caf::get_or(cfg, "actio.io.aio-fds-per-file",
                                  opts.fds_per_file);
  opts.threads = caf::get_or(cfg, "actio.io.aio-threads", opts.threads);
  opts.num = caf::get_or(cfg, "actio.io.aio-num", opts.num);
  opts.helper_threads = caf::get_or(cfg, "actio.io.aio-helper-threads",
                                    opts.helper_threads);
  return opts;
}

caf::expected<std::unique_ptr<file_engine>>
make_aio_files(aio_options opts, std::function<void()> wake) {
  // Normally done by actio::config before any thread started; repeated here
  // for this thread in case the program used a plain actor_system_config.
  prepare_aio_process();
  auto notifier = make_aio_notifier();
  if (!notifier)
    return std::move(notifier.error());
  return std::unique_ptr<file_engine>{
    new aio_files(opts, std::move(*notifier), std::move(wake))};
}

} // namespace actio
