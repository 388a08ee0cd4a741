// actio-chat's limits: an oversized line, an oversized frame and a
// malformed frame each get an error and are disconnected; the other clients
// keep chatting and see only the offender leave. A flooding client is
// slowed down to the rate.

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

class chat_limits : public ::testing::Test {
protected:
  chat_server srv{{"--max-line=100", "--max-frame=200", "--rate=5",
                   "--burst=20"}};
  chat_peer alice{srv.port}, bob{srv.port};

  void SetUp() override {
    ASSERT_NE(srv.port, 0);
    for (auto [peer, nick] : {std::pair{&alice, "alice"}, {&bob, "bob"}}) {
      ASSERT_TRUE(peer->send_line(cat(std::string{"/nick "}, nick)));
      ASSERT_TRUE(peer->send_line("/join room"));
      ASSERT_TRUE(peer->wait_for(cat(std::string{"* "}, nick, " joined #room")));
    }
    ASSERT_TRUE(alice.wait_for("* bob joined #room"));
  }

  // The others still chat, and saw nothing of the offender but (if it had
  // joined) its departure.
  void others_keep_chatting(const std::string& text) {
    ASSERT_TRUE(alice.send_line(text));
    for (auto* p : {&alice, &bob}) {
      for (;;) {
        auto l = p->line();
        ASSERT_TRUE(l);
        if (*l == cat("<alice> ", text))
          break;
        EXPECT_TRUE(*l == "* mallory joined #room"
                    || *l == "* mallory left #room"
                    || *l == "<mallory> spam")
          << *l;
      }
    }
  }

  // Joins mallory in text mode.
  void join_mallory(chat_peer& m) {
    ASSERT_TRUE(m.send_line("/nick mallory"));
    ASSERT_TRUE(m.send_line("/join room"));
    ASSERT_TRUE(m.wait_for("* mallory joined #room"));
  }
};

TEST_F(chat_limits, oversized_line_gets_an_error_and_is_disconnected) {
  chat_peer m{srv.port};
  join_mallory(m);
  ASSERT_TRUE(m.send_raw(std::string(200, 'x'))); // no newline needed
  EXPECT_TRUE(m.wait_for("! too_long: line longer than 100 bytes"));
  EXPECT_TRUE(m.eof());
  others_keep_chatting("after the long line");
  // A line of exactly the limit is fine.
  ASSERT_TRUE(bob.send_line(std::string(100, 'y')));
  EXPECT_TRUE(alice.wait_for(cat("<bob> ", std::string(100, 'y'))));
}

TEST_F(chat_limits, oversized_frame_gets_an_error_and_is_disconnected) {
  chat_peer m{srv.port};
  ASSERT_TRUE(m.send_request(nick_request("mallory")));
  ASSERT_TRUE(m.send_request(join_request("room")));
  ASSERT_TRUE(alice.wait_for("* mallory joined #room"));
  ASSERT_TRUE(m.send_raw(chat_peer::frame("", 201))); // the header says 201
  std::optional<chatpb::Event> ev;
  while ((ev = m.event()) && !ev->has_error()) {
  }
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->error().code(), chatpb::Error::TOO_LONG);
  EXPECT_TRUE(m.eof());
  others_keep_chatting("after the big frame");
}

TEST_F(chat_limits, malformed_frame_gets_an_error_and_is_disconnected) {
  chat_peer m{srv.port};
  ASSERT_TRUE(m.send_request(nick_request("mallory")));
  ASSERT_TRUE(m.send_request(join_request("room")));
  ASSERT_TRUE(alice.wait_for("* mallory joined #room"));
  // Field 1 (join) claims 5 bytes, 2 follow.
  ASSERT_TRUE(m.send_raw(chat_peer::frame(std::string{"\x0a\x05" "ab", 4})));
  std::optional<chatpb::Event> ev;
  while ((ev = m.event()) && !ev->has_error()) {
  }
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->error().code(), chatpb::Error::MALFORMED);
  EXPECT_TRUE(m.eof());
  others_keep_chatting("after the malformed frame");
  // An empty Request (no kind) is malformed too.
  chat_peer n{srv.port};
  ASSERT_TRUE(n.send_raw(chat_peer::frame("")));
  ev = n.event();
  ASSERT_TRUE(ev && ev->has_error());
  EXPECT_EQ(ev->error().code(), chatpb::Error::MALFORMED);
  EXPECT_TRUE(n.eof());
}

TEST_F(chat_limits, a_flooding_client_is_slowed_down_not_disconnected) {
  chat_peer m{srv.port};
  join_mallory(m);
  std::string flood;
  for (int i = 0; i < 40; ++i)
    flood += "spam\n";
  auto start = clock::now();
  ASSERT_TRUE(m.send_raw(flood));
  others_keep_chatting("during the flood");
  // Every line is served, at --rate once the burst is spent: 5/s.
  for (int i = 0; i < 40;) {
    auto l = m.line();
    ASSERT_TRUE(l) << "after " << i << " of its lines";
    if (*l == "<mallory> spam")
      ++i;
    else
      EXPECT_EQ(*l, "<alice> during the flood");
  }
  EXPECT_GE(clock::now() - start, 3s);
  ASSERT_TRUE(m.send_line("still here"));
  EXPECT_TRUE(alice.wait_for("<mallory> still here"));
}

} // namespace
