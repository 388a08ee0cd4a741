#pragma once

/// Unix stream listener: like `tcp_listen`, on a filesystem path or a
/// Linux abstract name ("@name"), spawning the same `connection` actors.
///
/// Binding a path that exists:
/// - a socket nobody listens on (left by a dead process: connecting is
///   refused) is stale: it is removed and bound again;
/// - a socket a live listener serves: `errc::address_in_use`;
/// - anything else (file, directory, ...): `errc::address_in_use`, and it
///   is never removed.
/// The listener removes its path when it ends (if the path is still its
/// socket).

#include <string>

#include <caf/expected.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/tcp_listener.hpp"

namespace actio::net {

/// Options for `unix_listen`.
struct unix_listen_options {
  std::string path;   ///< "PATH" or "@name" (abstract, no file)
  int backlog = 1024; ///< listen(2) backlog, at least 1
  int mode = -1;      ///< socket file mode (e.g. 0660); -1: as umask leaves it
  size_t max_connections = 0; ///< 0: no limit; excess are accepted and closed
};

/// Binds synchronously (errors come back here, typed), then starts the
/// listener actor. The returned `listener.port` is 0.
caf::expected<listener> unix_listen(runtime& rt, const unix_listen_options& opts,
                                    connection_factory factory,
                                    connection_options conn_opts = {});

} // namespace actio::net
