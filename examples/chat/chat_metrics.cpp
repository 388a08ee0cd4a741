#include "chat_metrics.hpp"

namespace chat {

chat_metrics::chat_metrics(actio::metrics::registry& reg)
  : rooms(reg.gauge("actio_chat_rooms", "Rooms that exist on this node")),
    members(reg.gauge("actio_chat_members",
                      "Room memberships of clients on this node")),
    posted(reg.counter("actio_chat_messages_posted_total",
                       "Lines members on this node said in a room")),
    delivered(reg.counter("actio_chat_messages_delivered_total",
                          "Room messages handed to members on this node")) {
}

} // namespace chat
