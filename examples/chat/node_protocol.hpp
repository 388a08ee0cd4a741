#pragma once

// The messages between chat nodes (proto/chat_node.proto) as CAF messages,
// and the bounds a node applies to what its peers tell it.

#include <cstddef>
#include <cstdint>
#include <string>

#include <map>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/node_id.hpp>

#include "actio/proto/chat_node.pb.h"
#include "actio/proto/message.hpp"
#include "atoms.hpp"

namespace chat {

/// A NodeMessage as a CAF message (the wire format inside; a payload that
/// does not parse is dropped by the receiving middleman).
using node_msg = actio::proto::message<pb::NodeMessage>;

constexpr uint32_t node_protocol_version = 1;

/// The peer nodes this node talks to: node -> its federation actor.
using peer_map = std::map<caf::node_id, caf::actor>;

/// The longest message text taken from a peer. Its clients' --max-line and
/// --max-frame apply on its side; this only bounds a broken peer.
constexpr size_t max_remote_text = 64 * 1024;

/// What a node takes from each peer (see --max-peers, --max-peer-members).
struct peer_limits {
  size_t max_peers = 64;            ///< peer nodes at once; more: ignored
  size_t max_peer_members = 65536;  ///< nicks, and members per room, of one
                                    ///< peer; more: ignored
};

/// Makes node_msg known to CAF under one name on every node.
inline void register_node_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<node_msg>("actio.proto.chat.NodeMessage");
}

/// RoomEvent{member, ev} for `room`.
inline node_msg make_room_event(const std::string& room, uint64_t member,
                                const pb::Event& ev) {
  node_msg m;
  m->set_room(room);
  m->mutable_event()->set_member(member);
  *m->mutable_event()->mutable_event() = ev;
  return m;
}

} // namespace chat
