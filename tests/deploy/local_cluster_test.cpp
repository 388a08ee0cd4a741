// deploy/local-cluster as users run it: the script starts 3 actio-chat
// nodes (TLS between them, every port from the OS), clients on different
// nodes chat, SIGINT stops everything; a real Prometheus scrapes the nodes
// with deploy/prometheus.yml and answers every query of
// deploy/grafana-dashboard.json (tests/deploy/prometheus_check.py).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"
#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

struct node_line {
  int index = 0;
  uint16_t client_port = 0;
  uint16_t node_port = 0;
  uint16_t metrics_port = 0;
  int pid = 0;
};

bool process_exists(int pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

std::string cmdline(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/cmdline"};
  std::string s{std::istreambuf_iterator<char>{in}, {}};
  for (auto& c : s)
    if (c == '\0')
      c = ' ';
  return s;
}

/// True if this actio-chat is the distributed one (has --node-port); the
/// cluster tests need it.
bool chat_has_nodes() {
  auto help = spawn_process(ACTIO_CHAT_BIN, {"--help"});
  auto text = help.read_all(30s);
  help.stop(SIGKILL, 10s);
  return text.find("--node-port") != std::string::npos;
}

#define REQUIRE_DISTRIBUTED_CHAT()                                            \
  if (!chat_has_nodes())                                                      \
  GTEST_SKIP() << "actio-chat has no --node-port (distributed chat not built)"

/// Kills what the script started if the test ends early (the nodes run in
/// their own sessions: killing the script alone would leave them behind).
struct node_guard {
  std::vector<int> pids;
  ~node_guard() {
    for (int pid : pids)
      if (process_exists(pid))
        ::kill(pid, SIGKILL);
  }
};

/// The script, started with SIGINT at its default disposition (a shell
/// cannot trap a signal that was ignored when it started).
child_process start_cluster(const std::vector<std::string>& args) {
  struct sigaction dfl {}, old{};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGINT, &dfl, &old);
  auto child = spawn_process(ACTIO_LOCAL_CLUSTER, args,
                             spawn_options{.merge_stderr = true});
  sigaction(SIGINT, &old, nullptr);
  return child;
}

/// Reads the script's output until "N nodes up" (true) or EOF/timeout;
/// collects the node lines into `nodes` (and their pids into `guard`) and
/// every line into `seen`.
bool read_until_up(child_process& script, size_t n, std::vector<node_line>& nodes,
                   node_guard& guard, std::string& seen) {
  std::regex node_re{
    R"(node(\d+) client 127\.0\.0\.1:(\d+) node 127\.0\.0\.1:(\d+) )"
    R"(metrics 127\.0\.0\.1:(\d+) pid (\d+))"};
  auto up = cat("local-cluster: ", std::to_string(n),
                " nodes up, TLS between nodes");
  for (auto deadline = clock::now() + 240s; clock::now() < deadline;) {
    auto line = script.read_line(deadline - clock::now());
    if (line.empty())
      return false; // EOF or timeout (the script prints no empty lines)
    seen.append(line).append("\n");
    std::smatch m;
    if (std::regex_match(line, m, node_re)) {
      nodes.push_back({std::stoi(m[1]), static_cast<uint16_t>(std::stoi(m[2])),
                       static_cast<uint16_t>(std::stoi(m[3])),
                       static_cast<uint16_t>(std::stoi(m[4])),
                       std::stoi(m[5])});
      guard.pids.push_back(nodes.back().pid);
    }
    if (line.find(up) != std::string::npos)
      return true;
  }
  return false;
}

/// `local-cluster N --base-port 0 --bin BIN --timeout 120 EXTRA...` (every
/// port from the OS) and what it printed.
struct cluster_run {
  child_process script;
  node_guard guard;
  std::vector<node_line> nodes;
  std::string seen; ///< every line so far, for failure messages

  cluster_run(size_t n, const std::vector<std::string>& extra) {
    auto bin = std::filesystem::path{ACTIO_CHAT_BIN}.parent_path().string();
    std::vector<std::string> args{std::to_string(n), "--base-port", "0",
                                  "--bin", bin, "--timeout", "120"};
    args.insert(args.end(), extra.begin(), extra.end());
    script = start_cluster(args);
  }

  /// Reads until "N nodes up" (true, with N node lines) or EOF/timeout.
  bool up(size_t n) {
    return script.pid > 0 && read_until_up(script, n, nodes, guard, seen)
           && nodes.size() == n;
  }

  /// SIGINT to the script, then its exit status (all output in `seen`).
  int interrupt() {
    auto status = script.stop(SIGINT, 180s);
    seen.append(script.read_all(5s));
    return status;
  }
};

