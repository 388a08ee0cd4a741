// actio-udp-echo as a user runs it: a real process, its output, signals.

#include <csignal>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "actio/drivers/driver.hpp"
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
      auto port = test::parse_port(line);
      ASSERT_NE(port, 0) << line;
      auto server = *net::address::ip("127.0.0.1", port);
      test::datagram_peer client{AF_INET, *net::address::ip("127.0.0.1", 0)};
      ASSERT_TRUE(client.ok());
      for (uint32_t i = 0; i < 50; ++i) {
        auto data = test::random_bytes(1 + i * 30, i);
        ASSERT_TRUE(client.send_to(server, data));
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

} // namespace
