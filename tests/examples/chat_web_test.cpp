// actio-chat --http-port: the browser chat. Headless Chromium (Debian
// `chromium`, driven through its DevTools protocol by
// tests/examples/chat_browser.py with /usr/bin/python3's `websockets`):
// two pages and an nc-style text client share #lobby and each sees every
// line once. Python's strict `websockets` as a WebSocket client: one text
// message is one line, and the chat's end ends the WebSocket with 1000.
// The page and the HTTP answers around it. Skipped, saying why, where
// chromium or python3-websockets is missing (`./actio test` installs both).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"
#include "http/http_client.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

const std::string python = "/usr/bin/python3";
const std::string chromium = "/usr/bin/chromium";

bool python_has_websockets() {
  auto probe = spawn_process(python, {"-c", "import websockets"});
  return probe.stop(0, 30s) == 0;
}

/// actio-chat with the web port: the chat port, then the web port.
struct web_chat {
  child_process child;
  uint16_t port = 0;
  uint16_t http_port = 0;
  web_chat()
    : child(spawn_process(ACTIO_CHAT_BIN,
                          {"--port", "0", "--http-port", "0", "--rate=0"})) {
    port = parse_port(child.read_line(30s));
    auto line = child.read_line(30s); // "actio-chat: web chat on http://H:P/"
    auto colon = line.rfind(':');
    if (line.find("web chat on http://") != std::string::npos
        && colon != std::string::npos)
      http_port = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  }
};

} // namespace

TEST(chat_web, two_browser_pages_and_a_text_client_share_a_room) {
  if (::access(chromium.c_str(), X_OK) != 0)
    GTEST_SKIP() << chromium << " is not installed (Debian chromium)";
  if (!python_has_websockets())
    GTEST_SKIP() << "python3-websockets is not installed for " << python;
  web_chat srv;
  ASSERT_NE(srv.port, 0);
  ASSERT_NE(srv.http_port, 0);
  auto out = http_client::run_program(
    python, {std::string(ACTIO_TESTS_DIR) + "/examples/chat_browser.py", chromium,
             std::to_string(srv.http_port), std::to_string(srv.port)});
  EXPECT_EQ(out, "pages welcomed\n"
                 "all joined\n"
                 "ann saw each line once\n"
                 "bea saw each line once\n"
                 "cid saw each line once\n");
  EXPECT_EQ(srv.child.stop(SIGTERM, 30s), 0);
}

TEST(chat_web, a_websocket_message_is_one_line_and_the_chat_ends_it) {
  if (!python_has_websockets())
    GTEST_SKIP() << "python3-websockets is not installed for " << python;
  web_chat srv;
  ASSERT_NE(srv.http_port, 0);
  chat_peer nc{srv.port};
  ASSERT_TRUE(nc.ok());
  ASSERT_TRUE(nc.send_raw("/nick nc\n/join r\n"));
  ASSERT_TRUE(nc.wait_for("* nc joined #r"));
  // A message with a newline inside stays one line; a binary message is
  // ignored; /quit ends the WebSocket with 1000.
  const char* script = R"(
import asyncio, sys, websockets
async def main(port):
    async with websockets.connect("ws://127.0.0.1:%s/ws" % port) as ws:
        print(await asyncio.wait_for(ws.recv(), 30))
        await ws.send("/nick web")
        await ws.send("/join r")
        await ws.send(b"\x00binary")
        await ws.send("two\nparts")
        await ws.send("/quit")
        try:
            while True:
                print(await asyncio.wait_for(ws.recv(), 30))
        except websockets.ConnectionClosed as e:
            print("closed", e.code)
asyncio.run(main(sys.argv[1]))
)";
  auto out = http_client::run_program(python, {"-c", script,
                                               std::to_string(srv.http_port)});
  EXPECT_EQ(out, "* welcome to actio-chat: /nick NAME, then /join ROOM; /help "
                 "lists the commands\n"
                 "* you are now known as web\n"
                 "* web joined #r\n"
                 "<web> two parts\n"
                 "* web left #r\n"
                 "* bye\n"
                 "closed 1000\n");
  EXPECT_TRUE(nc.wait_for("<web> two parts"));
  EXPECT_TRUE(nc.wait_for("* web left #r"));
  EXPECT_EQ(srv.child.stop(SIGTERM, 30s), 0);
}

TEST(chat_web, the_page_and_the_other_paths) {
  web_chat srv;
  ASSERT_NE(srv.http_port, 0);
  http_client::conn c{srv.http_port};
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto page = c.read();
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>actio-chat</title>"), std::string::npos);
  EXPECT_NE(page.body.find("new WebSocket("), std::string::npos);
  ASSERT_TRUE(c.send("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read().status, 426);
  ASSERT_TRUE(c.send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read().status, 404);
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(c.read().status, 405);
  EXPECT_EQ(srv.child.stop(SIGTERM, 30s), 0);
}

TEST(chat_web, a_bad_http_port_is_a_usage_error) {
  auto child = spawn_process(ACTIO_CHAT_BIN, {"--http-port", "70000"},
                             {.merge_stderr = true});
  auto out = child.read_all(30s);
  EXPECT_NE(out.find("--http-port: '70000' is not a port number"), std::string::npos)
    << out;
  auto status = child.stop(0, 30s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
}
