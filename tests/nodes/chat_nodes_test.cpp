// Distributed actio-chat: chat node processes on 127.0.0.1 meshed through
// CAF's middleman, text clients on each. Ports from the OS; every wait is
// bounded.

#include <csignal>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "nodes/chat_nodes.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

std::vector<chat_member*> pointers(std::vector<chat_member>& ms) {
  std::vector<chat_member*> out;
  for (auto& m : ms)
    out.push_back(&m);
  return out;
}

/// Until every member sees exactly the members of its room in `all`.
void wait_all_see_all(const std::vector<chat_member*>& all) {
  for (auto* m : all)
    ASSERT_TRUE(wait_members(*m, nicks_in(all, m->room)))
      << m->nick << " in #" << m->room;
}

TEST(chat_nodes, three_nodes_deliver_each_message_once_in_sender_order) {
  auto n1 = start_chat_node();
  ASSERT_NE(n1.node_port, 0);
  auto n2 = start_chat_node({"--peer", peer_list({n1.node_port})});
  ASSERT_NE(n2.node_port, 0);
  // Repeated --peer and a list: both spellings.
  auto n3 = start_chat_node({"--peer", peer_list({n1.node_port}), "--peer",
                             peer_list({n2.node_port})});
  ASSERT_NE(n3.node_port, 0);
  std::vector<chat_node*> nodes{&n1, &n2, &n3};
  std::vector<chat_member> members;
  for (size_t k = 0; k < nodes.size(); ++k)
    for (int j = 0; j < 4; ++j) {
      auto nick = cat("n", std::to_string(k + 1), "c", std::to_string(j));
      members.push_back(join_chat(nodes[k]->port, nick,
                                  j % 2 == 0 ? "red" : "blue"));
      ASSERT_TRUE(members.back().peer) << nick;
    }
  auto all = pointers(members);
  wait_all_see_all(all);
  EXPECT_EQ(exchange(all, 20, "m"), "");
  // Every node lists both rooms.
  for (auto* m : all) {
    ASSERT_TRUE(m->peer->send_line("/list"));
    EXPECT_EQ(m->peer->line(), "* rooms: #blue #red") << m->nick;
    EXPECT_TRUE(m->peer->wait_for("* members of #")) << m->nick;
  }
  members.clear(); // clients gone: the nodes stop without lingering
  for (auto* n : nodes)
    EXPECT_EQ(n->proc.stop(SIGTERM), 0);
}

TEST(chat_nodes, nicks_taken_on_a_peer_are_refused_and_freed_when_released) {
  auto n1 = start_chat_node();
  ASSERT_NE(n1.node_port, 0);
  auto n2 = start_chat_node({"--peer", peer_list({n1.node_port})});
  ASSERT_NE(n2.node_port, 0);
  auto alice = join_chat(n1.port, "alice", "lobby");
  ASSERT_TRUE(alice.peer);
  auto bob = join_chat(n2.port, "bob", "lobby");
  ASSERT_TRUE(bob.peer);
  // n1 tells n2 its nicks before its rooms' members: once bob sees alice,
  // n2 knows that alice is taken.
  ASSERT_TRUE(wait_members(bob, {"alice", "bob"}));
  chat_peer other{n2.port};
  ASSERT_TRUE(other.send_line("/nick alice"));
  EXPECT_EQ(other.line(), "! nick_taken: alice is taken");
  ASSERT_TRUE(other.send_line("/nick dave"));
  EXPECT_EQ(other.line(), "* you are now known as dave");
  // A room made on n1 is on n2's list too.
  ASSERT_TRUE(other.send_line("/list"));
  EXPECT_EQ(other.line(), "* rooms: #lobby");
  // Released on n1 (alice renames), free on n2.
  ASSERT_TRUE(alice.peer->send_line("/nick carol"));
  EXPECT_TRUE(alice.peer->wait_for("* alice is now known as carol"));
  EXPECT_TRUE(wait_until([&] {
    other.send_line("/nick alice");
    auto l = other.line();
    return l && *l == "* dave is now known as alice";
  }));
  // And n1 refuses it now: n2 tells the claim before the join, so once
  // carol sees the new alice join, n1 knows.
  ASSERT_TRUE(other.send_line("/join lobby"));
  ASSERT_TRUE(alice.peer->wait_for("* alice joined #lobby"));
  ASSERT_TRUE(alice.peer->send_line("/nick alice"));
  EXPECT_EQ(alice.peer->line(), "! nick_taken: alice is taken");
  alice.peer.reset();
  bob.peer.reset();
  other.close();
  EXPECT_EQ(n2.proc.stop(SIGTERM), 0);
  EXPECT_EQ(n1.proc.stop(SIGTERM), 0);
}

