#pragma once

// The chat's actor protocol. Rooms and the registry speak it with member
// actor handles of this node (a connection); members on other nodes are
// known by (node, id) through the federation (federation.hpp).
//
// Room:
//   (join_atom, nick, member) -> actor members get Joined (also the joiner);
//                                      the answer is the room (from the
//                                      registry, which forwards it)
//   (leave_atom, member) -> bool       members get Left (also the leaver)
//   (say_atom, member, text, seq)      members get Message{nick, text, seq}
//   (nick_atom, member, new_nick) -> bool  members get NickChanged
//   (list_atom) -> vector<string>      the members' nicks (all nodes)
//   (sync_atom) -> bool                does nothing: the answer comes
//                                      after all the sender sent before
//   The answers (true, the room) come after the events the request caused, so a
//   member that waits for them hears its own events before what it does
//   next. Send them as requests only: an answer to a plain message would
//   reach an actor that does not expect it.
//   A member that goes down has left.
//   A room with no member on any node tells the registry
//   (idle_atom, name, n): n counts the joins and remote messages the
//   registry forwarded to it so far, so the registry knows none is on its
//   way; the registry then stops it (exit message) or ignores it.
//   From the registry (federation):
//   (peer_up_atom, node, federation)   a peer node: send it this room's
//                                      members, then every event
//   (peer_down_atom, node)             its members have left
//   (remote_atom, node, node_msg)      a RoomSync or RoomEvent from it
// Registry:
//   (nick_atom, nick, member) -> bool  false: taken by another member
//   (join_atom, room, nick, member) -> actor
//                                      joins the room (made on first use),
//                                      answered by the room; an invalid
//                                      handle at the room limit
//   (idle_atom, room, n)               from an empty room, see above
//   (list_atom) -> vector<string>      the room names
//   A member that goes down frees its nick.
//   From the federation actor (federation.hpp):
//   (peer_up_atom, node, federation)   a peer node came up
//   (peer_down_atom, node)             it went away
//   (remote_atom, node, node_msg)      a message from it (checked)

#include <caf/atom.hpp>

#include "actio/proto/chat.pb.h"
#include "actio/proto/message.hpp"

namespace chat {

using join_atom = caf::atom_constant<caf::atom("chat_join")>;
using leave_atom = caf::atom_constant<caf::atom("chat_leave")>;
using say_atom = caf::atom_constant<caf::atom("chat_say")>;
using nick_atom = caf::atom_constant<caf::atom("chat_nick")>;
using list_atom = caf::atom_constant<caf::atom("chat_list")>;
using idle_atom = caf::atom_constant<caf::atom("chat_idle")>;
using peer_up_atom = caf::atom_constant<caf::atom("chat_pUp")>;
using peer_down_atom = caf::atom_constant<caf::atom("chat_pDown")>;
using remote_atom = caf::atom_constant<caf::atom("chat_rmt")>;
using sync_atom = caf::atom_constant<caf::atom("chat_sync")>;

namespace pb = actio::proto::chat;

/// An event as a CAF message (serialisable: protobuf wire format inside).
using event_msg = actio::proto::message<pb::Event>;

} // namespace chat
