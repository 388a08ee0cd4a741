#include "federation.hpp"

#include <iostream>
#include <map>
#include <string_view>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actio/actors/log_limiter.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/proto/node_link.hpp"
#include "atoms.hpp"
#include "guarded_actor.hpp"

namespace chat {

namespace {

struct peer {
  caf::actor federation;
  std::string address; // as the link knows it or as the peer said
};

struct federation_state {
  caf::actor registry;
  federation_options opts;
  std::string own_address;
  std::map<caf::node_id, peer> peers;
  std::vector<caf::actor> links; // strong: nothing else holds them
  static inline const char* name = "chat.federation";
};

using federation_actor
  = caf::stateful_actor<federation_state, peer_facing_actor_base>;

void say(const std::string& what) {
  std::cout << "actio-chat: " << what << std::endl;
}

/// For lines a peer can make repeat (every retry, every hello).
void warn(std::string_view key, const std::string& what) {
  if (auto v = actio::warnings().admit(key))
    say(what + v.note());
}

void add_peer(federation_actor* self, const caf::actor& fed,
              const std::string& address) {
  auto& st = self->state;
  auto node = fed.node();
  auto i = st.peers.find(node);
  if (i != st.peers.end()) {
    if (i->second.address.empty())
      i->second.address = address;
    return;
  }
  std::string name = address.empty() ? to_string(node) : address;
  if (st.peers.size() >= st.opts.limits.max_peers) {
    warn("chat peer ignored", "peer " + name + " ignored: --max-peers ("
        + std::to_string(st.opts.limits.max_peers) + ") reached");
    return;
  }
  self->monitor(fed);
  st.peers.emplace(node, peer{fed, address});
  say("peer " + name + " up");
  self->send(st.registry, peer_up_atom::value, node, fed);
}

void hello(federation_actor* self, const caf::actor& fed) {
  node_msg m;
  m->mutable_hello()->set_version(node_protocol_version);
  m->mutable_hello()->set_address(self->state.own_address);
  self->send(fed, std::move(m));
}

caf::behavior federation(federation_actor* self, caf::actor registry,
                         federation_options opts) {
  self->state.registry = std::move(registry);
  self->state.opts = std::move(opts);
  self->set_default_handler(caf::drop);
  auto here = [=] {
    auto& src = self->current_sender();
    return src && src->node() == self->node();
  };
  // Only an actor of this node (a link, the main program) may stop us; a
  // peer's exit message is ignored.
  self->set_exit_handler([=](const caf::exit_msg& em) {
    if (em.source.node() == self->node() && em.reason)
      self->quit(em.reason);
  });
  // A real down message comes from the actor that went down; one a peer
  // made up about another node's actor does not.
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& src = self->current_sender();
    if (!src || src->node() != dm.source.node())
      return;
    auto& st = self->state;
    auto i = st.peers.find(dm.source.node());
    if (i == st.peers.end() || i->second.federation.address() != dm.source)
      return;
    auto node = i->first;
    say("peer " + (i->second.address.empty() ? to_string(node)
                                              : i->second.address)
        + " down (" + actio::describe(dm.reason) + ")");
    st.peers.erase(i);
    self->send(st.registry, peer_down_atom::value, node);
  });
  return {
    [=](caf::connect_atom, const std::string& own_address) {
      auto& st = self->state;
      if (!here() || !st.links.empty())
        return;
      st.own_address = own_address;
      for (auto& [host, port] : st.opts.peers)
        st.links.push_back(actio::spawn_node_link(
          self->system(), self, host, port, st.opts.node, true,
          st.opts.metrics));
    },
    [=](actio::node_up_atom, const std::string& address,
        const caf::actor& fed) {
      if (!here() || !fed)
        return;
      if (fed.node() == self->node()) {
        warn("chat peer self", "peer " + address + " is this node; ignored");
        return;
      }
      hello(self, fed); // first, so the peer knows us before our rooms
      add_peer(self, fed, address);
    },
    [=](actio::node_down_atom, const std::string&, const caf::error&) {
      // Our own monitor of the peer says so (down handler).
    },
    [=](actio::node_unreachable_atom, const std::string& address,
        const caf::error& reason) {
      if (here())
        warn("chat peer unreachable",
             "peer " + address + " unreachable (" + actio::describe(reason)
               + "); retrying");
    },
    [=](node_msg& msg) {
      auto& src = self->current_sender();
      if (!src || src->node() == self->node())
        return; // not from a peer
      auto node = src->node();
      if (msg->has_hello()) {
        if (msg->hello().version() != node_protocol_version) {
          warn("chat peer version",
               "peer " + msg->hello().address() + " speaks version "
                 + std::to_string(msg->hello().version()) + "; ignored");
          return;
        }
        add_peer(self, caf::actor_cast<caf::actor>(src),
                 msg->hello().address());
        return;
      }
      if (self->state.peers.count(node) == 0)
        return; // not (or no longer) a peer
      self->send(self->state.registry, remote_atom::value, node,
                 std::move(msg));
    },
  };
}

} // namespace

caf::actor spawn_federation(caf::actor_system& sys, caf::actor registry,
                            federation_options opts) {
  return sys.spawn(federation, std::move(registry), std::move(opts));
}

} // namespace chat
