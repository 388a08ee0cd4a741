// actio-udp-echo as a user runs it: a real process, its output, signals.

#include <csignal>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "actio/drivers/log_limiter.hpp"
#include "actio/drivers/select.hpp"
#include "support/datagram_peer.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

const std::string udp_echo_bin = ACTIO_UDP_ECHO_BIN;

TEST(udp_echo_process, help_exits_zero) {
  auto child = test::spawn_process(udp_echo_bin, {"--help"});
  ASSERT_GT(child.pid, 0);
  auto text = child.read_all(30s);
  EXPECT_NE(text.find("--port"), std::string::npos) << text;
  EXPECT_NE(text.find("--backend"), std::string::npos) << text;
  EXPECT_EQ(child.stop(0, 30s), 0);
}

TEST(udp_echo_process, echoes_on_every_backend_and_exits_zero_on_signals) {
  for (auto& backend : available_backends()) {
    for (int sig : {SIGINT, SIGTERM}) {
      auto child = test::spawn_process(udp_echo_bin, {"--port", "0", "--backend",
                                                      backend});
      auto line = child.read_line();
      EXPECT_NE(line.find("actio-udp-echo: listening on 127.0.0.1:"),
                std::string::npos)
        << line;
      EXPECT_NE(line.find("backend " + backend), std::string::npos) << line;
      test::udp_client client{line};
      ASSERT_TRUE(client.ok()) << line;
      for (uint32_t i = 0; i < 50; ++i) {
        auto data = test::random_bytes(1 + i * 30, i);
        ASSERT_TRUE(client.send_to(client.server, data));
        auto got = client.recv();
        ASSERT_TRUE(got) << backend << " datagram " << i;
        EXPECT_EQ(*got, data);
      }
      auto status = child.stop(sig, 30s);
      ASSERT_TRUE(WIFEXITED(status)) << backend << " status " << status;
      EXPECT_EQ(WEXITSTATUS(status), 0) << backend;
    }
  }
}

TEST(udp_echo_process, port_in_use_fails_with_exit_one) {
  test::datagram_peer taken{AF_INET, *net::address::ip("127.0.0.1", 0)};
  ASSERT_TRUE(taken.ok());
  auto child = test::spawn_process(
    udp_echo_bin, {"--port", std::to_string(taken.local().port())});
  EXPECT_EQ(child.read_line(), ""); // never says it is listening
  auto status = child.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(udp_echo_process, a_flood_of_truncated_datagrams_logs_a_bounded_number_of_lines) {
  test::spawn_options so;
  so.merge_stderr = true;
  auto child = test::spawn_process(
    udp_echo_bin, {"--port", "0", "--max-datagram", "16"}, so);
  auto line = child.read_line();
  test::udp_client client{line};
  ASSERT_TRUE(client.ok()) << line;
  // Lock-step, so every datagram reaches the server (none dropped by a full
  // socket buffer) and each echo proves one truncation was handled. 300
  // lines of the old one-per-datagram log still fit the pipe.
  constexpr size_t count = 300;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.lock_step_echoes(count, 16));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(child.stop(SIGTERM, 30s), 0);
  auto text = child.read_all(30s);
  size_t lines = 0;
  for (size_t pos = 0; (pos = text.find("truncated to 16 bytes", pos))
                       != std::string::npos;
       ++pos)
    ++lines;
  // The limiter's default: 10 lines per 5 s.
  auto windows = static_cast<size_t>(elapsed / log_limiter::default_interval) + 1;
  EXPECT_GE(lines, 1u) << text;
  EXPECT_LE(lines, log_limiter::default_burst * windows) << text;
}

} // namespace
