#include "actio/net/tcp_connect.hpp"

#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actio/actors/errc.hpp"

namespace actio::net {

caf::expected<caf::actor> tcp_connect(runtime& rt, const std::string& host,
                                      uint16_t port, connection_factory factory,
                                      connection_options opts) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  if (auto rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
    return make_actio_error(errc::invalid_argument,
                            "resolve " + host + ": " + gai_strerror(rc));
  connect_target target;
  std::memcpy(&target.addr, res->ai_addr, res->ai_addrlen);
  target.len = res->ai_addrlen;
  int family = res->ai_family;
  freeaddrinfo(res);
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return make_errno_error("socket", errno);
  return spawn_pinned<connection>(rt.next_unit(), owned_fd{fd},
                                  std::move(factory), opts, target);
}

} // namespace actio::net
