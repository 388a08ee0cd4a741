#include "actio/net/socket.hpp"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actio/actors/errc.hpp"

namespace actio::net {

caf::expected<int> make_tcp_listen_socket(const listen_options& opts) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto port = std::to_string(opts.port);
  const char* host = opts.host.empty() ? nullptr : opts.host.c_str();
  if (auto rc = getaddrinfo(host, port.c_str(), &hints, &res); rc != 0)
    return make_actio_error(errc::invalid_argument,
                            "resolve " + opts.host + ": " + gai_strerror(rc));
  caf::error last = make_actio_error(errc::invalid_argument,
                                     "no address for " + opts.host);
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family,
                      ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      ai->ai_protocol);
    if (fd < 0) {
      last = make_errno_error("socket", errno);
      continue;
    }
    int one = 1;
    if (opts.reuse_address)
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
      last = make_errno_error(("bind " + opts.host + ":" + port).c_str(), errno);
      ::close(fd);
      continue;
    }
    if (::listen(fd, opts.backlog) < 0) {
      last = make_errno_error("listen", errno);
      ::close(fd);
      continue;
    }
    freeaddrinfo(res);
    return fd;
  }
  freeaddrinfo(res);
  return last;
}

caf::expected<uint16_t> local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return make_errno_error("getsockname", errno);
  if (ss.ss_family == AF_INET)
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return make_actio_error(errc::invalid_argument, "not an IP socket");
}

caf::error set_nodelay(int fd, bool enable) {
  int value = enable ? 1 : 0;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value)) < 0)
    return make_errno_error("setsockopt(TCP_NODELAY)", errno);
  return caf::none;
}

std::string peer_name(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return "?";
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof(host),
                  serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)
      != 0)
    return "?";
  return std::string{host} + ":" + serv;
}

} // namespace actio::net
