#include "actio/net/unix_connect.hpp"

#include "actio/net/tcp_connect.hpp"
#include "actio/net/unix_address.hpp"

namespace actio::net {

caf::expected<caf::actor> unix_connect(runtime& rt, const std::string& name,
                                       connection_factory factory,
                                       connection_options opts) {
  auto target = unix_target(name);
  if (!target)
    return std::move(target.error());
  if (auto err = validate(opts))
    return err;
  connect_request req;
  req.name = "unix:" + name;
  req.targets.push_back(*target);
  return spawn_pinned<connection>(rt.next_unit(), std::move(req),
                                  std::move(factory), opts);
}

} // namespace actio::net
