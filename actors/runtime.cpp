#include "actio/actors/runtime.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/settings.hpp>

#include "actio/actors/malloc_tuning.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/select.hpp"

namespace actio {

runtime::runtime(caf::actor_system& sys) : sys_(sys) {
}

caf::expected<std::unique_ptr<runtime>>
runtime::start(caf::actor_system& sys) {
  const auto& cfg = sys.config();
  auto backend = caf::get_or(cfg, "actio.io.backend", std::string{"auto"});
  auto drivers = caf::get_or(cfg, "actio.io.drivers", size_t{1});
  auto throughput = caf::get_or(cfg, "actio.io.max-throughput", size_t{64});
  if (drivers == 0 || drivers > 1024)
    return make_actio_error(errc::invalid_argument,
                            "actio.io.drivers must be between 1 and 1024, got "
                              + std::to_string(drivers));
  if (throughput == 0)
    throughput = 1;
  tune_malloc(caf::get_or(cfg, "actio.io.malloc-retain", default_malloc_retain));
  std::unique_ptr<runtime> rt{new runtime(sys)};
  for (size_t i = 0; i < drivers; ++i) {
    auto drv = make_driver(backend, sys);
    if (!drv)
      return std::move(drv.error());
    if (i == 0) {
      rt->backend_ = std::string{(*drv)->name()};
      rt->reason_ = backend == "auto"
                      ? "auto picked the first available (" + auto_choice_reason(cfg) + ")"
                      : "asked for by actio.io.backend";
    }
    rt->units_.emplace_back(
      std::make_unique<driver_unit>(sys, std::move(*drv), i, throughput));
  }
  for (auto& unit : rt->units_)
    unit->start();
  return rt;
}

runtime::~runtime() {
  shutdown();
}

void runtime::shutdown() {
  if (stopped_)
    return;
  stopped_ = true;
  for (auto& unit : units_)
    unit->begin_stop();
  for (auto& unit : units_)
    unit->stop();
}

driver_unit& runtime::next_unit() noexcept {
  auto i = next_.fetch_add(1, std::memory_order_relaxed);
  return *units_[i % units_.size()];
}

} // namespace actio
