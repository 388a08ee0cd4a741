#pragma once

// Distributed actio-echo: worker nodes and a front-end (see cluster.cpp).
//
//   actio-echo --worker [--node-port P] [--secure --certificate C --key K
//              --cafile CA]
//       an echo worker node: publishes an actor answering each line with
//       itself; prints "actio-echo: worker listening on HOST:PORT".
//   actio-echo --port 7000 --workers HOST:PORT[,HOST:PORT...] [--secure ...]
//       the front-end: TCP clients send newline-terminated lines, each is
//       echoed by a worker node; replies come back in order per client.

#include <chrono>
#include <string>

#include <caf/config_option_adder.hpp>
#include <caf/config_option_set.hpp>

#include "actio/actors/cli/tool.hpp"
#include "actio/proto/node.hpp"

namespace echo_cluster {

struct settings {
  bool worker = false;
  std::string workers; // "HOST:PORT,HOST:PORT"

  bool wanted() const noexcept {
    return worker || !workers.empty();
  }
};

/// Adds --worker, --workers, --node-port and the short TLS spellings
/// (--secure, --certificate, --key, --passphrase, --cafile) for `node`.
void add_options(caf::config_option_set& opts, settings& s,
                 actio::node_options& node);

/// Runs the worker or the front-end under `actio::net::serve` until
/// SIGINT/SIGTERM (caught with `catch_stop_signals` in the caller); `drain`:
/// how long the front-end's connections get to finish. `cfg` is parsed but the actor system is not started yet.
/// Returns the exit status (usage errors reported through `tool`).
int run(const actio::cli::tool& tool, actio::node_config& cfg,
        const settings& s, const std::string& host, uint16_t port,
        std::chrono::milliseconds drain);

} // namespace echo_cluster
