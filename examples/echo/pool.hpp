#pragma once

// The front-end's worker pool: one actor that forwards each line to a live
// worker node and answers with the worker's reply.
//
// Request: std::string line → std::string reply, or an error
// (`errc::unreachable` "no echo worker available" when no worker is up, or
// after `max_attempts` tries). A worker that goes down (its node_link says
// node_down, or a request to it fails because it is gone) is skipped and
// the lines it still owed are sent to another worker; a worker that comes
// back (node_up) is used again. Prints "worker ADDRESS up/down" on stdout.

#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actio/proto/node.hpp"

namespace echo_cluster {

struct pool_options {
  std::vector<std::pair<std::string, uint16_t>> workers;
  actio::node_options node;
  caf::timespan job_timeout = std::chrono::seconds{10};
  size_t max_attempts = 4;
};

/// The pool starts connecting to its workers on `caf::connect_atom`.
caf::actor spawn_pool(caf::actor_system& sys, pool_options opts);

} // namespace echo_cluster
