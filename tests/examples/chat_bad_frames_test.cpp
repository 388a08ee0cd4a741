// actio-chat and bad protobuf frames, beyond chat_limits_test.cpp: frames
// after valid ones in the same write, an oversized frame sent whole, a
// header declaring almost 16 MiB followed by nothing, each from its own
// client while a protobuf client and a text client share the room. Only
// the sender is disconnected: the protobuf bystander's stream stays
// well-formed and both bystanders keep chatting.

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

/// The next error event of `p`, skipping others; nullopt at EOF/timeout.
std::optional<chatpb::Event> next_error(chat_peer& p) {
  while (auto ev = p.event())
    if (ev->has_error())
      return ev;
  return std::nullopt;
}

/// Joins `p` in protobuf mode as `nick` to #room and waits for its join.
void join_pb(chat_peer& p, const std::string& nick) {
  ASSERT_TRUE(p.send_request(nick_request(nick)));
  ASSERT_TRUE(p.send_request(join_request("room")));
  for (;;) {
    auto ev = p.event();
    ASSERT_TRUE(ev) << nick << " never joined";
    if (ev->has_joined() && ev->joined().nick() == nick)
      return;
  }
}

TEST(chat_bad_frames, only_the_sender_of_a_bad_frame_is_disconnected) {
  chat_server srv{{"--max-frame=200", "--rate=0"}};
  ASSERT_NE(srv.port, 0);
  chat_peer text{srv.port};
  ASSERT_TRUE(text.send_line("/nick tom"));
  ASSERT_TRUE(text.send_line("/join room"));
  ASSERT_TRUE(text.wait_for("* tom joined #room"));
  chat_peer carol{srv.port}; // a protobuf client speaks first, at once
  join_pb(carol, "carol");
  // Valid frames, then a malformed one, in one write: the valid ones are
  // served first (the room hears "before"), then the error.
  {
    chat_peer m{srv.port};
    join_pb(m, "mallory");
    auto bytes = chat_peer::frame(say_request("before").SerializeAsString());
    bytes.append(chat_peer::frame(std::string{"\x0a\x05" "ab", 4}));
    ASSERT_TRUE(m.send_raw(bytes));
    auto err = next_error(m);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->error().code(), chatpb::Error::MALFORMED);
    EXPECT_TRUE(m.eof());
    EXPECT_TRUE(text.wait_for("<mallory> before"));
    EXPECT_TRUE(text.wait_for("* mallory left #room"));
  }
  // An oversized frame sent whole: refused at its header, the rest of the
  // client's input is dropped, not buffered.
  {
    chat_peer e{srv.port};
    join_pb(e, "eve");
    ASSERT_TRUE(e.send_raw(chat_peer::frame(std::string(300, 'x'))));
    auto err = next_error(e);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->error().code(), chatpb::Error::TOO_LONG);
    EXPECT_TRUE(e.eof());
    EXPECT_TRUE(text.wait_for("* eve left #room"));
  }
  // A header declaring 16 MiB - 1 and three bytes: the error comes without
  // the server waiting for (or allocating) the declared payload.
  {
    chat_peer t{srv.port};
    join_pb(t, "trudy");
    ASSERT_TRUE(t.send_raw(chat_peer::frame("abc", 0xffffff)));
    auto err = next_error(t);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->error().code(), chatpb::Error::TOO_LONG);
    EXPECT_TRUE(t.eof());
    EXPECT_TRUE(text.wait_for("* trudy left #room"));
  }
  // The protobuf bystander saw only well-formed events about the others:
  // their joins, mallory's message and their departures, in that order per
  // client; then it and the text client chat on.
  std::vector<std::string> seen;
  for (;;) {
    auto ev = carol.event();
    ASSERT_TRUE(ev) << "carol's stream ended or did not parse after "
                    << seen.size() << " events";
    if (ev->has_joined())
      seen.push_back(cat(ev->joined().nick(), " joined"));
    else if (ev->has_left())
      seen.push_back(cat(ev->left().nick(), " left"));
    else if (ev->has_message())
      seen.push_back(cat(ev->message().nick(), ": ", ev->message().text()));
    else
      ADD_FAILURE() << "unexpected event " << ev->DebugString();
    if (seen.back() == "trudy left")
      break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                    "mallory joined", "mallory: before", "mallory left",
                    "eve joined", "eve left", "trudy joined", "trudy left"}));
  ASSERT_TRUE(carol.send_request(say_request("still here")));
  EXPECT_TRUE(text.wait_for("<carol> still here"));
  auto echo = carol.event();
  ASSERT_TRUE(echo && echo->has_message());
  EXPECT_EQ(echo->message().text(), "still here");
  ASSERT_TRUE(text.send_line("me too"));
  auto heard = carol.event();
  ASSERT_TRUE(heard && heard->has_message());
  EXPECT_EQ(heard->message().nick(), "tom");
  EXPECT_EQ(heard->message().text(), "me too");
}

} // namespace

// The same for text lines: what a client sent before a line that is too
// long is served, even when it arrives in the same read.
TEST(chat_bad_frames, lines_before_a_too_long_line_are_served) {
  chat_server srv{{"--max-line=100", "--rate=0"}};
  ASSERT_NE(srv.port, 0);
  chat_peer tom{srv.port};
  ASSERT_TRUE(tom.send_line("/nick tom"));
  ASSERT_TRUE(tom.send_line("/join room"));
  ASSERT_TRUE(tom.wait_for("* tom joined #room"));
  chat_peer m{srv.port};
  ASSERT_TRUE(m.send_raw(cat(std::string{"/nick mallory\n/join room\nhello\n"},
                             std::string(200, 'x'), "\nafter\n")));
  EXPECT_TRUE(m.wait_for("! too_long: line longer than 100 bytes"));
  EXPECT_TRUE(m.eof());
  EXPECT_EQ(tom.line(), "* mallory joined #room");
  EXPECT_EQ(tom.line(), "<mallory> hello");
  EXPECT_EQ(tom.line(), "* mallory left #room");
  ASSERT_TRUE(tom.send_line("alone"));
  EXPECT_EQ(tom.line(), "<tom> alone"); // "after" was never read
}
