// config::apply_log_options: the actio.log.* options into actio::log.

#include "actio/actors/config.hpp"

#include <caf/settings.hpp>

#include "actio/drivers/log.hpp"

namespace actio {

std::string config::apply_log_options() const {
  log::settings s;
  if (auto v = caf::get_if<std::string>(&content, "actio.log.level"))
    if (!log::parse(*v, s.threshold))
      return "--actio.log.level: '" + *v
             + "' is not one of trace, debug, info, warn, error, off";
  if (auto v = caf::get_if<std::string>(&content, "actio.log.format"))
    if (!log::parse(*v, s.style))
      return "--actio.log.format: '" + *v + "' is not text or json";
  if (auto v = caf::get_if<std::string>(&content, "actio.log.file"))
    s.file = *v;
  return log::configure(s);
}

} // namespace actio