/// Runs `openssl s_client` against 127.0.0.1:port with `dir`'s CA and
/// node1 certificate; its output.
std::string tls_probe(uint16_t port, const std::string& dir) {
  auto cmd = cat("exec openssl s_client -connect 127.0.0.1:",
                 std::to_string(port), " -CAfile ", dir, "/ca.pem -cert ", dir,
                 "/node1.pem -key ", dir,
                 "/node1.key -verify_return_error -brief </dev/null 2>&1");
  auto probe = spawn_process("/bin/sh", {"-c", cmd});
  auto out = probe.read_all(60s);
  probe.stop(SIGKILL, 10s);
  return out;
}

TEST(local_cluster, three_tls_nodes_chat_across_nodes_and_stop_on_sigint) {
  REQUIRE_DISTRIBUTED_CHAT();
  temp_dir tmp;
  auto certs = tmp.file("certs");
  cluster_run cluster{3, {"--certs", certs}};
  ASSERT_TRUE(cluster.up(3)) << cluster.seen;
  auto& nodes = cluster.nodes;
  for (int k = 0; k < 3; ++k) {
    auto& n = nodes[static_cast<size_t>(k)];
    EXPECT_EQ(n.index, k + 1);
    EXPECT_NE(n.client_port, 0);
    EXPECT_NE(n.node_port, 0);
    EXPECT_NE(n.client_port, n.node_port);
    EXPECT_NE(n.metrics_port, 0);
    // The node runs with TLS and this cluster's certificates ...
    auto args = cmdline(n.pid);
    EXPECT_NE(args.find(cat("--secure --certificate ", certs, "/node",
                            std::to_string(k + 1), ".pem")),
              std::string::npos)
      << args;
    // ... and its node port speaks TLS with a certificate from our CA.
    auto tls = tls_probe(n.node_port, certs);
    EXPECT_NE(tls.find("Verification: OK"), std::string::npos) << tls;
    EXPECT_NE(tls.find(cat("CN = node", std::to_string(k + 1))),
              std::string::npos)
      << tls;
  }

  // Clients on three nodes, one room.
  chat_peer alice{nodes[0].client_port}, bob{nodes[1].client_port},
    carol{nodes[2].client_port};
  for (auto [peer, nick] : {std::pair{&alice, "alice"}, std::pair{&bob, "bob"},
                            std::pair{&carol, "carol"}}) {
    ASSERT_TRUE(peer->ok()) << nick;
    ASSERT_TRUE(peer->send_line(cat("/nick ", nick)));
    ASSERT_EQ(peer->line(), cat("* you are now known as ", nick));
    ASSERT_TRUE(peer->send_line("/join #lobby"));
    ASSERT_TRUE(peer->wait_for(cat("* ", nick, " joined #lobby"))) << nick;
  }
  // Membership travels between nodes asynchronously: alice says numbered
  // pings until bob (node2) and then carol (node3) hear one.
  int ping = 0;
  auto hears_alice = [&](chat_peer& who) {
    return wait_until(
      [&] {
        alice.send_line(cat("ping ", std::to_string(++ping)));
        return who.wait_for("<alice> ping ", 1s);
      },
      90s);
  };
  ASSERT_TRUE(hears_alice(bob)) << "bob on node2 never heard alice on node1";
  ASSERT_TRUE(hears_alice(carol)) << "carol on node3 never heard alice";
  // Now everyone is known everywhere: one line from bob reaches both.
  ASSERT_TRUE(bob.send_line("hello from node2"));
  EXPECT_TRUE(alice.wait_for("<bob> hello from node2", 60s));
  EXPECT_TRUE(carol.wait_for("<bob> hello from node2", 60s));

  // Ctrl-C: every node stops, the script exits 0.
  auto status = cluster.interrupt();
  ASSERT_TRUE(exited_normally(status)) << status << "\n" << cluster.seen;
  EXPECT_EQ(WEXITSTATUS(status), 0) << cluster.seen;
  for (auto& n : nodes)
    EXPECT_FALSE(process_exists(n.pid)) << "node" << n.index << " still runs";
  EXPECT_TRUE(alice.eof(30s)); // its node closed the connection
}

