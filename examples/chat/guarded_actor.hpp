#pragma once

// Event-based actors that other nodes reach only with what they expect
// from them. The handles of the federation actor, the registry and the
// rooms travel to peer nodes (the federation is published; the others are
// the senders of what they tell peers), so a peer could send them anything
// -- and CAF 0.17 stops an actor on an exit message with reason `kill`
// without asking its exit handler. So their mailboxes drop, before CAF
// looks at a message:
//   - an exit message not sent by an actor of this node (so a stop must be
//     sent with a sender: scoped_actor::send_exit, not anon_send_exit);
//   - anything else from an actor on another node, except, for the
//     peer-facing federation actor, a NodeMessage or a down message (a
//     monitored peer going away).
// Anonymous messages (no sender) other than exits pass: the handlers take
// nothing without a sender of this node or a peer.

#include <caf/event_based_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/mailbox_element.hpp>

#include "node_protocol.hpp"

namespace chat {

template <bool PeerFacing>
class guarded_actor : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;
  using caf::event_based_actor::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (ptr && !admits(*ptr))
      return; // dropped; a request among them stays unanswered
    caf::event_based_actor::enqueue(std::move(ptr), eu);
  }

private:
  bool admits(const caf::mailbox_element& x) const {
    auto& src = x.sender;
    if (src && src->node() == node())
      return true;
    auto& content = x.content();
    if (content.match_elements<caf::exit_msg>())
      return false;
    if (!src)
      return true;
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
