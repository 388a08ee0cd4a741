#include "remote_members.hpp"

#include "clean_text.hpp"
#include "text_protocol.hpp"

namespace chat {

remote_members::remote_members(std::string room, size_t max_per_node)
  : room_(std::move(room)), max_per_node_(max_per_node) {
}

pb::Event remote_members::joined(const std::string& nick) const {
  pb::Event ev;
  ev.mutable_joined()->set_room(room_);
  ev.mutable_joined()->set_nick(nick);
  return ev;
}

pb::Event remote_members::left(const std::string& nick) const {
  pb::Event ev;
  ev.mutable_left()->set_room(room_);
  ev.mutable_left()->set_nick(nick);
  return ev;
}

std::vector<pb::Event> remote_members::sync(const caf::node_id& node,
                                            const pb::RoomSync& s) {
  std::map<uint64_t, std::string> next;
  for (auto& m : s.members())
    if (next.size() < max_per_node_ && valid_name(m.nick()))
      next.emplace(m.id(), m.nick());
  std::vector<pb::Event> events;
  auto& known = by_node_[node];
  for (auto& [id, nick] : known)
    if (next.count(id) == 0)
      events.push_back(left(nick));
  for (auto& [id, nick] : next) {
    auto i = known.find(id);
    if (i == known.end()) {
      events.push_back(joined(nick));
    } else if (i->second != nick) {
      pb::Event ev;
      ev.mutable_nick_changed()->set_old_nick(i->second);
      ev.mutable_nick_changed()->set_new_nick(nick);
      events.push_back(std::move(ev));
    }
  }
  if (next.empty())
    by_node_.erase(node);
  else
    known = std::move(next);
  return events;
}

std::optional<pb::Event> remote_members::apply(const caf::node_id& node,
                                               const pb::RoomEvent& e) {
  auto& known = by_node_[node];
  auto i = known.find(e.member());
  std::optional<pb::Event> result;
  auto& ev = e.event();
  switch (ev.kind_case()) {
    case pb::Event::kJoined:
      if (i == known.end() && known.size() < max_per_node_
          && valid_name(ev.joined().nick())) {
        known.emplace(e.member(), ev.joined().nick());
        result = joined(ev.joined().nick());
      }
      break;
    case pb::Event::kLeft:
      if (i != known.end()) {
        result = left(i->second);
        known.erase(i);
      }
      break;
    case pb::Event::kMessage:
      if (i != known.end() && ev.message().text().size() <= max_remote_text) {
        pb::Event out;
        auto* m = out.mutable_message();
        m->set_room(room_);
        m->set_nick(i->second);
        m->set_text(clean_text(ev.message().text())); // an older peer's
        m->set_seq(ev.message().seq());
        result = std::move(out);
      }
      break;
    case pb::Event::kNickChanged:
      if (i != known.end() && valid_name(ev.nick_changed().new_nick())
          && ev.nick_changed().new_nick() != i->second) {
        pb::Event out;
        out.mutable_nick_changed()->set_old_nick(i->second);
        out.mutable_nick_changed()->set_new_nick(ev.nick_changed().new_nick());
        i->second = ev.nick_changed().new_nick();
        result = std::move(out);
      }
      break;
    default:
      break; // nothing a room says to its members
  }
  if (known.empty())
    by_node_.erase(node);
  return result;
}

std::vector<pb::Event> remote_members::drop(const caf::node_id& node) {
  std::vector<pb::Event> events;
  auto i = by_node_.find(node);
  if (i == by_node_.end())
    return events;
  for (auto& [id, nick] : i->second)
    events.push_back(left(nick));
  by_node_.erase(i);
  return events;
}

void remote_members::nicks(std::vector<std::string>& out) const {
  for (auto& [node, members] : by_node_)
    for (auto& [id, nick] : members)
      out.push_back(nick);
}

} // namespace chat