TEST(local_cluster, prometheus_scrapes_the_nodes_and_answers_the_dashboard) {
  REQUIRE_DISTRIBUTED_CHAT();
  if (::access("/usr/bin/prometheus", X_OK) != 0)
    GTEST_SKIP() << "Debian's prometheus is not installed (./actio test "
                    "installs it)";
  temp_dir tmp;
  auto targets = tmp.file("targets.json");
  cluster_run cluster{2, {"--targets", targets}};
  ASSERT_TRUE(cluster.up(2)) << cluster.seen;
  auto& nodes = cluster.nodes;
  // The targets file names each node's metrics port.
  std::ifstream in{targets};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  for (auto& n : nodes)
    EXPECT_NE(text.find(cat("\"127.0.0.1:", std::to_string(n.metrics_port),
                            "\"], \"labels\": {\"node\": \"node",
                            std::to_string(n.index), "\"")),
              std::string::npos)
      << text;
  // Traffic, so that the chat's series exist and rates move.
  chat_peer erin{nodes[0].client_port}, fred{nodes[1].client_port};
  for (auto [peer, nick] :
       {std::pair{&erin, "erin"}, std::pair{&fred, "fred"}}) {
    ASSERT_TRUE(peer->send_line(cat("/nick ", nick)));
    ASSERT_EQ(peer->line(), cat("* you are now known as ", nick));
    ASSERT_TRUE(peer->send_line("/join #ops"));
    ASSERT_TRUE(peer->wait_for(cat("* ", nick, " joined #ops"))) << nick;
  }
  ASSERT_TRUE(erin.send_line("hello"));
  auto check = spawn_process(
    "/usr/bin/python3",
    {std::string{ACTIO_TESTS_DIR} + "/deploy/prometheus_check.py",
     std::string{ACTIO_DEPLOY_DIR} + "/prometheus.yml",
     std::string{ACTIO_DEPLOY_DIR} + "/grafana-dashboard.json", targets,
     tmp.path.string(), "2"},
    spawn_options{.merge_stderr = true});
  auto out = check.read_all(240s);
  auto status = check.stop(0, 30s);
  ASSERT_TRUE(exited_normally(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("ok: 2 targets up"), std::string::npos) << out;

  status = cluster.interrupt();
  ASSERT_TRUE(exited_normally(status)) << cluster.seen;
  EXPECT_EQ(WEXITSTATUS(status), 0) << cluster.seen;
}

TEST(local_cluster, help_and_bad_usage) {
  auto help = start_cluster({"--help"});
  auto text = help.read_all(30s);
  EXPECT_NE(text.find("--base-port"), std::string::npos) << text;
  EXPECT_EQ(WEXITSTATUS(help.stop(0, 30s)), 0);
  for (auto args : std::vector<std::vector<std::string>>{
         {}, {"0"}, {"100"}, {"2", "--base-port", "65500"}, {"2", "--bogus"}}) {
    auto bad = start_cluster(args);
    auto out = bad.read_all(30s);
    auto status = bad.stop(0, 30s);
    ASSERT_TRUE(exited_normally(status)) << out;
    EXPECT_EQ(WEXITSTATUS(status), 2) << out;
    EXPECT_NE(out.find("usage:"), std::string::npos) << out;
  }
}

TEST(local_cluster, a_node_that_fails_to_start_is_reported) {
  // --max-line 0 makes actio-chat refuse to start (exit status 2).
  temp_dir tmp;
  auto bin = std::filesystem::path{ACTIO_CHAT_BIN}.parent_path().string();
  auto script = start_cluster({"2", "--base-port", "0", "--bin", bin,
                               "--timeout", "120", "--", "--max-line", "0"});
  auto out = script.read_all(240s);
  auto status = script.stop(0, 30s);
  ASSERT_TRUE(exited_normally(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("node1 failed to start (exit status 2)"),
            std::string::npos)
    << out;
  EXPECT_EQ(out.find("node2"), std::string::npos) << out; // never started
}

TEST(local_cluster, a_dead_node_is_reported_and_the_others_keep_serving) {
  REQUIRE_DISTRIBUTED_CHAT();
  cluster_run cluster{2, {}};
  ASSERT_TRUE(cluster.up(2)) << cluster.seen;
  auto& nodes = cluster.nodes;
  auto& script = cluster.script;
  auto& seen = cluster.seen;
  ASSERT_EQ(::kill(nodes[1].pid, SIGKILL), 0);
  auto report = cat("node2 (pid ", std::to_string(nodes[1].pid),
                    ") exited unexpectedly (killed by SIGKILL)");
  bool reported = false;
  for (auto deadline = clock::now() + 60s; !reported && clock::now() < deadline;) {
    auto line = script.read_line(deadline - clock::now());
    if (line.empty())
      break;
    seen.append(line).append("\n");
    reported = line.find(report) != std::string::npos;
  }
  ASSERT_TRUE(reported) << seen;
  // node1 still serves clients.
  EXPECT_TRUE(process_exists(nodes[0].pid));
  chat_peer dora{nodes[0].client_port};
  ASSERT_TRUE(dora.send_line("/nick dora"));
  EXPECT_EQ(dora.line(), "* you are now known as dora");
  // A stop after a death: everything ends, exit status 1.
  auto status = cluster.interrupt();
  ASSERT_TRUE(exited_normally(status)) << seen;
  EXPECT_EQ(WEXITSTATUS(status), 1) << seen;
  EXPECT_FALSE(process_exists(nodes[0].pid));
}

} // namespace
