#include "room.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "atoms.hpp"
#include "guarded_actor.hpp"
#include "remote_members.hpp"

namespace chat {

namespace {

struct room_state {
  caf::actor registry;
  std::string room;
  uint64_t forwarded = 0; // joins and remote messages from the registry
  uint64_t reported = 0;  // `forwarded` when we last said we were empty
  std::map<caf::actor, std::string> members; // on this node: handle -> nick
  peer_map peers;                            // node -> federation actor
  std::optional<remote_members> remote;      // on the peers
  const chat_metrics* metrics = nullptr;     // null: not counted
  static inline const char* name = "chat.room";

  room_state() = default;
  room_state(const room_state&) = delete;
  room_state& operator=(const room_state&) = delete;

  // Destroyed when the room ends: it and its members leave the gauges.
  ~room_state() {
    if (metrics != nullptr) {
      metrics->rooms.add(-1);
      metrics->members.add(-static_cast<int64_t>(members.size()));
    }
  }

  void joined(const caf::actor& who, const std::string& nick) {
    if (members.emplace(who, nick).second && metrics != nullptr)
      metrics->members.add(1);
  }

  void left(std::map<caf::actor, std::string>::iterator i) {
    members.erase(i);
    if (metrics != nullptr)
      metrics->members.add(-1);
  }
};

using room_actor = caf::stateful_actor<room_state, local_actor_base>;

/// To the members on this node (one message, shared by all).
void deliver(room_actor* self, const pb::Event& ev) {
  auto msg = caf::make_message(event_msg{ev});
  auto& st = self->state;
  for (auto& m : st.members)
    self->send(m.first, msg);
  if (st.metrics != nullptr && ev.has_message())
    st.metrics->delivered.add(st.members.size());
}

/// To the members on this node and on every peer node.
void broadcast(room_actor* self, const caf::actor& who, const pb::Event& ev) {
  deliver(self, ev);
  if (self->state.peers.empty())
    return;
  auto msg = caf::make_message(make_room_event(self->state.room, who.id(), ev));
  for (auto& p : self->state.peers)
    self->send(p.second, msg);
}

void sync(room_actor* self, const caf::actor& peer) {
  node_msg m;
  m->set_room(self->state.room);
  auto* s = m->mutable_sync();
  for (auto& [who, nick] : self->state.members) {
    auto* member = s->add_members();
    member->set_id(who.id());
    member->set_nick(nick);
  }
  self->send(peer, std::move(m));
}

void remove(room_actor* self, const caf::actor& who) {
  auto i = self->state.members.find(who);
  if (i == self->state.members.end())
    return;
  pb::Event ev;
  ev.mutable_left()->set_room(self->state.room);
  ev.mutable_left()->set_nick(i->second);
  self->demonitor(who);
  broadcast(self, who, ev); // the leaver hears it too
  self->state.left(i);
}

/// No member on any node: tells the registry (once per state of
/// `forwarded`), which stops this room unless something is on its way.
void maybe_idle(room_actor* self) {
  auto& st = self->state;
  if (!st.members.empty() || !st.remote->empty() || st.forwarded == st.reported)
    return;
  st.reported = st.forwarded;
  self->send(st.registry, idle_atom::value, st.room, st.forwarded);
}

void on_remote(room_actor* self, const caf::node_id& node,
               const pb::NodeMessage& m) {
  auto& st = self->state;
  if (st.peers.count(node) == 0)
    return; // gone already
  if (m.has_sync()) {
    for (auto& ev : st.remote->sync(node, m.sync()))
      deliver(self, ev);
  } else if (m.has_event()) {
    if (auto ev = st.remote->apply(node, m.event()))
      deliver(self, *ev);
  }
}

caf::behavior room(room_actor* self, caf::actor registry, std::string name,
                   peer_map peers, size_t max_peer_members,
                   const chat_metrics* metrics) {
  auto& st = self->state;
  st.metrics = metrics;
  if (metrics != nullptr)
    metrics->rooms.add(1);
  st.registry = std::move(registry);
  st.room = std::move(name);
  st.remote.emplace(st.room, max_peer_members);
  st.peers = std::move(peers);
  for (auto& p : st.peers)
    sync(self, p.second);
  self->set_default_handler(caf::drop);
  // Peers know this room's handle (it sends to them), but speak to it only
  // through their federation actor and the registry: whatever comes from
  // another node directly is dropped, forged down messages included.
  auto here = [=] {
    auto& src = self->current_sender();
    return src && src->node() == self->node();
  };
  self->set_exit_handler([=](const caf::exit_msg& em) {
    if (em.source.node() == self->node() && em.reason)
      self->quit(em.reason); // the registry's, at shutdown
  });
  self->set_down_handler([=](const caf::down_msg& dm) {
    if (here()) {
      remove(self, caf::actor_cast<caf::actor>(dm.source));
      maybe_idle(self);
    }
  });
  // Answers go only to requests: an answer to a plain message would reach
  // an actor that does not expect it (and may send back an error).
  return {
    // Forwarded by the registry (delegated: the sender is the member).
    [=](join_atom, const std::string& nick, const caf::actor& who) {
      auto me = caf::actor_cast<caf::actor>(self);
      if (!here())
        return me;
      ++self->state.forwarded;
      if (!who || who.node() != self->node()
          || self->state.members.count(who) != 0) {
        maybe_idle(self);
        return me;
      }
      self->monitor(who);
      self->state.joined(who, nick);
      pb::Event ev;
      ev.mutable_joined()->set_room(self->state.room);
      ev.mutable_joined()->set_nick(nick);
      broadcast(self, who, ev);
      return me;
    },
    [=](leave_atom, const caf::actor& who) {
      if (here()) {
        remove(self, who);
        maybe_idle(self);
      }
      return true;
    },
    [=](sync_atom) { return true; },
    [=](say_atom, const caf::actor& who, const std::string& text,
        uint64_t seq) {
      auto i = self->state.members.find(who);
      if (i == self->state.members.end() || !here())
        return; // not (or no longer) a member: nobody hears it
      pb::Event ev;
      auto* m = ev.mutable_message();
      m->set_room(self->state.room);
      m->set_nick(i->second);
      m->set_text(text);
      m->set_seq(seq);
      if (self->state.metrics != nullptr)
        self->state.metrics->posted.add();
      broadcast(self, who, ev);
    },
    [=](nick_atom, const caf::actor& who, const std::string& nick) {
      auto i = self->state.members.find(who);
      if (i == self->state.members.end() || !here())
        return false;
      pb::Event ev;
      ev.mutable_nick_changed()->set_old_nick(i->second);
      ev.mutable_nick_changed()->set_new_nick(nick);
      i->second = nick;
      broadcast(self, who, ev);
      return true;
    },
    [=](list_atom) {
      std::vector<std::string> nicks;
      if (!here())
        return nicks;
      for (auto& m : self->state.members)
        nicks.push_back(m.second);
      self->state.remote->nicks(nicks);
      std::sort(nicks.begin(), nicks.end());
      return nicks;
    },
    [=](peer_up_atom, const caf::node_id& node, const caf::actor& peer) {
      auto& st = self->state;
      if (!here() || !peer || st.peers.count(node) != 0)
        return;
      st.peers.emplace(node, peer);
      sync(self, peer); // then every event, in order behind it
    },
    [=](peer_down_atom, const caf::node_id& node) {
      if (!here())
        return;
      self->state.peers.erase(node);
      for (auto& ev : self->state.remote->drop(node))
        deliver(self, ev);
      maybe_idle(self);
    },
    [=](remote_atom, const caf::node_id& node, const node_msg& m) {
      if (!here())
        return;
      ++self->state.forwarded;
      on_remote(self, node, *m);
      maybe_idle(self);
    },
  };
}

} // namespace

caf::actor spawn_room(caf::actor_system& sys, caf::actor registry,
                      std::string name, peer_map peers,
                      size_t max_peer_members, const chat_metrics* metrics) {
  return sys.spawn(room, std::move(registry), std::move(name),
                   std::move(peers), max_peer_members, metrics);
}

} // namespace chat
