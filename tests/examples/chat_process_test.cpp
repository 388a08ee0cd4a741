// actio-chat as users run it: real processes on 127.0.0.1, text clients,
// protobuf clients and actio-chat-client in the same rooms.

#include <csignal>
#include <sys/wait.h>

#include <map>
#include <memory>
#include <regex>

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

// Joins `peer` as `nick` to `room` (text mode) and waits for its own join.
void join(chat_peer& peer, const std::string& nick, const std::string& room) {
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(peer.send_line(cat("/nick ", nick)));
  ASSERT_EQ(peer.line(), cat("* you are now known as ", nick));
  ASSERT_TRUE(peer.send_line(cat("/join #", room)));
  ASSERT_TRUE(peer.wait_for(cat("* ", nick, " joined #", room)));
}

TEST(chat_process, help_lists_the_options_and_exits_zero) {
  for (auto bin : {ACTIO_CHAT_BIN, ACTIO_CHAT_CLIENT_BIN}) {
    auto child = spawn_process(bin, {"--help"});
    ASSERT_GT(child.pid, 0);
    auto out = child.read_all(30s);
    EXPECT_NE(out.find("--port"), std::string::npos) << bin;
    EXPECT_EQ(child.stop(0, 30s), 0) << bin;
  }
}

TEST(chat_process, every_message_reaches_its_room_once_in_sender_order) {
  chat_server srv{{"--rate=0"}};
  ASSERT_NE(srv.port, 0);
  struct member {
    std::string nick, room;
    std::unique_ptr<chat_peer> peer;
  };
  std::vector<member> members;
  for (auto [nick, room] : std::vector<std::pair<std::string, std::string>>{
         {"a1", "red"}, {"b1", "blue"}, {"a2", "red"}, {"b2", "blue"},
         {"a3", "red"}, {"b3", "blue"}, {"a4", "red"}}) {
    auto peer = std::make_unique<chat_peer>(srv.port);
    join(*peer, nick, room);
    // Everyone already in the room sees the newcomer before anyone speaks.
    for (auto& m : members) {
      if (m.room == room) {
        ASSERT_TRUE(m.peer->wait_for(cat("* ", nick, " joined #", room)));
      }
    }
    members.push_back({nick, room, std::move(peer)});
  }
  constexpr int per_sender = 30;
  for (int i = 1; i <= per_sender; ++i)
    for (auto& m : members)
      ASSERT_TRUE(m.peer->send_line(cat("m", std::to_string(i), " ", m.nick, "@",
                                        m.room)));
  std::regex msg{R"(<(\w+)> m(\d+) (\w+)@(\w+))"};
  for (auto& m : members) {
    size_t expected = 0;
    for (auto& o : members)
      expected += o.room == m.room ? per_sender : 0;
    std::map<std::string, int> last; // sender -> last number seen
    size_t got = 0;
    while (got < expected) {
      auto l = m.peer->line();
      ASSERT_TRUE(l) << m.nick << " got " << got << " of " << expected;
      std::smatch s;
      ASSERT_TRUE(std::regex_match(*l, s, msg)) << m.nick << ": " << *l;
      EXPECT_EQ(s[1], s[3]) << *l;                      // the sender's nick
      EXPECT_EQ(s[4].str(), m.room) << m.nick << " heard " << *l;
      auto n = std::stoi(s[2]);
      EXPECT_EQ(n, last[s[1]] + 1) << m.nick << " heard " << *l; // once, in order
      last[s[1]] = n;
      ++got;
    }
    // Nothing else arrived before the answer to a later request.
    ASSERT_TRUE(m.peer->send_line("/list"));
    EXPECT_EQ(m.peer->line(), "* rooms: #blue #red");
  }
}

TEST(chat_process, nicks_are_unique_and_valid) {
  chat_server srv{{"--rate=0"}}; // the last check retries
  ASSERT_NE(srv.port, 0);
  chat_peer alice{srv.port}, other{srv.port};
  join(alice, "alice", "lobby");
  ASSERT_TRUE(other.send_line("/nick alice"));
  EXPECT_EQ(other.line(), "! nick_taken: alice is taken");
  ASSERT_TRUE(other.send_line("/nick bad name!"));
  EXPECT_EQ(other.line()->rfind("! bad_name:", 0), 0u);
  ASSERT_TRUE(other.send_line("hello"));
  EXPECT_EQ(other.line()->rfind("! not_in_room:", 0), 0u);
  ASSERT_TRUE(other.send_line("/join lobby"));
  EXPECT_EQ(other.line()->rfind("! no_nick:", 0), 0u);
  join(other, "bob", "lobby");
  EXPECT_TRUE(alice.wait_for("* bob joined #lobby"));
  // A nick change in a room is announced to the room.
  ASSERT_TRUE(other.send_line("/nick carol"));
  EXPECT_EQ(other.line(), "* bob is now known as carol");
  EXPECT_EQ(alice.line(), "* bob is now known as carol");
  // The old nick is free again, alice's is not.
  chat_peer third{srv.port};
  ASSERT_TRUE(third.send_line("/nick alice"));
  EXPECT_EQ(third.line(), "! nick_taken: alice is taken");
  ASSERT_TRUE(third.send_line("/nick bob"));
  EXPECT_EQ(third.line(), "* you are now known as bob");
  // A client that leaves frees its nick (once the server saw it go).
  alice.close();
  EXPECT_EQ(other.line(), "* alice left #lobby");
  EXPECT_TRUE(wait_until([&] {
    third.send_line("/nick alice");
    auto l = third.line();
    return l && *l == "* bob is now known as alice";
  }));
}

