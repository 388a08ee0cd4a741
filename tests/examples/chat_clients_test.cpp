// actio-chat and hostile or clumsy clients: invalid UTF-8 and control
// characters, pipelined requests, pastes, clients over the rate, idle
// clients, too many clients, rooms made and left, first steps. Real
// processes on 127.0.0.1; every wait is bounded.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

const std::string fffd = "\xEF\xBF\xBD";

/// Takes `nick` and joins `room` in text mode; waits for its own join.
void join(chat_peer& p, const std::string& nick, const std::string& room) {
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p.send_line(cat("/nick ", nick)));
  ASSERT_TRUE(p.send_line(cat("/join ", room)));
  ASSERT_TRUE(p.wait_for(cat("* ", nick, " joined #", room)));
}

/// The same in protobuf mode.
void join_pb(chat_peer& p, const std::string& nick, const std::string& room) {
  ASSERT_TRUE(p.send_request(nick_request(nick)));
  ASSERT_TRUE(p.send_request(join_request(room)));
  for (;;) {
    auto ev = p.event();
    ASSERT_TRUE(ev) << nick << " never joined";
    if (ev->has_joined() && ev->joined().nick() == nick)
      return;
  }
}

TEST(chat_clients, dirty_text_reaches_every_client_cleaned_the_same) {
  chat_server srv{{"--rate=0"}};
  ASSERT_NE(srv.port, 0);
  chat_peer t{srv.port};
  join(t, "t", "r");
  // actio-chat-client, its stdin a FIFO held open until the end.
  temp_fifo fifo;
  ASSERT_FALSE(fifo.path.empty());
  auto cli = spawn_process(
    "/bin/sh", {"-c", cat(std::string{"exec "}, std::string{ACTIO_CHAT_CLIENT_BIN},
                          " --port ", std::to_string(srv.port),
                          " --nick cli --room r < ", fifo.path)});
  ASSERT_GT(cli.pid, 0);
  int to_cli = ::open(fifo.path.c_str(), O_WRONLY); // the shell opens it
  ASSERT_GE(to_cli, 0);
  ASSERT_TRUE(t.wait_for("* cli joined #r"));
  chat_peer p{srv.port};
  join_pb(p, "p", "r");
  ASSERT_TRUE(t.wait_for("* p joined #r"));
  // Invalid UTF-8, NUL, ESC, a C1 control, DEL; TAB and valid UTF-8 stay.
  const char dirty[] = "a\xFF\xFE b\0c \x1B[31m d\xC2\x9B"
                       "e\x7F\tf \xC3\xBC\n";
  ASSERT_TRUE(t.send_raw(std::string{dirty, sizeof dirty - 1}));
  auto clean = cat(std::string{"a"}, fffd, fffd, " b", fffd, "c ", fffd,
                   "[31m d", fffd, "e", fffd, "\tf \xC3\xBC");
  EXPECT_EQ(t.line(), cat("<t> ", clean));
  for (;;) {
    auto ev = p.event();
    ASSERT_TRUE(ev) << "the protobuf client's stream ended or did not parse";
    if (!ev->has_message())
      continue;
    EXPECT_EQ(ev->message().text(), clean);
    break;
  }
  // The terminal client printed the line and is still there: at the end of
  // its input it quits, hears bye and exits 0.
  ASSERT_TRUE(t.send_line("after"));
  ASSERT_TRUE(t.wait_for("<t> after"));
  ::close(to_cli);
  EXPECT_TRUE(t.wait_for("* cli left #r"));
  auto out = cli.read_all(30s);
  EXPECT_NE(out.find(cat("<t> ", clean, "\n<t> after\n")), std::string::npos)
    << out;
  auto status = cli.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
}

