#pragma once

// The chat's actor protocol. Rooms and the registry speak it with any member
// actor handle (a local connection today; a proxy for a member on another
// node later): nothing here assumes the member is a local connection.
//
// Room:
//   (join_atom, nick, member)          members get Joined (also the joiner)
//   (leave_atom, member)               members get Left (also the leaver)
//   (say_atom, member, text, seq)      members get Message{nick, text, seq}
//   (nick_atom, member, new_nick)      members get NickChanged
//   (list_atom) -> vector<string>      the members' nicks
//   A member that goes down has left.
// Registry:
//   (nick_atom, nick, member) -> bool  false: taken by another member
//   (room_atom, name) -> actor         the room (made on first use; an
//                                      invalid handle at the room limit)
//   (list_atom) -> vector<string>      the room names
//   A member that goes down frees its nick.

#include <caf/atom.hpp>

#include "actio/proto/chat.pb.h"
#include "actio/proto/message.hpp"

namespace chat {

using join_atom = caf::atom_constant<caf::atom("chat_join")>;
using leave_atom = caf::atom_constant<caf::atom("chat_leave")>;
using say_atom = caf::atom_constant<caf::atom("chat_say")>;
using nick_atom = caf::atom_constant<caf::atom("chat_nick")>;
using list_atom = caf::atom_constant<caf::atom("chat_list")>;
using room_atom = caf::atom_constant<caf::atom("chat_room")>;

namespace pb = actio::proto::chat;

/// An event as a CAF message (serialisable: protobuf wire format inside).
using event_msg = actio::proto::message<pb::Event>;

} // namespace chat
