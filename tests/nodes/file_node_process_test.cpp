// actio-file-node as real processes: a server node publishing a root
// directory and a client process printing a file from it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

struct file_node {
  test::child_process proc;
  uint16_t port = 0;
};

file_node start_server(const std::string& root) {
  file_node node;
  node.proc = test::spawn_process(ACTIO_FILE_NODE_BIN,
                                  {"--root", root, "--node-port", "0"});
  auto line = node.proc.read_line(30s);
  EXPECT_NE(line.find("file-node listening on 127.0.0.1:"), std::string::npos)
    << line;
  node.port = test::parse_port(line);
  return node;
}

std::string cat(uint16_t port, const std::string& path, int& status) {
  auto client = test::spawn_process(
    ACTIO_FILE_NODE_BIN,
    {"--connect", "127.0.0.1:" + std::to_string(port), "--cat", path},
    test::spawn_options{.merge_stderr = true});
  auto out = client.read_all(60s);
  status = client.stop(SIGTERM, 30s);
  return out;
}

TEST(file_node_process, client_prints_a_file_and_escapes_are_refused) {
  test::temp_dir tmp;
  std::filesystem::create_directories(tmp.path / "root");
  std::string content;
  for (int i = 0; i < 3 * 1024 * 1024 + 17; ++i)
    content.push_back(static_cast<char>('a' + i % 26));
  {
    std::ofstream out{tmp.path / "root" / "big.txt", std::ios::binary};
    out << content;
  }
  {
    std::ofstream out{tmp.path / "secret"};
    out << "secret";
  }
  auto server = start_server((tmp.path / "root").string());
  ASSERT_NE(server.port, 0);
  int status = -1;
  auto out = cat(server.port, "big.txt", status);
  EXPECT_TRUE(out == content) << out.size() << " bytes";
  ASSERT_TRUE(test::exited_normally(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto refused = cat(server.port, "../secret", status);
  EXPECT_NE(refused.find("outside the root"), std::string::npos) << refused;
  EXPECT_EQ(refused.find("secret\n"), std::string::npos);
  ASSERT_TRUE(test::exited_normally(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  auto stopped = server.proc.stop(SIGTERM, 30s);
  ASSERT_TRUE(test::exited_normally(stopped));
  EXPECT_EQ(WEXITSTATUS(stopped), 0);
}

TEST(file_node_process, help_and_bad_usage) {
  auto help = test::spawn_process(ACTIO_FILE_NODE_BIN, {"--help"},
                                  test::spawn_options{.merge_stderr = true});
  auto text = help.read_all(30s);
  for (auto opt : {"--root", "--max-in-flight", "--max-transfer",
                   "--max-bytes-in-flight"})
    EXPECT_NE(text.find(opt), std::string::npos) << opt << " in " << text;
  EXPECT_EQ(WEXITSTATUS(help.stop(SIGTERM, 30s)), 0);
  auto bad = test::spawn_process(ACTIO_FILE_NODE_BIN, {},
                                 test::spawn_options{.merge_stderr = true});
  auto msg = bad.read_all(30s);
  EXPECT_NE(msg.find("--root"), std::string::npos) << msg;
  EXPECT_EQ(WEXITSTATUS(bad.stop(SIGTERM, 30s)), 2);
}

TEST(file_node_process, transfer_limit_from_the_command_line) {
  test::temp_dir tmp;
  std::filesystem::create_directories(tmp.path / "root");
  {
    std::ofstream out{tmp.path / "root" / "f.txt"};
    out << "hello";
  }
  // The client reads 1 MiB at a time: above this server's limit.
  file_node node;
  node.proc = test::spawn_process(
    ACTIO_FILE_NODE_BIN, {"--root", (tmp.path / "root").string(),
                          "--node-port", "0", "--max-transfer=4096",
                          "--max-bytes-in-flight=8192", "--max-in-flight=2"});
  node.port = test::parse_port(node.proc.read_line(30s));
  ASSERT_NE(node.port, 0);
  int status = -1;
  auto out = cat(node.port, "f.txt", status);
  EXPECT_NE(out.find("above the limit of 4096 bytes"), std::string::npos)
    << out;
  ASSERT_TRUE(test::exited_normally(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(WEXITSTATUS(node.proc.stop(SIGTERM, 30s)), 0);
  // Limits that cannot work are refused at start-up.
  auto bad = test::spawn_process(
    ACTIO_FILE_NODE_BIN,
    {"--root", (tmp.path / "root").string(), "--max-transfer=4096",
     "--max-bytes-in-flight=1024"},
    test::spawn_options{.merge_stderr = true});
  auto msg = bad.read_all(30s);
  EXPECT_NE(msg.find("max_bytes_in_flight at least max_transfer"),
            std::string::npos)
    << msg;
  EXPECT_EQ(WEXITSTATUS(bad.stop(SIGTERM, 30s)), 1);
}

} // namespace

// A FIFO under the root used to wedge the whole node: the open blocked a
// scheduler thread, other clients timed out and SIGTERM could not stop it.
TEST(file_node_process, a_fifo_is_refused_others_served_and_sigterm_stops) {
  test::temp_dir tmp;
  std::filesystem::create_directories(tmp.path / "root");
  ASSERT_EQ(::mkfifo((tmp.path / "root" / "pipe").c_str(), 0600), 0);
  {
    std::ofstream out{tmp.path / "root" / "f.txt"};
    out << "hello";
  }
  auto server = start_server((tmp.path / "root").string());
  ASSERT_NE(server.port, 0);
  int status = -1;
  auto refused = cat(server.port, "pipe", status);
  EXPECT_NE(refused.find("not a regular file"), std::string::npos) << refused;
  ASSERT_TRUE(test::exited_normally(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(cat(server.port, "f.txt", status), "hello");
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto stopped = server.proc.stop(SIGTERM, 30s);
  ASSERT_TRUE(test::exited_normally(stopped));
  EXPECT_EQ(WEXITSTATUS(stopped), 0);
}

// The client blocked SIGINT and SIGTERM (for the server's sigwait) and so
// ignored them: waiting for a node that accepts but never answers, it ran
// on through every connect attempt.
TEST(file_node_process, cat_stops_on_sigint_and_sigterm) {
  for (int sig : {SIGINT, SIGTERM}) {
    // Accepts (the kernel's backlog) and never speaks BASP.
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(lfd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
    ASSERT_EQ(::listen(lfd, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    auto client = test::spawn_process(
      ACTIO_FILE_NODE_BIN,
      {"--connect", "127.0.0.1:" + std::to_string(ntohs(addr.sin_port)),
       "--cat", "f.txt"});
    // Once the client's connection is queued, it is past start-up and
    // waiting for the node.
    ASSERT_TRUE(test::wait_until([&] {
      pollfd p{lfd, POLLIN, 0};
      return ::poll(&p, 1, 0) == 1;
    })) << "the client never connected";
    auto t0 = test::clock::now();
    auto status = client.stop(sig, 10s);
    EXPECT_NE(status, -1) << "signal " << sig << " ignored";
    EXPECT_LT(test::clock::now() - t0, 10s);
    ::close(lfd);
  }
}

