// actio-httpd's WebSocket echo (`/ws`) against a strict client: Python's
// `websockets` (Debian python3-websockets, for /usr/bin/python3) runs
// tests/http/websocket_client.py — text, UTF-8, binary, empty, a 1 MiB
// message in 16 fragments, fragmented text, a ping and its pong, a close
// with code 4001 answered with 4001, and a non-WebSocket path refused.
// Skipped, saying why, without the module.

#include <signal.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "http/http_client.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio::test;
namespace fs = std::filesystem;

TEST(websocket_python, echo_fragments_ping_and_close) {
  const std::string python = "/usr/bin/python3";
  {
    auto probe = spawn_process(python, {"-c", "import websockets"});
    if (probe.stop(0, 30s) != 0)
      GTEST_SKIP() << "python3-websockets is not installed for " << python;
  }
  auto root = fs::temp_directory_path() / ("actio-ws-" + std::to_string(::getpid()));
  fs::create_directories(root);
  auto httpd = spawn_process(ACTIO_HTTPD_BIN, {"--port", "0", "--root", root.string()});
  auto port = parse_port(httpd.read_line(30s));
  ASSERT_NE(port, 0);
  auto out = http_client::run_program(
    python, {std::string(ACTIO_TESTS_DIR) + "/http/websocket_client.py",
             std::to_string(port)},
    true);
  EXPECT_EQ(out, "text ok 5\n"
                 "utf8 ok 8\n"
                 "binary ok 1024\n"
                 "empty ok 0\n"
                 "fragmented ok 16 1048576\n"
                 "fragmented text ok\n"
                 "pong ok\n"
                 "closed 4001 bye\n"
                 "refused 404\n");
  // The server is still fine: a second run of the same client passes.
  auto again = http_client::run_program(
    python, {std::string(ACTIO_TESTS_DIR) + "/http/websocket_client.py",
             std::to_string(port)},
    true);
  EXPECT_EQ(again, out);
  EXPECT_EQ(httpd.stop(SIGTERM, 30s), 0) << "actio-httpd's wait status";
  fs::remove_all(root);
}
