#pragma once

// The nicks taken on peer nodes, as they report them (NickSync, NickClaim
// in proto/chat_node.proto). A nick two nodes granted at the same moment
// (neither knew of the other's claim yet) stays held by both; it is free
// again only when both released it.

#include <map>
#include <set>
#include <string>

#include <caf/node_id.hpp>

#include "node_protocol.hpp"

namespace chat {

class remote_nicks {
public:
  explicit remote_nicks(size_t max_per_node) : max_per_node_(max_per_node) {
  }

  bool taken(const std::string& nick) const {
    return holders_.count(nick) != 0;
  }

  /// `node` holds exactly these nicks now.
  void sync(const caf::node_id& node, const pb::NickSync& s);

  /// `node` released and/or claimed a nick.
  void claim(const caf::node_id& node, const pb::NickClaim& c);

  /// `node` is gone: its nicks are free (unless another node holds them).
  void drop(const caf::node_id& node);

private:
  void add(const caf::node_id& node, const std::string& nick);
  void remove(const caf::node_id& node, const std::string& nick);

  size_t max_per_node_;
  std::map<std::string, std::set<caf::node_id>> holders_;
  std::map<caf::node_id, std::set<std::string>> by_node_;
};

} // namespace chat
