// The series of one service each, scraped while real clients use it and
// read by the reference parser (metrics_scrape.hpp): actio-chat's rooms,
// members and messages; the node links of two chat nodes, one of them
// killed and restarted; actio-file-node's error answers by operation.
// Each value is waited for (bounded), then checked exactly.

#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"
#include "examples/metrics_scrape.hpp"
#include "nodes/chat_nodes.hpp"

using namespace std::chrono_literals;
using namespace actio::test;
using namespace actio::test::metrics_scrape;

namespace {

using labels = std::map<std::string, std::string>;

class metrics_series : public ::testing::Test {
protected:
  void SetUp() override {
    if (!prom::available())
      GTEST_SKIP() << "/usr/bin/python3 has no prometheus_client: install "
                      "Debian's python3-prometheus-client (./actio test does)";
  }
};

/// The node port from a chat node's "actio-chat: node port N" line.
uint16_t node_port_of(const tool_process& t) {
  const std::string prefix = "actio-chat: node port ";
  for (auto& l : t.lines)
    if (l.rfind(prefix, 0) == 0)
      return static_cast<uint16_t>(std::stoul(l.substr(prefix.size())));
  return 0;
}

/// A chat node with metrics: client port 0, node port `node_port`.
tool_process chat_node_with_metrics(uint16_t node_port, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--port", "0", "--rate=0", "--node-port",
                                std::to_string(node_port)};
  args.insert(args.end(), extra.begin(), extra.end());
  return tool_process{ACTIO_CHAT_BIN, args};
}

TEST_F(metrics_series, chat_rooms_members_and_messages) {
  tool_process chat{ACTIO_CHAT_BIN, {"--port", "0", "--rate=0"}};
  ASSERT_NE(chat.metrics_port, 0);
  auto port = parse_port(chat.service_line);
  auto before = scrape_until(chat.metrics_port, [](auto&) { return true; });
  EXPECT_EQ(before.parsed.sum("actio_chat_rooms"), 0) << before.reply.body;
  EXPECT_EQ(before.parsed.sum("actio_chat_members"), 0);
  EXPECT_EQ(before.parsed.type_of("actio_chat_rooms"), "gauge");
  EXPECT_EQ(before.parsed.type_of("actio_chat_members"), "gauge");
  EXPECT_EQ(before.parsed.type_of("actio_chat_messages_posted"), "counter");
  EXPECT_EQ(before.parsed.type_of("actio_chat_messages_delivered"), "counter");

  auto alice = join_chat(port, "alice", "r");
  auto bob = join_chat(port, "bob", "r");
  ASSERT_TRUE(alice.peer && bob.peer);
  auto carol = join_chat(port, "carol", "s"); // a second room
  ASSERT_TRUE(carol.peer);
  ASSERT_TRUE(alice.peer->send_line("hello metrics"));
  ASSERT_TRUE(alice.peer->wait_for("<alice> hello metrics"));
  ASSERT_TRUE(bob.peer->wait_for("<alice> hello metrics"));
  auto s = scrape_until(chat.metrics_port, [](const prom::parse_result& p) {
    return p.sum("actio_chat_messages_delivered_total") >= 2;
  });
  auto& p = s.parsed;
  EXPECT_EQ(p.sum("actio_chat_rooms"), 2) << s.reply.body;
  EXPECT_EQ(p.sum("actio_chat_members"), 3);
  EXPECT_EQ(p.sum("actio_chat_messages_posted_total"), 1);
  EXPECT_EQ(p.sum("actio_chat_messages_delivered_total"), 2); // alice and bob

  // Bob goes: one member less; carol goes: her room is freed.
  bob.peer.reset();
  carol.peer.reset();
  auto after = scrape_until(chat.metrics_port, [](const prom::parse_result& q) {
    return q.sum("actio_chat_members") == 1 && q.sum("actio_chat_rooms") == 1;
  });
  EXPECT_EQ(after.parsed.sum("actio_chat_members"), 1) << after.reply.body;
  EXPECT_EQ(after.parsed.sum("actio_chat_rooms"), 1);
  EXPECT_EQ(after.parsed.sum("actio_chat_messages_posted_total"), 1);
  alice.peer.reset();
  auto empty = scrape_until(chat.metrics_port, [](const prom::parse_result& q) {
    return q.sum("actio_chat_rooms") == 0;
  });
  EXPECT_EQ(empty.parsed.sum("actio_chat_rooms"), 0) << empty.reply.body;
  EXPECT_EQ(empty.parsed.sum("actio_chat_members"), 0);
  EXPECT_EQ(chat.child.stop(SIGTERM, 30s), 0);
}

