#include "registry.hpp"

#include <map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "atoms.hpp"
#include "room.hpp"

namespace chat {

namespace {

struct registry_state {
  std::map<std::string, caf::actor> nicks;      // nick -> member
  std::map<caf::actor, std::string> nick_of;    // member -> nick
  std::map<std::string, caf::actor> rooms;      // name -> room
  static inline const char* name = "chat.registry";
};

using registry_actor = caf::stateful_actor<registry_state>;

caf::behavior registry(registry_actor* self, size_t max_rooms) {
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto who = caf::actor_cast<caf::actor>(dm.source);
    auto i = self->state.nick_of.find(who);
    if (i == self->state.nick_of.end())
      return;
    self->state.nicks.erase(i->second);
    self->state.nick_of.erase(i);
  });
  return {
    [=](nick_atom, const std::string& nick, const caf::actor& who) {
      auto& st = self->state;
      auto taken = st.nicks.find(nick);
      if (taken != st.nicks.end())
        return taken->second == who; // one's own nick again: fine
      auto old = st.nick_of.find(who);
      if (old != st.nick_of.end()) {
        st.nicks.erase(old->second);
        old->second = nick;
      } else {
        self->monitor(who);
        st.nick_of.emplace(who, nick);
      }
      st.nicks.emplace(nick, who);
      return true;
    },
    [=](room_atom, const std::string& name) {
      auto& rooms = self->state.rooms;
      auto i = rooms.find(name);
      if (i != rooms.end())
        return i->second;
      if (rooms.size() >= max_rooms)
        return caf::actor{};
      auto r = spawn_room(self->system(), name);
      rooms.emplace(name, r);
      return r;
    },
    [=](list_atom) {
      std::vector<std::string> names;
      for (auto& r : self->state.rooms)
        names.push_back(r.first);
      return names;
    },
  };
}

} // namespace

caf::actor spawn_registry(caf::actor_system& sys, size_t max_rooms) {
  return sys.spawn(registry, max_rooms);
}

} // namespace chat
