#include "node_settings.hpp"

#include <caf/config_option_adder.hpp>

#include "actio/drivers/errc.hpp"

namespace chat {

namespace {

caf::error invalid(std::string what) {
  return actio::make_actio_error(actio::errc::invalid_argument,
                                 std::move(what));
}

} // namespace

void add_node_options(caf::config_option_set& opts, node_settings& s,
                      actio::node_options& node) {
  caf::config_option_adder{opts, "global"}
    .add(s.node_port, "node-port",
         "be a chat node: publish the federation actor on this port, "
         "0 = any (default: not a node)")
    .add(node.host, "node-host",
         "address the node port binds to (default 127.0.0.1)")
    .add(s.peers, "peer",
         "a peer chat node's node port, HOST:PORT; repeatable or "
         "comma-separated; reconnected forever")
    .add(s.limits.max_peers, "max-peers",
         "peer nodes at once; more are ignored (default 64)")
    .add(s.limits.max_peer_members, "max-peer-members",
         "nicks, and members per room, taken from one peer; more are "
         "ignored (default 65536)")
    .add(node.secure, "secure",
         "TLS between nodes (= actio.node.secure; needs the next three)")
    .add(node.certificate, "certificate",
         "this node's certificate, PEM (= actio.node.certificate)")
    .add(node.key, "key", "this node's private key, PEM (= actio.node.key)")
    .add(node.passphrase, "passphrase",
         "passphrase of the key (= actio.node.passphrase)")
    .add(node.cafile, "cafile",
         "CA trusted for peers, PEM (= actio.node.cafile)");
}

std::vector<std::string> merge_peer_args(int argc, char** argv) {
  std::vector<std::string> rest;
  std::string peers;
  bool any = false;
  auto add = [&](const std::string& value) {
    if (!peers.empty() && !value.empty())
      peers.push_back(',');
    peers.append(value);
    any = true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--peer" && i + 1 < argc)
      add(argv[++i]);
    else if (arg.rfind("--peer=", 0) == 0)
      add(arg.substr(7));
    else
      rest.push_back(std::move(arg));
  }
  if (any)
    rest.insert(rest.begin(), "--peer=" + peers);
  rest.insert(rest.begin(), argc > 0 ? argv[0] : "actio-chat");
  return rest;
}

caf::expected<federation_options> federation_settings(
  const node_settings& s, const actio::node_options& node) {
  if (!s.wanted()) {
    if (!s.peers.empty() || node.secure || !node.certificate.empty()
        || !node.key.empty() || !node.cafile.empty())
      return invalid("--peer and the TLS options need --node-port");
    return federation_options{};
  }
  if (s.node_port > 65535)
    return invalid("--node-port must be 0..65535");
  if (s.limits.max_peers == 0 || s.limits.max_peer_members == 0)
    return invalid("--max-peers and --max-peer-members must be positive");
  federation_options fo;
  fo.node = node;
  fo.node.port = static_cast<uint16_t>(s.node_port);
  fo.limits = s.limits;
  size_t start = 0;
  while (start <= s.peers.size()) {
    auto comma = s.peers.find(',', start);
    auto item = s.peers.substr(start, comma == std::string::npos
                                        ? std::string::npos
                                        : comma - start);
    if (!item.empty()) {
      auto addr = actio::node::parse_address(item);
      if (!addr)
        return invalid("--peer: " + actio::describe(addr.error()));
      fo.peers.push_back(*addr);
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return fo;
}

} // namespace chat
