#pragma once

// The members of one room on other nodes, as their nodes report them
// (RoomSync, RoomEvent in proto/chat_node.proto). Each report becomes the
// events this node's members see. Every field is checked: a broken peer
// cannot say what its room could not have said (a message from a member it
// never announced, a bad nick, a text over max_remote_text), and it cannot
// announce more than `max_per_node` members.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/node_id.hpp>

#include "node_protocol.hpp"

namespace chat {

class remote_members {
public:
  remote_members(std::string room, size_t max_per_node);

  /// `node` says these are all its members: the Left, Joined and
  /// NickChanged events that make what we knew match.
  std::vector<pb::Event> sync(const caf::node_id& node, const pb::RoomSync& s);

  /// What `node`'s room told its members, checked: the event for ours, or
  /// nullopt if it is not valid (or changes nothing).
  std::optional<pb::Event> apply(const caf::node_id& node,
                                 const pb::RoomEvent& e);

  /// `node` is gone: a Left event for each of its members.
  std::vector<pb::Event> drop(const caf::node_id& node);

  /// Appends the nicks of all remote members to `out`.
  void nicks(std::vector<std::string>& out) const;

  /// True when no peer has a member here.
  bool empty() const noexcept {
    return by_node_.empty();
  }

private:
  pb::Event joined(const std::string& nick) const;
  pb::Event left(const std::string& nick) const;

  std::string room_;
  size_t max_per_node_;
  std::map<caf::node_id, std::map<uint64_t, std::string>> by_node_;
};

} // namespace chat