TEST(chat_clients, replies_follow_the_order_of_requests) {
  chat_server srv{{"--rate=0"}};
  ASSERT_NE(srv.port, 0);
  chat_peer other{srv.port};
  join(other, "other", "elsewhere");
  chat_peer a{srv.port};
  for (int round = 0; round < 20; ++round) {
    auto nick = cat("a", std::to_string(round));
    auto room = cat("r", std::to_string(round));
    // Each request's answers before the next one's, all in one write.
    ASSERT_TRUE(a.send_raw(cat("/nick ", nick, "\n/bogus\n/join ", room,
                               "\n/list\nhello\n/bogus\n/leave\n/list\n")));
    EXPECT_EQ(a.line(), round == 0 ? cat("* you are now known as ", nick)
                                   : cat("* a", std::to_string(round - 1),
                                         " is now known as ", nick));
    auto bogus = cat("! unknown_command: ", std::string{"unknown command "
                                                        "(/help lists them)"});
    EXPECT_EQ(a.line(), bogus);
    EXPECT_EQ(a.line(), cat("* ", nick, " joined #", room));
    auto rooms = a.line();
    ASSERT_TRUE(rooms);
    EXPECT_EQ(rooms->rfind("* rooms: ", 0), 0u) << *rooms;
    EXPECT_NE(rooms->find(cat("#", room)), std::string::npos) << *rooms;
    EXPECT_EQ(a.line(), cat("* members of #", room, ": ", nick));
    EXPECT_EQ(a.line(), cat("<", nick, "> hello"));
    EXPECT_EQ(a.line(), bogus);
    EXPECT_EQ(a.line(), cat("* ", nick, " left #", room));
    rooms = a.line();
    ASSERT_TRUE(rooms);
    EXPECT_EQ(rooms->rfind("* rooms: ", 0), 0u) << *rooms;
  }
}

/// Sends `n` lines "p<i>" in one write as `a` (in a room with `b`); both
/// read them all, in order; `a` is still served afterwards.
void paste(chat_peer& a, chat_peer& b, int n, const std::string& tag) {
  std::string all;
  for (int i = 0; i < n; ++i)
    all.append(cat(tag, std::to_string(i), "\n"));
  ASSERT_TRUE(a.send_raw(all));
  for (auto* p : {&a, &b})
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(p->line(), cat("<a> ", tag, std::to_string(i))) << i;
  ASSERT_TRUE(a.send_line("/list"));
  EXPECT_EQ(a.line(), "* rooms: #r");
  EXPECT_EQ(a.line(), "* members of #r: a b");
}

TEST(chat_clients, a_paste_without_rate_limit_is_served_whole) {
  chat_server srv{{"--rate=0"}};
  ASSERT_NE(srv.port, 0);
  chat_peer a{srv.port}, b{srv.port};
  join(a, "a", "r");
  join(b, "b", "r");
  ASSERT_TRUE(a.wait_for("* b joined #r"));
  paste(a, b, 300, "p");
  paste(a, b, 1000, "q");
  paste(a, b, 5000, "z");
}

TEST(chat_clients, requests_over_the_rate_wait_instead_of_disconnecting) {
  chat_server srv{{"--rate=20", "--burst=5"}};
  ASSERT_NE(srv.port, 0);
  chat_peer a{srv.port}, b{srv.port};
  join(a, "a", "r");
  join(b, "b", "r");
  ASSERT_TRUE(a.wait_for("* b joined #r"));
  // The bucket refills while we wait for it to do so (2 tokens left of 5).
  ASSERT_TRUE(wait_until([&] {
    return a.send_line("/list") && a.line() == "* rooms: #r"
           && a.line() == "* members of #r: a b";
  }));
  auto start = clock::now();
  paste(a, b, 45, "p"); // 40 beyond the burst: >= 2 s at 20/s
  EXPECT_GE(clock::now() - start, 1500ms);
}

TEST(chat_clients, idle_clients_are_told_and_disconnected) {
  chat_server srv{{"--idle-timeout=0.4"}};
  ASSERT_NE(srv.port, 0);
  chat_peer quiet{srv.port};
  ASSERT_TRUE(quiet.send_line("/nick quiet"));
  EXPECT_EQ(quiet.line(), "* you are now known as quiet");
  EXPECT_EQ(quiet.line(), "! idle_timeout: idle for 400 ms");
  EXPECT_TRUE(quiet.eof());
  // A protobuf client is told in its mode.
  chat_peer p{srv.port};
  ASSERT_TRUE(p.send_request(nick_request("p")));
  auto ev = p.event();
  ASSERT_TRUE(ev && ev->has_nick_changed());
  ev = p.event();
  ASSERT_TRUE(ev && ev->has_error());
  EXPECT_EQ(ev->error().code(), chatpb::Error::IDLE_TIMEOUT);
  EXPECT_TRUE(p.eof());
}

