#pragma once

/// What the two halves of the connection actor share: net/connection.cpp
/// (accepted connections, requests, timeouts, drain, exit) and
/// net/connection_connect.cpp (a client connection's connect). Internal.

#include <sys/socket.h>

#include <caf/fwd.hpp>
#include <caf/message.hpp>
#include <caf/result.hpp>

namespace actio::net::detail {

/// The default handler once the user's behaviour runs: drops the driver
/// events it leaves unhandled, prints and drops anything else.
caf::result<caf::message> drop_events(caf::scheduled_actor* self,
                                      caf::message_view& x);

/// True for IPv4 and IPv6 addresses (TCP options apply), false for AF_UNIX.
bool is_tcp(const sockaddr_storage& addr);

} // namespace actio::net::detail
