#pragma once

// actio-chat's node options: --node-port turns a chat server into a chat
// node that forms one chat with its --peer nodes (federation.hpp).
//
//   --node-port P        publish this node's federation actor on P (0: any)
//   --node-host H        ... on address H (default 127.0.0.1)
//   --peer HOST:PORT     a peer's node port; repeatable, or comma-separated
//   --secure --certificate F --key F --cafile F [--passphrase S]
//                        TLS between nodes, as actio-echo (node.hpp)
//   --max-peers N, --max-peer-members N   bounds on what peers tell us

#include <cstdint>
#include <string>
#include <vector>

#include <caf/config_option_set.hpp>
#include <caf/expected.hpp>

#include "actio/proto/node.hpp"
#include "federation.hpp"

namespace chat {

struct node_settings {
  int64_t node_port = -1; ///< -1: not a node
  std::string peers;      ///< "HOST:PORT,HOST:PORT" (all --peer merged)
  peer_limits limits;

  bool wanted() const noexcept {
    return node_port >= 0;
  }
};

/// Adds the options above; the host, port and TLS ones write to `node`.
void add_node_options(caf::config_option_set& opts, node_settings& s,
                      actio::node_options& node);

/// argv with every `--peer X` / `--peer=X` merged into one `--peer=X,Y`
/// (CAF keeps only the last of a repeated option), in first place.
std::vector<std::string> merge_peer_args(int argc, char** argv);

/// Checks the settings against each other and turns them into federation
/// options (the TLS files are checked later, by node_config::prepare).
/// Errors are readable texts.
caf::expected<federation_options> federation_settings(
  const node_settings& s, const actio::node_options& node);

} // namespace chat