TEST(chat_clients, clients_over_the_limit_are_told_and_disconnected) {
  chat_server srv{{"--max-clients=2"}};
  ASSERT_NE(srv.port, 0);
  auto a = std::make_unique<chat_peer>(srv.port);
  chat_peer b{srv.port};
  ASSERT_TRUE(a->send_line("/nick a"));
  EXPECT_EQ(a->line(), "* you are now known as a");
  ASSERT_TRUE(b.send_line("/nick b"));
  EXPECT_EQ(b.line(), "* you are now known as b");
  chat_peer c{srv.port};
  ASSERT_TRUE(c.send_line("/nick c"));
  EXPECT_EQ(c.line(),
            "! too_many_clients: the server has its maximum of 2 clients; "
            "try again later");
  EXPECT_TRUE(c.eof());
  chat_peer p{srv.port}; // in its mode
  ASSERT_TRUE(p.send_request(nick_request("p")));
  auto ev = p.event();
  ASSERT_TRUE(ev && ev->has_error());
  EXPECT_EQ(ev->error().code(), chatpb::Error::TOO_MANY_CLIENTS);
  EXPECT_TRUE(p.eof());
  // Once a client left, a new one gets in.
  a.reset();
  EXPECT_TRUE(wait_until([&] {
    chat_peer d{srv.port};
    return d.send_line("/nick d") && d.line() == "* you are now known as d";
  }));
}

TEST(chat_clients, empty_rooms_are_freed) {
  chat_server srv{{"--max-rooms=3", "--rate=0"}};
  ASSERT_NE(srv.port, 0);
  chat_peer stay{srv.port};
  join(stay, "stay", "kept"); // one room stays: it has a member
  chat_peer a{srv.port};
  join(a, "a", "first");
  for (int i = 0; i < 10; ++i) {
    auto room = cat("r", std::to_string(i));
    ASSERT_TRUE(a.send_line(cat("/join ", room)));
    EXPECT_EQ(a.line(), cat("* a joined #", room));
    EXPECT_EQ(a.line(), cat("* a left #", i == 0 ? std::string{"first"}
                                                 : cat("r", std::to_string(i - 1))));
  }
  ASSERT_TRUE(a.send_line("/leave"));
  EXPECT_EQ(a.line(), "* a left #r9");
  ASSERT_TRUE(a.send_line("/list"));
  EXPECT_EQ(a.line(), "* rooms: #kept");
  chat_peer b{srv.port};
  join(b, "b", "fresh");
}

TEST(chat_clients, text_clients_are_welcomed_and_helped) {
  chat_server srv;
  ASSERT_NE(srv.port, 0);
  // A client that says nothing is greeted.
  chat_peer quiet{srv.port};
  quiet.keep_welcome();
  auto first = quiet.line();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->rfind("* welcome to actio-chat: /nick NAME, then /join "
                         "ROOM; /help lists the commands",
                         0),
            0u);
  // So is one that speaks first, before its first answer; commands are
  // case-insensitive.
  chat_peer eager{srv.port};
  eager.keep_welcome();
  ASSERT_TRUE(eager.send_raw("/HELP\n/Nick e\n/JOIN #Lobby\n"));
  EXPECT_EQ(eager.line(), *first);
  EXPECT_EQ(eager.line(), "* commands (case-insensitive):");
  std::string help;
  for (;;) {
    auto l = eager.line();
    ASSERT_TRUE(l);
    if (*l == "* you are now known as e")
      break;
    help.append(*l).push_back('\n');
  }
  for (auto cmd : {"/nick NAME", "/join ROOM", "/leave", "/list", "/quit",
                   "/help"})
    EXPECT_NE(help.find(cmd), std::string::npos) << cmd << " in " << help;
  EXPECT_EQ(eager.line(), "* e joined #Lobby");
}

} // namespace
