#pragma once

// A front-end client connection: newline-terminated lines in, each one
// echoed by a worker node (through the pool), replies written back in the
// order the lines came, whatever order the workers answer in.
//
// A line the pool cannot answer gets "error: TEXT\n" in its place; the
// connection goes on. A final line without newline at the client's EOF is
// echoed without newline too. At most `window` bytes of the client's input
// are unanswered at a time (read credit); a line longer than `max_line`
// gets an error line and the connection is closed. On EOF and on drain
// (`draining`, SIGINT/SIGTERM under net::serve) the lines taken are answered
// and written, then connection::finish(): the client sees EOF and the
// connection closes when it closes, as in the local echo.

#include <caf/actor.hpp>
#include <caf/behavior.hpp>

#include "actio/net/connection.hpp"

namespace echo_cluster {

constexpr size_t max_line = 64 * 1024;
constexpr size_t window = 1024 * 1024;

caf::behavior line_client(actio::net::connection* self, caf::actor pool);

} // namespace echo_cluster