TEST_F(metrics_series, node_links_up_down_and_reconnect) {
  auto a = chat_node_with_metrics(0);
  auto a_port = node_port_of(a);
  ASSERT_NE(a_port, 0) << "no node port line";
  auto b = chat_node_with_metrics(0, {"--peer", peer_list({a_port})});
  ASSERT_NE(b.metrics_port, 0);
  labels peer{{"peer", "127.0.0.1:" + std::to_string(a_port)}};
  auto up = scrape_until(b.metrics_port, [&](const prom::parse_result& p) {
    return p.sum("actio_node_links_up", peer) == 1;
  });
  EXPECT_EQ(up.parsed.sum("actio_node_links_up", peer), 1) << up.reply.body;
  EXPECT_EQ(up.parsed.type_of("actio_node_links_up"), "gauge");
  EXPECT_EQ(up.parsed.type_of("actio_node_link_downs"), "counter");
  EXPECT_EQ(up.parsed.type_of("actio_node_link_reconnects"), "counter");
  EXPECT_EQ(up.parsed.sum("actio_node_link_downs_total", peer), 0);
  EXPECT_EQ(up.parsed.sum("actio_node_link_reconnects_total", peer), 0);
  // Node a links to nobody: no link series there.
  auto a_scrape = scrape_until(a.metrics_port, [](auto&) { return true; });
  EXPECT_FALSE(a_scrape.parsed.has("actio_node_links_up")) << a_scrape.reply.body;

  // Killed: down once, then failing connects while it is away.
  ASSERT_EQ(::kill(a.child.pid, SIGKILL), 0);
  ASSERT_TRUE(WIFSIGNALED(a.child.stop(0)));
  auto down = scrape_until(b.metrics_port, [&](const prom::parse_result& p) {
    return p.sum("actio_node_link_downs_total", peer) == 1
           && p.sum("actio_node_link_connect_failures_total", peer) >= 1;
  });
  EXPECT_EQ(down.parsed.sum("actio_node_links_up", peer), 0) << down.reply.body;
  EXPECT_EQ(down.parsed.sum("actio_node_link_downs_total", peer), 1);
  EXPECT_GE(down.parsed.sum("actio_node_link_connect_failures_total", peer), 1);
  EXPECT_EQ(down.parsed.sum("actio_node_link_reconnects_total", peer), 0);

  // Back on the same node port: up again, counted as a reconnect.
  auto back = chat_node_with_metrics(a_port);
  ASSERT_EQ(node_port_of(back), a_port);
  auto again = scrape_until(b.metrics_port, [&](const prom::parse_result& p) {
    return p.sum("actio_node_links_up", peer) == 1;
  });
  EXPECT_EQ(again.parsed.sum("actio_node_links_up", peer), 1) << again.reply.body;
  EXPECT_EQ(again.parsed.sum("actio_node_link_reconnects_total", peer), 1);
  EXPECT_EQ(again.parsed.sum("actio_node_link_downs_total", peer), 1);
  EXPECT_EQ(b.child.stop(SIGTERM, 30s), 0);
  EXPECT_EQ(back.child.stop(SIGTERM, 30s), 0);
}

TEST_F(metrics_series, remote_file_errors_by_operation) {
  char tmpl[] = "/tmp/actio-metrics-files-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  std::ofstream{root + "/there.txt"} << "here\n";
  tool_process node{ACTIO_FILE_NODE_BIN, {"--node-port", "0", "--root", root}};
  ASSERT_NE(node.metrics_port, 0);
  auto address = "127.0.0.1:" + std::to_string(parse_port(node.service_line));
  auto missing = spawn_process(ACTIO_FILE_NODE_BIN,
                               {"--connect", address, "--cat", "missing.txt"},
                               {.merge_stderr = true});
  auto out = missing.read_all(60s);
  auto status = missing.stop(0, 30s);
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  auto there = spawn_process(ACTIO_FILE_NODE_BIN, {"--connect", address, "--cat", "there.txt"});
  EXPECT_EQ(there.read_all(60s), "here\n");
  EXPECT_EQ(there.stop(0, 30s), 0);
  auto s = scrape_until(node.metrics_port, [](const prom::parse_result& p) {
    return p.sum("actio_remote_file_errors_total") >= 1
           && p.sum("actio_remote_file_read_bytes_total") >= 5;
  });
  auto& p = s.parsed;
  EXPECT_EQ(p.sum("actio_remote_file_requests_total", {{"op", "open"}}), 2) << s.reply.body;
  EXPECT_EQ(p.sum("actio_remote_file_errors_total", {{"op", "open"}}), 1);
  EXPECT_EQ(p.sum("actio_remote_file_errors_total"), 1); // nothing else failed
  EXPECT_TRUE(p.has_labels("actio_remote_file_errors_total", {{"op", "read_at"}}));
  EXPECT_EQ(node.child.stop(SIGTERM, 30s), 0);
  std::filesystem::remove_all(root);
}

} // namespace
