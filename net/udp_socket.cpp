#include "actio/net/udp_socket.hpp"

#include <cerrno>

#include <netdb.h>
#include <sys/socket.h>

#include "actio/drivers/errc.hpp"

namespace actio::net {

caf::expected<datagram_endpoint> udp_bind(runtime& rt, const udp_options& opts,
                                          datagram_factory factory) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto port = std::to_string(opts.port);
  const char* host = opts.host.empty() ? nullptr : opts.host.c_str();
  if (auto rc = getaddrinfo(host, port.c_str(), &hints, &res); rc != 0)
    return make_actio_error(errc::resolve_failed,
                            "resolve " + opts.host + ": " + gai_strerror(rc));
  auto setup = [&opts](int fd) -> caf::error {
    int one = 1;
    if (opts.reuse_address
        && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
      return make_errno_error("setsockopt(SO_REUSEADDR)", errno);
    if (opts.reuse_port
        && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
      return make_errno_error("setsockopt(SO_REUSEPORT)", errno);
    return caf::none;
  };
  caf::error last = make_actio_error(errc::invalid_argument,
                                     "no address for " + opts.host);
  int fd = -1;
  for (auto* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    auto sock = make_datagram_socket(ai->ai_family,
                                     address{ai->ai_addr, ai->ai_addrlen}, opts,
                                     setup);
    if (sock)
      fd = *sock;
    else
      last = std::move(sock.error());
  }
  freeaddrinfo(res);
  if (fd < 0)
    return last;
  auto local = local_address(fd);
  if (!local) {
    owned_fd closer{fd};
    return std::move(local.error());
  }
  datagram_limits limits{opts.max_datagram, opts.max_queued};
  auto actor = spawn_pinned<datagram_socket>(rt.next_unit(), owned_fd{fd},
                                             std::move(factory), limits, *local,
                                             std::string{});
  return datagram_endpoint{actor, *local, local->port()};
}

} // namespace actio::net
