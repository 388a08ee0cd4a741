#include "actio/net/unix_datagram.hpp"

#include <cerrno>

#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actio/drivers/errc.hpp"

namespace actio::net {

caf::expected<datagram_endpoint>
unix_datagram_bind(runtime& rt, const unix_datagram_options& opts,
                   datagram_factory factory) {
  // Empty path: autobind, i.e. bind with only the family.
  auto target = address::unix_path(opts.path.empty() ? "(unnamed)" : opts.path);
  if (!target)
    return std::move(target.error());
  bool is_path = target->is_unix_path();
  if (is_path && opts.unlink_existing) {
    struct stat st {};
    if (::lstat(opts.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
      ::unlink(opts.path.c_str());
  }
  auto fd = make_datagram_socket(AF_UNIX, *target, opts);
  if (!fd)
    return std::move(fd.error());
  auto local = local_address(*fd);
  if (!local) {
    owned_fd closer{*fd};
    if (is_path)
      ::unlink(opts.path.c_str());
    return std::move(local.error());
  }
  datagram_limits limits{opts.max_datagram, opts.max_queued};
  auto actor = spawn_pinned<datagram_socket>(
    rt.next_unit(), owned_fd{*fd}, std::move(factory), limits, *local,
    is_path ? opts.path : std::string{});
  return datagram_endpoint{actor, *local, 0};
}

} // namespace actio::net
