#pragma once

/// UDP sockets as actors: `udp_bind` binds synchronously (errors come back
/// here, typed) and starts a pinned `datagram_socket` (net/datagram_socket.hpp)
/// on one of the runtime's drivers.
///
/// ```
/// auto ep = actio::net::udp_bind(rt, {.host = "127.0.0.1", .port = 0}, echo);
/// // ep->port: the bound port; send (send_to_atom, address, bytes) to ep->actor
/// ```

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/datagram_socket.hpp"

namespace actio::net {

/// Options for `udp_bind` (and `datagram_options`: receive size, queue,
/// kernel buffers).
struct udp_options : datagram_options {
  std::string host = "127.0.0.1"; ///< numeric address or name; "::" for IPv6 any
  uint16_t port = 0;              ///< 0: the OS picks one
  bool reuse_address = false;     ///< SO_REUSEADDR
  bool reuse_port = false;        ///< SO_REUSEPORT: several sockets share the port
};

/// A running datagram socket.
struct datagram_endpoint {
  caf::actor actor; ///< send requests here; `close_atom` to stop
  address local;    ///< the bound address
  uint16_t port = 0; ///< the bound port (UDP; useful with port 0)
};

/// Binds a UDP socket to `opts.host:opts.port` (the first address the name
/// resolves to that binds) and starts its actor with `factory`'s behaviour.
/// Resolves on the caller's thread: do not call from a pinned actor.
caf::expected<datagram_endpoint> udp_bind(runtime& rt, const udp_options& opts,
                                          datagram_factory factory);

} // namespace actio::net
