#include "remote_nicks.hpp"

#include "text_protocol.hpp"

namespace chat {

void remote_nicks::add(const caf::node_id& node, const std::string& nick) {
  auto& mine = by_node_[node];
  if (mine.size() >= max_per_node_ || !valid_name(nick))
    return;
  if (mine.insert(nick).second)
    holders_[nick].insert(node);
}

void remote_nicks::remove(const caf::node_id& node, const std::string& nick) {
  auto i = by_node_.find(node);
  if (i == by_node_.end() || i->second.erase(nick) == 0)
    return;
  if (i->second.empty())
    by_node_.erase(i);
  auto h = holders_.find(nick);
  if (h != holders_.end()) {
    h->second.erase(node);
    if (h->second.empty())
      holders_.erase(h);
  }
}

void remote_nicks::sync(const caf::node_id& node, const pb::NickSync& s) {
  drop(node);
  for (auto& nick : s.nicks())
    add(node, nick);
}

void remote_nicks::claim(const caf::node_id& node, const pb::NickClaim& c) {
  if (!c.released().empty())
    remove(node, c.released());
  if (!c.claimed().empty())
    add(node, c.claimed());
}

void remote_nicks::drop(const caf::node_id& node) {
  auto i = by_node_.find(node);
  if (i == by_node_.end())
    return;
  auto nicks = std::move(i->second);
  by_node_.erase(i);
  for (auto& nick : nicks) {
    auto h = holders_.find(nick);
    if (h == holders_.end())
      continue;
    h->second.erase(node);
    if (h->second.empty())
      holders_.erase(h);
  }
}

} // namespace chat
