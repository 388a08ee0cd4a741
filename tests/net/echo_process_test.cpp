// actio-echo as a user runs it: a real process, its output, its signals,
// and its behaviour when it runs out of descriptors.

#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

#include "actio/drivers/select.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

const std::string echo_bin = ACTIO_ECHO_BIN;

bool echoes(int fd, uint32_t seed, test::clock::duration timeout = 30s) {
  return test::echoes_random(fd, seed, timeout);
}

TEST(echo_process, help_lists_the_options_and_exits_zero) {
  auto child = test::spawn_process(echo_bin, {"--help"});
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(child.stop(0, 30s), 0); // signal 0: just wait
}

TEST(echo_process, unknown_backend_fails_with_a_clear_message) {
  // stderr is not captured; the exit code and stdout tell the story.
  auto child = test::spawn_process(echo_bin, {"--port", "0",
                                              "--actio.io.backend=nope"});
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(child.read_line(), ""); // never says it is listening
  auto status = child.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
}

TEST(echo_process, sigint_drains_open_connections_and_exits_zero) {
  auto child = test::spawn_process(echo_bin, {"--port", "0"});
  auto port = test::parse_port(child.read_line());
  ASSERT_NE(port, 0);
  ASSERT_NE(child.read_line(), ""); // the backend line
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) {
    fds.push_back(test::connect_tcp(port));
    ASSERT_TRUE(echoes(fds.back(), static_cast<uint32_t>(i)));
  }
  ASSERT_EQ(::kill(child.pid, SIGINT), 0);
  EXPECT_NE(child.read_line().find("draining"), std::string::npos);
  for (auto fd : fds) {
    EXPECT_TRUE(test::wait_eof(fd, 10s)); // idle: shut down at once
    ::close(fd); // and the connection ends when we close
  }
  EXPECT_NE(child.read_line(30s).find("drained 10 connection(s), 0 closed"),
            std::string::npos);
  auto status = child.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The port is closed.
  EXPECT_LT(test::connect_tcp(port), 0);
}

TEST(echo_process, sigterm_lets_the_echo_in_flight_complete) {
  // 8 MiB towards the echo, read back only in part before SIGTERM: what
  // comes back is an exact prefix of what was sent, at least the part seen
  // before the signal, followed by a clean EOF; the process exits 0.
  auto child = test::spawn_process(echo_bin, {"--port", "0"});
  auto port = test::parse_port(child.read_line());
  ASSERT_NE(port, 0);
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto data = test::random_bytes(8 * 1024 * 1024, 42);
  std::thread sender{[&] {
    test::send_all(fd, data.data(), data.size(), 60s);
    ::shutdown(fd, SHUT_WR);
  }};
  std::vector<uint8_t> back(64 * 1024);
  ASSERT_TRUE(test::recv_exact(fd, back.data(), back.size(), 30s));
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  for (;;) {
    uint8_t buf[65536];
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      EXPECT_EQ(n, 0) << "not a clean EOF: " << strerror(errno);
      break;
    }
    back.insert(back.end(), buf, buf + n);
  }
  sender.join();
  RecordProperty("echoed_bytes", static_cast<int>(back.size()));
  ASSERT_LE(back.size(), data.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()))
    << "echo is not a prefix of the data sent";
  std::string out;
  EXPECT_TRUE(test::exits_with(child, 0, 0, &out));
  EXPECT_NE(out.find("drained 1 connection(s), 0 closed"), std::string::npos)
    << out;
  ::close(fd);
}

TEST(echo_process, second_signal_exits_at_once) {
  EXPECT_TRUE(test::exits_at_once_on_second_signal(echo_bin, SIGTERM));
}

class echo_process_backend : public ::testing::TestWithParam<std::string> {};

/// The first line of `child`'s output containing `needle` within `timeout`;
/// empty if none came.
std::string line_with(test::child_process& child, const std::string& needle,
                      test::clock::duration timeout) {
  auto deadline = test::clock::now() + timeout;
  while (test::clock::now() < deadline) {
    auto line = child.read_line(deadline - test::clock::now());
    if (line.find(needle) != std::string::npos)
      return line;
    if (line.empty() && test::clock::now() >= deadline)
      break;
  }
  return {};
}

TEST_P(echo_process_backend, accept_under_emfile_pauses_without_spinning_and_resumes) {
  // 64 descriptors: the server runs out long before our 80 connections.
  constexpr long limit = 64;
  constexpr int clients = 80;
  // stderr with stdout: the listener says when it pauses and resumes.
  auto child = test::spawn_process(
    echo_bin, {"--port", "0", "--actio.io.backend=" + GetParam()},
    test::spawn_options{.nofile = limit, .merge_stderr = true});
  auto port = test::parse_port(child.read_line());
  ASSERT_NE(port, 0);
  std::vector<int> fds;
  for (int i = 0; i < clients; ++i) {
    fds.push_back(test::connect_tcp(port)); // completes via the backlog
    ASSERT_GE(fds.back(), 0) << "connect " << i;
  }
  // The server did run out of descriptors, and said so.
  auto paused = line_with(child, "pauses accepting", 30s);
  ASSERT_NE(paused, "") << "no EMFILE back-off was reported";
  EXPECT_NE(paused.find("Too many open files"), std::string::npos) << paused;
  RecordProperty("paused", paused);
  // The first connection was accepted early and keeps working.
  ASSERT_TRUE(echoes(fds[0], 1));
  // The last one cannot have been accepted: the server is saturated. Its
  // CPU use over a second must stay low (no busy accept loop).
  auto cpu_before = test::cpu_seconds(child.pid);
  auto wall_before = test::clock::now();
  ASSERT_TRUE(echoes(fds[1], 2)); // still served while saturated
  std::this_thread::sleep_for(1s); // a measurement window, not a sync point
  auto cpu = test::cpu_seconds(child.pid) - cpu_before;
  auto wall = std::chrono::duration<double>(test::clock::now() - wall_before).count();
  EXPECT_LT(cpu / wall, 0.25) << "server used " << cpu << " s CPU in " << wall
                              << " s while saturated";
  // Free descriptors: accepting resumes and the last client is served.
  // Enough of them for every backend: libkqueue alone holds 8 more
  // descriptors than epoll (its epoll set, eventfds, a monitoring thread's
  // pipe and socket pair), so the server accepted fewer before EMFILE.
  constexpr int freed = 40;
  for (int i = 0; i < freed; ++i)
    ::close(fds[i]);
  EXPECT_NE(line_with(child, "accepts again", 30s), "");
  EXPECT_TRUE(echoes(fds[clients - 1], 3, 30s));
  for (int i = freed; i < clients; ++i)
    ::close(fds[i]);
  auto status = child.stop(SIGTERM, 30s);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

INSTANTIATE_TEST_SUITE_P(backends, echo_process_backend,
                         ::testing::ValuesIn(actio::available_backends()),
                         [](const auto& x) { return x.param; });

} // namespace
