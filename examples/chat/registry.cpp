#include "registry.hpp"

#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actio/actors/log_limiter.hpp"
#include "actio/actors/supervisor.hpp"
#include "atoms.hpp"
#include "guarded_actor.hpp"
#include "remote_nicks.hpp"
#include "room.hpp"
#include "text_protocol.hpp"

namespace chat {

namespace {

/// A room and how many joins and remote messages went to it (see idle_atom
/// in atoms.hpp).
struct room_entry {
  caf::actor room;
  uint64_t forwarded = 0;
};

struct registry_state {
  std::map<std::string, caf::actor> nicks;      // nick -> member (here)
  std::map<caf::actor, std::string> nick_of;    // member -> nick
  std::map<std::string, room_entry> rooms;      // name -> room
  peer_map peers;                               // node -> federation actor
  std::optional<remote_nicks> remote;           // nicks on the peers
  static inline const char* name = "chat.registry";
};

using registry_actor = caf::stateful_actor<registry_state, local_actor_base>;

/// Tells every peer that a nick here was released and/or claimed.
void announce(registry_actor* self, const std::string& released,
              const std::string& claimed) {
  if (self->state.peers.empty())
    return;
  node_msg m;
  m->mutable_claim()->set_released(released);
  m->mutable_claim()->set_claimed(claimed);
  auto msg = caf::make_message(std::move(m));
  for (auto& p : self->state.peers)
    self->send(p.second, msg);
}

void on_remote(registry_actor* self, const caf::node_id& node,
               const node_msg& msg, size_t max_rooms,
               const peer_limits& limits, const chat_metrics* metrics) {
  auto& st = self->state;
  if (st.peers.count(node) == 0)
    return; // gone already
  auto& m = *msg;
  switch (m.kind_case()) {
    case pb::NodeMessage::kNicks:
      st.remote->sync(node, m.nicks());
      return;
    case pb::NodeMessage::kClaim:
      st.remote->claim(node, m.claim());
      if (st.nicks.count(m.claim().claimed()) != 0)
        if (auto v = actio::warnings().admit("chat nick collision"))
          std::cout << "actio-chat: nick " << m.claim().claimed()
                    << " was granted here and on a peer at the same time; "
                       "both keep it"
                    << v.note() << std::endl;
      return;
    case pb::NodeMessage::kSync:
    case pb::NodeMessage::kEvent: {
      auto i = st.rooms.find(m.room());
      if (i == st.rooms.end()) {
        // A room is made for what can give it a member: a RoomSync with
        // members or a Joined (an empty room is freed, here and there;
        // making one for an empty sync would bounce between nodes). Other
        // events for a room we do not have belong to one we could not make
        // (room limit) or that is gone.
        bool adds = m.has_sync() ? m.sync().members_size() > 0
                                 : m.event().event().has_joined();
        if (!adds || !valid_name(m.room()) || st.rooms.size() >= max_rooms)
          return;
        auto r = spawn_room(self->system(), self, m.room(), st.peers,
                            limits.max_peer_members, metrics);
        i = st.rooms.emplace(m.room(), room_entry{r}).first;
      }
      ++i->second.forwarded;
      self->send(i->second.room, remote_atom::value, node, msg);
      return;
    }
    default:
      return; // a hello is the federation's; anything else is not ours
  }
}

caf::behavior registry(registry_actor* self, size_t max_rooms,
                       peer_limits limits, const chat_metrics* metrics) {
  self->state.remote.emplace(limits.max_peer_members);
  self->set_default_handler(caf::drop);
  // Peers know this actor's handle (it sends to them) but reach it only
  // through the federation actor: anything from another node is dropped.
  auto here = [=] {
    auto& src = self->current_sender();
    return src && src->node() == self->node();
  };
  // Stopped by the main program: the rooms stop with it (peers may keep
  // references to them, so they would not end on their own).
  self->set_exit_handler([=](const caf::exit_msg& em) {
    if (em.source.node() != self->node() || !em.reason)
      return;
    for (auto& r : self->state.rooms)
      self->send_exit(r.second.room, em.reason);
    self->quit(em.reason);
  });
  self->set_down_handler([=](const caf::down_msg& dm) {
    if (!here())
      return;
    auto who = caf::actor_cast<caf::actor>(dm.source);
    auto i = self->state.nick_of.find(who);
    if (i == self->state.nick_of.end())
      return;
    auto nick = std::move(i->second);
    self->state.nicks.erase(nick);
    self->state.nick_of.erase(i);
    announce(self, nick, {});
  });
  return {
    [=](nick_atom, const std::string& nick, const caf::actor& who) {
      auto& st = self->state;
      if (!here() || !who)
        return false;
      auto taken = st.nicks.find(nick);
      if (taken != st.nicks.end())
        return taken->second == who; // one's own nick again: fine
      if (st.remote->taken(nick))
        return false;
      std::string released;
      auto old = st.nick_of.find(who);
      if (old != st.nick_of.end()) {
        released = old->second;
        st.nicks.erase(old->second);
        old->second = nick;
      } else {
        self->monitor(who);
        st.nick_of.emplace(who, nick);
      }
      st.nicks.emplace(nick, who);
      announce(self, released, nick);
      return true;
    },
    [=](join_atom, const std::string& name, const std::string& nick,
        const caf::actor& who) -> caf::result<caf::actor> {
      auto& st = self->state;
      if (!here())
        return caf::actor{};
      auto i = st.rooms.find(name);
      if (i == st.rooms.end()) {
        if (st.rooms.size() >= max_rooms)
          return caf::actor{};
        auto r = spawn_room(self->system(), self, name, st.peers,
                            limits.max_peer_members, metrics);
        i = st.rooms.emplace(name, room_entry{r}).first;
      }
      ++i->second.forwarded;
      auto rp = self->make_response_promise();
      rp.delegate(i->second.room, join_atom::value, nick, who);
      return rp;
    },
    [=](idle_atom, const std::string& name, uint64_t forwarded) {
      auto& st = self->state;
      auto i = st.rooms.find(name);
      if (!here() || i == st.rooms.end()
          || i->second.room.address() != self->current_sender()
          || i->second.forwarded != forwarded)
        return; // not that room, or a join is on its way to it
      self->send_exit(i->second.room, caf::exit_reason::user_shutdown);
      st.rooms.erase(i);
    },
    [=](list_atom) {
      std::vector<std::string> names;
      if (!here())
        return names;
      for (auto& r : self->state.rooms)
        names.push_back(r.first);
      return names;
    },
    [=](peer_up_atom, const caf::node_id& node, const caf::actor& peer) {
      auto& st = self->state;
      if (!here() || !peer || !st.peers.emplace(node, peer).second)
        return;
      node_msg m;
      auto* nicks = m->mutable_nicks();
      for (auto& n : st.nicks)
        nicks->add_nicks(n.first);
      self->send(peer, std::move(m));
      for (auto& r : st.rooms)
        self->send(r.second.room, peer_up_atom::value, node, peer);
    },
    [=](peer_down_atom, const caf::node_id& node) {
      auto& st = self->state;
      if (!here() || st.peers.erase(node) == 0)
        return;
      st.remote->drop(node);
      for (auto& r : st.rooms)
        self->send(r.second.room, peer_down_atom::value, node);
    },
    [=](remote_atom, const caf::node_id& node, const node_msg& msg) {
      if (here())
        on_remote(self, node, msg, max_rooms, limits, metrics);
    },
  };
}

} // namespace

caf::actor spawn_registry(caf::actor_system& sys, size_t max_rooms,
                          peer_limits limits, const chat_metrics* metrics) {
  // Supervised: a crashed registry is restarted (empty) behind the same
  // handle; the requests it swallowed get errc::restarted.
  auto sup = actio::spawn_supervisor(
    sys, {{"registry", [&sys, max_rooms, limits, metrics] {
             return sys.spawn(registry, max_rooms, limits, metrics);
           }}});
  return sup ? sup->child("registry") : caf::actor{};
}

} // namespace chat
