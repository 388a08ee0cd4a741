#pragma once

/// Typed socket options for connections (accepted and client), applied
/// before the socket is handed to its driver.

#include <cstdint>

#include <caf/error.hpp>

namespace actio::net {

/// Per-socket kernel options. TCP-only options are skipped on Unix sockets.
struct socket_options {
  bool nodelay = true;      ///< TCP_NODELAY: send small writes at once
  bool keepalive = false;   ///< SO_KEEPALIVE: probe idle connections
  int keepalive_idle = 0;   ///< TCP_KEEPIDLE seconds, 1..32767; 0: kernel's
  int keepalive_interval = 0; ///< TCP_KEEPINTVL seconds, 1..32767; 0: kernel's
  int keepalive_count = 0;  ///< TCP_KEEPCNT probes, 1..127; 0: kernel's
  int send_buffer = 0;      ///< SO_SNDBUF bytes; 0: kernel default
  int receive_buffer = 0;   ///< SO_RCVBUF bytes; 0: kernel default
};

/// `errc::invalid_argument` naming the first value out of range, else none.
caf::error validate(const socket_options& opts);

/// Sets `opts` on `fd` (TCP options only when `tcp`); the first failing
/// setsockopt as an error.
caf::error apply_socket_options(int fd, const socket_options& opts, bool tcp);

} // namespace actio::net
