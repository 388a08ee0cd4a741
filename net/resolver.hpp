#pragma once

/// Name resolution for client connections. getaddrinfo blocks (for seconds
/// when a DNS server does not answer), so it never runs on a driver thread:
/// `resolve_async` runs it on a detached helper actor and sends the result.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/socket.h>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

namespace actio::net {

/// One address a client connection may connect to.
struct connect_target {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

/// The result `resolve_async` sends: the addresses in getaddrinfo's order,
/// or `errc::resolve_failed` naming host and reason.
struct resolved {
  std::vector<connect_target> targets;
  caf::error error;
};

/// `host` as an IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"), without
/// asking any resolver; nullopt when it is not one.
std::optional<connect_target> numeric_target(const std::string& host,
                                             uint16_t port);

/// Resolves `host` for a TCP connection to `port` (blocks).
caf::expected<std::vector<connect_target>>
resolve_stream(const std::string& host, uint16_t port);

/// Resolves on a detached helper actor and sends `resolved` to `reply_to`.
/// The actor system waits for a running resolution when it shuts down.
void resolve_async(caf::actor_system& sys, std::string host, uint16_t port,
                   caf::actor reply_to);

/// "host:port", with brackets around IPv6 literals.
std::string host_port(const std::string& host, uint16_t port);

} // namespace actio::net

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actio::net::resolved)
