// actio-chat's --max-queue: a client that joins a room and never reads is
// disconnected once its unsent output passes the limit, while two clients
// flood the room and a third chats; the others keep chatting and the
// server's memory stays bounded. Real processes on 127.0.0.1.

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

/// Resident set size of process `pid` in bytes (0 if unknown).
size_t rss_of(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoul(line.substr(6)) * 1024;
  return 0;
}

void join(chat_peer& peer, const std::string& nick) {
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(peer.send_line(cat("/nick ", nick)));
  ASSERT_TRUE(peer.send_line("/join room"));
  ASSERT_TRUE(peer.wait_for(cat("* ", nick, " joined #room")));
}

/// A flood line of about 1000 bytes: "f1 r12 i3 xxxx...".
std::string flood_line(const std::string& who, int round, int i) {
  auto head = cat(who, " r", std::to_string(round), " i", std::to_string(i),
                  " ");
  return cat(head, std::string(1000 - head.size(), 'x'));
}

TEST(chat_slow_reader, a_client_that_never_reads_is_disconnected_others_chat) {
  // An ASan build of the server would keep freed memory in its 256 MiB
  // quarantine; a small one keeps its RSS meaningful (ignored otherwise).
  ::setenv("ASAN_OPTIONS", "quarantine_size_mb=16", 0);
  constexpr size_t max_queue = 256 * 1024;
  chat_server srv{{"--rate=0", cat(std::string{"--max-queue="},
                                   std::to_string(max_queue))}};
  ASSERT_NE(srv.port, 0);
  chat_peer quiet{srv.port}, f1{srv.port}, f2{srv.port}, obs{srv.port};
  join(quiet, "quiet");
  for (auto [p, nick] : {std::pair{&f1, "f1"}, {&f2, "f2"}, {&obs, "obs"}})
    join(*p, nick);
  // Everyone has seen every join before the flood starts (the quiet client
  // reads nothing from here on).
  for (auto* p : {&f1, &f2})
    ASSERT_TRUE(p->wait_for("* obs joined #room"));
  auto rss_before = rss_of(srv.child.pid);
  ASSERT_GT(rss_before, 0u);
  size_t rss_peak = rss_before;
  // Rounds: each flooder sends `per_round` lines, then every reading client
  // reads up to both flooders' last line of the round, so their own output
  // never backs up. The quiet client's does, in the kernel's buffers first,
  // then in the server's queue, until the server drops it. The bound on
  // rounds (~128 MB of flood) only turns a failure into a finite one.
  constexpr int per_round = 32;
  constexpr int max_rounds = 2000;
  bool quiet_left = false;
  int round = 0;
  for (; round < max_rounds && !quiet_left; ++round) {
    for (auto [p, who] : {std::pair{&f1, "f1"}, {&f2, "f2"}}) {
      std::string burst;
      for (int i = 0; i < per_round; ++i)
        burst.append(flood_line(who, round, i)).push_back('\n');
      ASSERT_TRUE(p->send_raw(burst)) << who << " round " << round;
    }
    for (auto* p : {&f1, &f2, &obs}) {
      bool last1 = false, last2 = false;
      while (!(last1 && last2)) {
        auto l = p->line();
        ASSERT_TRUE(l) << "round " << round << ": a reading client lost";
        if (*l == "* quiet left #room") {
          quiet_left = true;
          continue;
        }
        ASSERT_EQ(l->rfind("<f", 0), 0u) << *l;
        last1 = last1 || *l == cat("<f1> ", flood_line("f1", round, per_round - 1));
        last2 = last2 || *l == cat("<f2> ", flood_line("f2", round, per_round - 1));
      }
    }
    rss_peak = std::max(rss_peak, rss_of(srv.child.pid));
  }
  ASSERT_TRUE(quiet_left) << "still a member after " << round << " rounds";
  // The quiet client finds what its kernel buffers held, then the end: it
  // was cut off, not merely slow. Its lines are a prefix of the room's.
  size_t got = 0;
  while (auto l = quiet.line(30s))
    if (l->rfind("<f", 0) == 0)
      ++got;
  EXPECT_TRUE(quiet.eof(1s)) << "the silent client was not disconnected";
  EXPECT_LT(got, size_t{2} * per_round * static_cast<size_t>(round));
  // The others keep chatting.
  ASSERT_TRUE(obs.send_line("still here"));
  for (auto* p : {&f1, &f2, &obs})
    EXPECT_TRUE(p->wait_for("<obs> still here"));
  ASSERT_TRUE(f1.send_line("/list"));
  EXPECT_TRUE(f1.wait_for("* members of #room: f1 f2 obs"));
  auto growth = rss_peak - rss_before;
  EXPECT_LT(growth, size_t{64} << 20) << "server RSS grew by " << growth
                                      << " bytes over " << round << " rounds";
  RecordProperty("rounds", round);
  RecordProperty("rss_growth", static_cast<int>(growth));
}

} // namespace
