#include "actio/net/socket.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "actio/drivers/errc.hpp"

namespace actio::net {

caf::expected<int> make_tcp_listen_socket(const listen_options& opts) {
  if (opts.backlog < 1)
    return make_actio_error(errc::invalid_argument,
                            "listen backlog must be at least 1, not "
                              + std::to_string(opts.backlog));
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
    if (opts.reuse_address
        && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
      last = make_errno_error("setsockopt(SO_REUSEADDR)", errno);
      ::close(fd);
      continue;
    }
    if (opts.reuse_port
        && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
      last = make_errno_error("setsockopt(SO_REUSEPORT)", errno);
      ::close(fd);
      continue;
    }
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
  if (ss.ss_family == AF_UNIX)
    return unix_name(ss, len);
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof(host),
                  serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)
      != 0)
    return "?";
  return std::string{host} + ":" + serv;
}

std::string unix_name(const sockaddr_storage& addr, socklen_t len) {
  const auto& un = reinterpret_cast<const sockaddr_un&>(addr);
  auto offset = offsetof(sockaddr_un, sun_path);
  if (len <= offset)
    return "unix:(unnamed)";
  auto size = static_cast<size_t>(len) - offset;
  if (un.sun_path[0] == '\0') // abstract: shown as "@name"
    return "unix:@" + std::string{un.sun_path + 1, size - 1};
  return "unix:" + std::string{un.sun_path, strnlen(un.sun_path, size)};
}

} // namespace actio::net
