#include "room.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "atoms.hpp"

namespace chat {

namespace {

struct room_state {
  std::string room;
  std::map<caf::actor, std::string> members; // handle -> nick
  static inline const char* name = "chat.room";
};

using room_actor = caf::stateful_actor<room_state>;

void broadcast(room_actor* self, const pb::Event& ev) {
  for (auto& m : self->state.members)
    self->send(m.first, event_msg{ev});
}

void remove(room_actor* self, const caf::actor& who) {
  auto i = self->state.members.find(who);
  if (i == self->state.members.end())
    return;
  pb::Event ev;
  ev.mutable_left()->set_room(self->state.room);
  ev.mutable_left()->set_nick(i->second);
  self->demonitor(who);
  broadcast(self, ev); // the leaver hears it too
  self->state.members.erase(i);
}

caf::behavior room(room_actor* self, std::string name) {
  self->state.room = std::move(name);
  self->set_down_handler([=](const caf::down_msg& dm) {
    remove(self, caf::actor_cast<caf::actor>(dm.source));
  });
  return {
    [=](join_atom, const std::string& nick, const caf::actor& who) {
      if (self->state.members.count(who) != 0)
        return;
      self->monitor(who);
      self->state.members.emplace(who, nick);
      pb::Event ev;
      ev.mutable_joined()->set_room(self->state.room);
      ev.mutable_joined()->set_nick(nick);
      broadcast(self, ev);
    },
    [=](leave_atom, const caf::actor& who) { remove(self, who); },
    [=](say_atom, const caf::actor& who, const std::string& text,
        uint64_t seq) {
      auto i = self->state.members.find(who);
      if (i == self->state.members.end())
        return; // not (or no longer) a member: nobody hears it
      pb::Event ev;
      auto* m = ev.mutable_message();
      m->set_room(self->state.room);
      m->set_nick(i->second);
      m->set_text(text);
      m->set_seq(seq);
      broadcast(self, ev);
    },
    [=](nick_atom, const caf::actor& who, const std::string& nick) {
      auto i = self->state.members.find(who);
      if (i == self->state.members.end())
        return;
      pb::Event ev;
      ev.mutable_nick_changed()->set_old_nick(i->second);
      ev.mutable_nick_changed()->set_new_nick(nick);
      i->second = nick;
      broadcast(self, ev);
    },
    [=](list_atom) {
      std::vector<std::string> nicks;
      for (auto& m : self->state.members)
        nicks.push_back(m.second);
      std::sort(nicks.begin(), nicks.end());
      return nicks;
    },
  };
}

} // namespace

caf::actor spawn_room(caf::actor_system& sys, std::string name) {
  return sys.spawn(room, std::move(name));
}

} // namespace chat
