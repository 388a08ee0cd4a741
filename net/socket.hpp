#pragma once

/// Plain socket helpers: the synchronous setup steps (resolve, bind, listen,
/// socket options) that happen before a socket is handed to a driver.

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace actio::net {

/// Options for `tcp_listen`.
struct listen_options {
  std::string host = "127.0.0.1"; ///< numeric address or name; "::" for IPv6 any
  uint16_t port = 0;              ///< 0: the OS picks one
  int backlog = 1024;
  bool reuse_address = true;
  size_t max_connections = 0; ///< 0: no limit; excess are accepted and closed
};

/// Creates a non-blocking listening TCP socket bound to `opts`.
caf::expected<int> make_tcp_listen_socket(const listen_options& opts);

/// The local port of a bound socket.
caf::expected<uint16_t> local_port(int fd);

/// Sets TCP_NODELAY.
caf::error set_nodelay(int fd, bool enable);

/// "host:port" of the peer, or "?" when unknown.
std::string peer_name(int fd);

} // namespace actio::net