TEST(chat_process, list_shows_rooms_and_members) {
  chat_server srv;
  ASSERT_NE(srv.port, 0);
  chat_peer x{srv.port}, y{srv.port}, z{srv.port};
  join(x, "x", "one");
  join(y, "y", "one");
  join(z, "z", "two");
  ASSERT_TRUE(x.wait_for("* y joined #one"));
  ASSERT_TRUE(x.send_line("/list"));
  EXPECT_EQ(x.line(), "* rooms: #one #two");
  EXPECT_EQ(x.line(), "* members of #one: x y");
  ASSERT_TRUE(x.send_line("/leave"));
  EXPECT_EQ(x.line(), "* x left #one");
  ASSERT_TRUE(x.send_line("/list"));
  EXPECT_EQ(x.line(), "* rooms: #one #two"); // outside a room: rooms only
  ASSERT_TRUE(x.send_line("/bogus"));
  EXPECT_EQ(x.line()->rfind("! unknown_command:", 0), 0u);
  ASSERT_TRUE(x.send_line("/quit"));
  EXPECT_EQ(x.line(), "* bye");
  EXPECT_TRUE(x.eof());
}

TEST(chat_process, protobuf_and_text_clients_share_a_room) {
  chat_server srv;
  ASSERT_NE(srv.port, 0);
  chat_peer text{srv.port};
  join(text, "t1", "mix");
  chat_peer pbc{srv.port}; // a protobuf client speaks first, at once
  ASSERT_TRUE(pbc.send_request(nick_request("p1")));
  auto ev = pbc.event();
  ASSERT_TRUE(ev && ev->has_nick_changed());
  EXPECT_EQ(ev->nick_changed().new_nick(), "p1");
  ASSERT_TRUE(pbc.send_request(join_request("mix")));
  ev = pbc.event();
  ASSERT_TRUE(ev && ev->has_joined());
  EXPECT_EQ(ev->joined().nick(), "p1");
  EXPECT_EQ(ev->joined().room(), "mix");
  EXPECT_TRUE(text.wait_for("* p1 joined #mix"));
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(pbc.send_request(say_request(cat("from pb ", std::to_string(i)))));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(text.line(), cat("<p1> from pb ", std::to_string(i)));
    ev = pbc.event(); // its own messages come back, numbered
    ASSERT_TRUE(ev && ev->has_message());
    EXPECT_EQ(ev->message().seq(), static_cast<uint64_t>(i));
  }
  ASSERT_TRUE(text.send_line("from text"));
  EXPECT_EQ(text.line(), "<t1> from text"); // its own, back from the room
  ev = pbc.event();
  ASSERT_TRUE(ev && ev->has_message());
  EXPECT_EQ(ev->message().nick(), "t1");
  EXPECT_EQ(ev->message().room(), "mix");
  EXPECT_EQ(ev->message().text(), "from text");
  EXPECT_EQ(ev->message().seq(), 1u);
  // A text line cannot inject lines through a protobuf message: the
  // newline became U+FFFD where it came in.
  ASSERT_TRUE(pbc.send_request(say_request("a\n* fake joined #mix")));
  EXPECT_EQ(text.line(), "<p1> a\xEF\xBF\xBD* fake joined #mix");
  ASSERT_TRUE(pbc.send_request(nick_request("t1")));
  ev = pbc.event();
  ASSERT_TRUE(ev && ev->has_message()); // its own, then the error
  ev = pbc.event();
  ASSERT_TRUE(ev && ev->has_error());
  EXPECT_EQ(ev->error().code(), chatpb::Error::NICK_TAKEN);
}

TEST(chat_process, the_terminal_client_chats_from_a_pipe) {
  chat_server srv;
  ASSERT_NE(srv.port, 0);
  chat_peer text{srv.port};
  join(text, "t1", "lobby");
  auto cmd = cat(std::string{"printf 'hello from the client\\n/list\\n' | "},
                 std::string{ACTIO_CHAT_CLIENT_BIN}, " --port ",
                 std::to_string(srv.port), " --nick cli --room lobby");
  auto child = spawn_process("/bin/sh", {"-c", cmd});
  ASSERT_GT(child.pid, 0);
  EXPECT_TRUE(text.wait_for("* cli joined #lobby"));
  EXPECT_EQ(text.line(), "<cli> hello from the client");
  EXPECT_EQ(text.line(), "* cli left #lobby");
  auto out = child.read_all(30s);
  // The message comes back through the room, the lists from the registry
  // and the room: their order between each other is not fixed.
  for (auto want : {"* you are now known as cli\n", "* cli joined #lobby\n",
                    "<cli> hello from the client\n", "* rooms: #lobby\n",
                    "* members of #lobby: cli t1\n"})
    EXPECT_NE(out.find(want), std::string::npos) << want << " in " << out;
  EXPECT_EQ(out.size() >= 6 ? out.substr(out.size() - 6) : out, "* bye\n");
  auto status = child.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(chat_process, sigterm_tells_clients_and_exits_zero) {
  chat_server srv;
  ASSERT_NE(srv.port, 0);
  chat_peer a{srv.port}, b{srv.port};
  join(a, "a", "r");
  join(b, "b", "r");
  ASSERT_EQ(::kill(srv.child.pid, SIGTERM), 0);
  EXPECT_TRUE(a.wait_for("! shutting_down:"));
  EXPECT_TRUE(b.wait_for("! shutting_down:"));
  EXPECT_TRUE(a.eof());
  EXPECT_TRUE(b.eof());
  a.close();
  b.close();
  auto status = srv.child.stop(0, 60s);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(srv.child.read_all(10s).find("drained 2 connection(s), 0 closed"),
            std::string::npos);
}

} // namespace
