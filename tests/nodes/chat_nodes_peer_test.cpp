// A chat node facing a broken peer: this test process joins as a node
// (through CAF's middleman, plain) and sends what a broken or hostile peer
// could: types the node does not know, an exit message, bytes that do not
// parse, a wrong protocol version, messages before its hello, members with
// bad nicks, events of members it never announced. The node takes only
// what is valid, announces the fake peer's members as left when it goes,
// and serves its clients all along.

#include <csignal>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include "actio/drivers/errc.hpp"
#include "actio/proto/chat_node.pb.h"
#include "actio/proto/message.hpp"
#include "actio/proto/node.hpp"
#include "nodes/chat_nodes.hpp"

using namespace std::chrono_literals;
using namespace actio;
using namespace actio::test;

namespace {

namespace pb = actio::proto::chat;
using node_msg = proto::message<pb::NodeMessage>;

struct peer_config : node_config {
  peer_config() {
    add_message_type<node_msg>("actio.proto.chat.NodeMessage");
  }
};

/// Bytes under the NodeMessage type name (a peer with a broken encoder).
struct raw_msg {
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raw_msg& x) {
  return f(caf::meta::type_name("actio.proto.message"), x.bytes);
}

struct raw_config : node_config {
  raw_config() {
    add_message_type<raw_msg>("actio.proto.chat.NodeMessage");
  }
};

node_msg hello(uint32_t version) {
  node_msg m;
  m->mutable_hello()->set_version(version);
  m->mutable_hello()->set_address("test");
  return m;
}

node_msg sync(const std::string& room,
              std::vector<std::pair<uint64_t, std::string>> members) {
  node_msg m;
  m->set_room(room);
  auto* s = m->mutable_sync();
  for (auto& [id, nick] : members) {
    auto* x = s->add_members();
    x->set_id(id);
    x->set_nick(nick);
  }
  return m;
}

node_msg say(const std::string& room, uint64_t member,
             const std::string& text) {
  node_msg m;
  m->set_room(room);
  m->mutable_event()->set_member(member);
  auto* msg = m->mutable_event()->mutable_event()->mutable_message();
  msg->set_room(room);
  msg->set_nick("spoofed");
  msg->set_text(text);
  msg->set_seq(1);
  return m;
}

TEST(chat_nodes_peer, a_broken_peer_does_not_disturb_the_node) {
  auto n = start_chat_node();
  ASSERT_NE(n.node_port, 0);
  auto w = join_chat(n.port, "w", "r");
  ASSERT_TRUE(w.peer);
  { // Bytes that do not parse as a NodeMessage.
    raw_config cfg;
    ASSERT_FALSE(cfg.prepare());
    caf::actor_system sys{cfg};
    auto fed = node::connect(sys, "127.0.0.1", n.node_port, cfg.node);
    ASSERT_TRUE(fed) << describe(fed.error());
    caf::scoped_actor self{sys};
    self->send(*fed, raw_msg{"\xff\xff\xff not protobuf"});
    self->send(*fed, raw_msg{""}); // parses: an empty NodeMessage
  }
  peer_config cfg;
  ASSERT_FALSE(cfg.prepare());
  {
    caf::actor_system sys{cfg};
    auto fed = node::connect(sys, "127.0.0.1", n.node_port, cfg.node);
    ASSERT_TRUE(fed) << describe(fed.error());
    caf::scoped_actor self{sys};
    // Before a hello: not a peer, nothing is taken.
    self->send(*fed, sync("r", {{7, "early"}}));
    self->send(*fed, std::string{"garbage"});
    self->send(*fed, int32_t{42});
    self->send_exit(*fed, caf::exit_reason::kill);
    self->send(*fed, caf::down_msg{self->address(), caf::exit_reason::kill});
    self->send(*fed, hello(99)); // another protocol version: ignored
    self->send(*fed, sync("r", {{8, "early2"}}));
    // A peer now.
    self->send(*fed, hello(1));
    self->send(*fed, sync("r", {{1, "ghost"}, {2, "bad name!"}}));
    self->send(*fed, say("r", 99, "from nobody"));
    self->send(*fed, say("r", 2, "from the bad name"));
    self->send(*fed, say("r", 1, "boo"));
    self->send(*fed, say("r", 1, std::string(100 * 1024, 'x'))); // too long
    node_msg not_an_event;
    not_an_event->set_room("r");
    not_an_event->mutable_event()->set_member(1);
    not_an_event->mutable_event()->mutable_event()->mutable_bye();
    self->send(*fed, std::move(not_an_event));
    self->send(*fed, sync("bad room!", {{3, "x"}}));
    node_msg claim;
    claim->mutable_claim()->set_claimed("ghost");
    self->send(*fed, std::move(claim));
    self->send(*fed, say("r", 1, "boo again"));
    // The node took exactly the valid part, in order.
    EXPECT_EQ(w.peer->line(), "* ghost joined #r");
    EXPECT_EQ(w.peer->line(), "<ghost> boo");
    EXPECT_EQ(w.peer->line(), "<ghost> boo again");
    ASSERT_TRUE(w.peer->send_line("/list"));
    EXPECT_EQ(w.peer->line(), "* rooms: #r");
    EXPECT_EQ(w.peer->line(), "* members of #r: ghost w");
    chat_peer other{n.port};
    ASSERT_TRUE(other.send_line("/nick ghost"));
    EXPECT_EQ(other.line(), "! nick_taken: ghost is taken");
    // And it told its peer its nicks and room.
    bool nicks = false, room = false;
    while (!nicks || !room) {
      bool got = false;
      self->receive(
        [&](node_msg& m) {
          got = true;
          if (m->has_nicks())
            nicks = m->nicks().nicks_size() == 1 && m->nicks().nicks(0) == "w";
          if (m->has_sync() && m->room() == "r")
            room = m->sync().members_size() == 1
                   && m->sync().members(0).nick() == "w";
        },
        caf::after(30s) >> [] {});
      ASSERT_TRUE(got) << "nicks " << nicks << ", room " << room;
    }
  } // the fake peer's system ends: the node sees it go
  EXPECT_EQ(w.peer->line(), "* ghost left #r");
  chat_peer other{n.port};
  ASSERT_TRUE(wait_until([&] {
    other.send_line("/nick ghost");
    return other.line() == "* you are now known as ghost";
  }));
  w.peer.reset();
  other.close();
  EXPECT_EQ(n.proc.stop(SIGTERM), 0);
}

} // namespace
