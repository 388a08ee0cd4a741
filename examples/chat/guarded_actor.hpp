#pragma once

// Event-based actors that other nodes reach only with what they expect
// from them. The handles of the federation actor, the registry and the
// rooms travel to peer nodes (the federation is published; the others are
// the senders of what they tell peers), so a peer could send them anything.
// On top of the node layer's guard (actio::node_guarded: no exit message
// from another node, nor an anonymous one -- so a stop is sent with a
// sender, actio::send_local_exit), their mailboxes drop anything from an
// actor on another node, except, for the peer-facing federation actor, a
// NodeMessage or a down message (a monitored peer going away).
// Anonymous messages (no sender) other than exits pass: the handlers take
// nothing without a sender of this node or a peer.

#include <caf/mailbox_element.hpp>
#include <caf/system_messages.hpp>

#include "actio/proto/node_guard.hpp"
#include "node_protocol.hpp"

namespace chat {

template <bool PeerFacing>
class guarded_actor : public actio::node_actor {
public:
  using actio::node_actor::node_actor;

protected:
  bool admits_remote(const caf::mailbox_element& x) const override {
    auto& content = x.content();
    return PeerFacing
           && (content.match_elements<node_msg>()
               || content.match_elements<caf::down_msg>());
  }
};

/// For the registry and the rooms: nothing from other nodes.
using local_actor_base = guarded_actor<false>;

/// For the federation actor: NodeMessages and down messages of peers.
using peer_facing_actor_base = guarded_actor<true>;

} // namespace chat
