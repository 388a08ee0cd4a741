#pragma once

/// Unix datagram sockets (AF_UNIX, SOCK_DGRAM) as actors: the same
/// `datagram_socket` actor as UDP (net/datagram_socket.hpp), bound to a
/// filesystem path, a Linux abstract name ("@name"), or an abstract name the
/// kernel picks (autobind, `path` empty: what a client needs to get replies).
///
/// Path lifetime: a path this call bound is unlinked when the actor ends
/// (close, error, shutdown). A path that exists already fails with
/// `address_in_use`, unless `unlink_existing` and it is a socket file.

#include <string>

#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/datagram_socket.hpp"
#include "actio/net/udp_socket.hpp"

namespace actio::net {

/// Options for `unix_datagram_bind` (and `datagram_options`).
struct unix_datagram_options : datagram_options {
  /// Filesystem path, "@name" (abstract), or empty (autobind: an abstract
  /// name chosen by the kernel).
  std::string path;
  /// Removes a stale socket file at `path` before binding (never a file
  /// that is not a socket).
  bool unlink_existing = false;
};

/// Binds an AF_UNIX datagram socket and starts its actor with `factory`'s
/// behaviour. `datagram_endpoint::local` is the bound address (its
/// `unix_name()` the path or "@name"); `port` is 0.
caf::expected<datagram_endpoint>
unix_datagram_bind(runtime& rt, const unix_datagram_options& opts,
                   datagram_factory factory);

} // namespace actio::net
