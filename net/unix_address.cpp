#include "actio/net/unix_address.hpp"

#include <cstddef>
#include <cstring>

#include <sys/un.h>

#include "actio/drivers/errc.hpp"

namespace actio::net {

caf::expected<connect_target> unix_target(const std::string& name) {
  connect_target t;
  auto& un = reinterpret_cast<sockaddr_un&>(t.addr);
  un.sun_family = AF_UNIX;
  // Path names need their terminating NUL inside sun_path; abstract names
  // are counted by the address length and take all of it.
  size_t room = is_abstract(name) ? sizeof(un.sun_path)
                                  : sizeof(un.sun_path) - 1;
  if (name.empty() || (is_abstract(name) && name.size() == 1))
    return make_actio_error(errc::invalid_argument, "empty Unix socket name");
  if (name.size() > room)
    return make_actio_error(errc::invalid_argument,
                            "Unix socket name too long (max "
                              + std::to_string(room) + " bytes): " + name);
  std::memcpy(un.sun_path, name.data(), name.size());
  if (is_abstract(name))
    un.sun_path[0] = '\0';
  t.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size()
                                 + (is_abstract(name) ? 0 : 1));
  return t;
}

} // namespace actio::net
