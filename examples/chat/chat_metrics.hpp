#pragma once

// The chat's series for `--metrics-port` (made once at start-up; the
// registry and the rooms keep a pointer, null when not counted):
//
// | series | type | what |
// |---|---|---|
// | `actio_chat_rooms` | gauge | rooms that exist on this node (also those made for peers' members) |
// | `actio_chat_members` | gauge | room memberships of clients on this node (one client in two rooms: 2) |
// | `actio_chat_messages_posted_total` | counter | lines members on this node said in a room |
// | `actio_chat_messages_delivered_total` | counter | room messages handed to members on this node (one per listener, peers' messages too) |
//
// Rooms and members are counted by the room actors themselves (made: +1,
// gone: minus what they held), so a restarted registry cannot skew them.

#include "actio/actors/metrics.hpp"

namespace chat {

struct chat_metrics {
  explicit chat_metrics(actio::metrics::registry& reg);

  actio::metrics::gauge& rooms;
  actio::metrics::gauge& members;
  actio::metrics::counter& posted;
  actio::metrics::counter& delivered;
};

} // namespace chat