// kill -9 of the node the others link to: its members are announced as
// left, the others chat on; restarted on the same node port, the others'
// links bring it back and messages flow both ways again.
TEST(chat_nodes, a_killed_node_is_announced_and_rejoins_on_restart) {
  auto n1 = start_chat_node();
  ASSERT_NE(n1.node_port, 0);
  auto node_port = n1.node_port;
  auto n2 = start_chat_node({"--peer", peer_list({node_port})});
  auto n3 = start_chat_node({"--peer", peer_list({node_port, n2.node_port})});
  ASSERT_NE(n2.node_port, 0);
  ASSERT_NE(n3.node_port, 0);
  std::vector<chat_member> gone, staying;
  for (auto nick : {"a1", "a2"}) {
    gone.push_back(join_chat(n1.port, nick, "r"));
    ASSERT_TRUE(gone.back().peer);
  }
  for (auto [port, nick] : std::vector<std::pair<uint16_t, std::string>>{
         {n2.port, "b1"}, {n2.port, "b2"}, {n3.port, "c1"}, {n3.port, "c2"}}) {
    staying.push_back(join_chat(port, nick, "r"));
    ASSERT_TRUE(staying.back().peer);
  }
  auto all = pointers(staying);
  for (auto& g : gone)
    all.push_back(&g);
  wait_all_see_all(all);
  EXPECT_EQ(exchange(all, 5, "before"), "");
  ASSERT_EQ(::kill(n1.proc.pid, SIGKILL), 0);
  auto status = n1.proc.stop(0);
  ASSERT_TRUE(WIFSIGNALED(status));
  gone.clear(); // their sockets are dead anyway
  auto rest = pointers(staying);
  for (auto* m : rest) {
    std::set<std::string> left;
    while (left.size() < 2) {
      auto l = m->peer->line();
      ASSERT_TRUE(l) << m->nick << " saw " << left.size() << " leave";
      ASSERT_TRUE(*l == "* a1 left #r" || *l == "* a2 left #r")
        << m->nick << ": " << *l;
      left.insert(*l);
    }
  }
  EXPECT_EQ(exchange(rest, 5, "during"), "");
  // The same node port again; n2 and n3 reconnect to it.
  auto back = start_chat_node({}, node_port);
  ASSERT_EQ(back.node_port, node_port);
  std::vector<chat_member> returned;
  for (auto nick : {"a1", "a2"}) {
    returned.push_back(join_chat(back.port, nick, "r"));
    ASSERT_TRUE(returned.back().peer);
  }
  auto again = pointers(staying);
  for (auto& r : returned)
    again.push_back(&r);
  wait_all_see_all(again);
  EXPECT_EQ(exchange(again, 5, "after"), "");
  staying.clear();
  returned.clear();
  EXPECT_EQ(back.proc.stop(SIGTERM), 0);
  EXPECT_EQ(n3.proc.stop(SIGTERM), 0);
  EXPECT_EQ(n2.proc.stop(SIGTERM), 0);
}

// Text is cleaned where it enters: a client on a peer node gets the same
// line as the sender's node. A room is empty only when no node has a member
// in it; empty rooms are freed on every node, also rooms made for a peer.
TEST(chat_nodes, dirty_text_is_cleaned_and_empty_rooms_freed_on_all_nodes) {
  auto n1 = start_chat_node({"--max-rooms=2"});
  ASSERT_NE(n1.node_port, 0);
  auto n2 = start_chat_node({"--peer", peer_list({n1.node_port}),
                             "--max-rooms=2"});
  ASSERT_NE(n2.node_port, 0);
  auto a = join_chat(n1.port, "a", "r");
  ASSERT_TRUE(a.peer);
  auto b = join_chat(n2.port, "b", "r");
  ASSERT_TRUE(b.peer);
  ASSERT_TRUE(wait_members(a, {"a", "b"}));
  ASSERT_TRUE(wait_members(b, {"a", "b"}));
  const char dirty[] = "x\xFF\0y\x1B[2J\xC3\xBC\n";
  ASSERT_TRUE(a.peer->send_raw(std::string{dirty, sizeof dirty - 1}));
  const std::string clean = "<a> x\xEF\xBF\xBD\xEF\xBF\xBDy\xEF\xBF\xBD[2J\xC3\xBC";
  EXPECT_EQ(a.peer->line(), clean);
  EXPECT_EQ(b.peer->line(), clean);
  // Only a member on n2 left: n1 keeps the room.
  ASSERT_TRUE(a.peer->send_line("/leave"));
  EXPECT_EQ(a.peer->line(), "* a left #r");
  EXPECT_EQ(b.peer->line(), "* a left #r");
  ASSERT_TRUE(a.peer->send_line("/list"));
  EXPECT_EQ(a.peer->line(), "* rooms: #r");
  // No member anywhere: gone on both nodes.
  ASSERT_TRUE(b.peer->send_line("/leave"));
  EXPECT_EQ(b.peer->line(), "* b left #r");
  for (auto* m : {&a, &b})
    EXPECT_TRUE(wait_until([&] {
      return m->peer->send_line("/list") && m->peer->line() == "* rooms:";
    })) << m->nick;
  // More rooms made and left than --max-rooms, on n1 and so on n2 too.
  for (int i = 0; i < 6; ++i) {
    auto room = cat("t", std::to_string(i));
    ASSERT_TRUE(a.peer->send_line(cat("/join ", room)));
    EXPECT_EQ(a.peer->line(), cat("* a joined #", room));
    ASSERT_TRUE(a.peer->send_line("/leave"));
    EXPECT_EQ(a.peer->line(), cat("* a left #", room));
  }
  // Rooms can still be made on both nodes (n2 frees its copies once it has
  // heard the leaves).
  EXPECT_TRUE(wait_until([&] {
    return b.peer->send_line("/list") && b.peer->line() == "* rooms:";
  }));
  ASSERT_TRUE(b.peer->send_line("/join fresh"));
  EXPECT_EQ(b.peer->line(), "* b joined #fresh");
  ASSERT_TRUE(a.peer->send_line("/join other"));
  EXPECT_EQ(a.peer->line(), "* a joined #other");
  a.peer.reset();
  b.peer.reset();
  EXPECT_EQ(n2.proc.stop(SIGTERM), 0);
  EXPECT_EQ(n1.proc.stop(SIGTERM), 0);
}

} // namespace
