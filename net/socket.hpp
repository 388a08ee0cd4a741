#pragma once

/// Plain socket helpers: the synchronous setup steps (resolve, bind, listen,
/// socket options) that happen before a socket is handed to a driver.

#include <cstddef>
#include <cstdint>
#include <string>

#include <sys/socket.h>

#include <caf/expected.hpp>

namespace actio::net {

/// Options for `tcp_listen`.
struct listen_options {
  std::string host = "127.0.0.1"; ///< numeric address or name; "::" for IPv6 any
  uint16_t port = 0;              ///< 0: the OS picks one
  int backlog = 1024;          ///< listen(2) backlog, at least 1
  bool reuse_address = true;   ///< SO_REUSEADDR: rebind while TIME_WAIT lingers
  bool reuse_port = false;     ///< SO_REUSEPORT: several listeners share the port
  size_t max_connections = 0; ///< 0: no limit; excess are accepted and closed
};

/// Creates a non-blocking listening TCP socket bound to `opts`.
caf::expected<int> make_tcp_listen_socket(const listen_options& opts);

/// The local port of a bound socket.
caf::expected<uint16_t> local_port(int fd);

/// Sets TCP_NODELAY.
caf::error set_nodelay(int fd, bool enable);

/// "host:port" of the peer, "unix:PATH" / "unix:@name" for Unix sockets,
/// or "?" when unknown.
std::string peer_name(int fd);

/// "unix:PATH", "unix:@name" (abstract) or "unix:(unnamed)".
std::string unix_name(const sockaddr_storage& addr, socklen_t len);

} // namespace actio::net
