// The opening handshake (RFC 6455 §4.2): the 101 with the accept value of
// the RFC's example; refusals before the handler sees the request — a
// missing or malformed Sec-WebSocket-Key (400), another version (426 with
// Sec-WebSocket-Version: 13), a method other than GET or HTTP/1.0 (400),
// an Origin not allowed (403) — each answered as HTTP, then closed.

#include <string>

#include <gtest/gtest.h>

#include "actio/http/websocket_handshake.hpp"
#include "http/ws_fixture.hpp"

using namespace actio;
using namespace actio::test;

namespace {

class websocket_handshake_test : public websocket_test {};

class websocket_origin_test : public websocket_test {
protected:
  void configure(http::server_options& o) override {
    o.websocket.origins = {"http://good.example"};
  }
};

ACTIO_TEST_ALL_BACKENDS(websocket_handshake_test);
ACTIO_TEST_ALL_BACKENDS(websocket_origin_test);

/// Sends `req` on a new connection: the answer, which must end the connection.
http_client::reply refused(uint16_t port, const std::string& req) {
  ws::conn c{port};
  EXPECT_TRUE(c.send(req));
  auto r = c.read();
  EXPECT_EQ(r.header("connection"), "close") << r.head;
  EXPECT_TRUE(c.closed()) << "the connection stays open after " << r.status;
  return r;
}

} // namespace

TEST(websocket_accept, rfc_example) {
  EXPECT_EQ(http::websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_P(websocket_handshake_test, switches_protocols_with_the_accept_value) {
  ws::conn c{port_};
  auto r = ws::handshake(c);
  ASSERT_EQ(r.status, 101) << r.head;
  EXPECT_EQ(r.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(r.header("upgrade"), "websocket");
  EXPECT_EQ(r.header("connection"), "Upgrade");
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_TRUE(ws::echoes(c, "hello"));
}

TEST_P(websocket_handshake_test, frames_sent_with_the_handshake_are_kept) {
  ws::conn c{port_};
  ASSERT_TRUE(c.send(ws::upgrade_request() + ws::text("early")));
  ASSERT_EQ(c.read(true).status, 101);
  auto f = ws::read_frame(c);
  EXPECT_EQ(f.op, 0x1);
  EXPECT_EQ(f.payload, "early");
}

TEST_P(websocket_handshake_test, bad_keys_are_400) {
  for (std::string line : {"", "Sec-WebSocket-Key: short==\r\n",
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n",
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub2*jZQ==\r\n"}) {
    SCOPED_TRACE(line);
    EXPECT_EQ(refused(port_, ws::upgrade_request("/ws", "", line)).status, 400);
  }
}

TEST_P(websocket_handshake_test, other_versions_are_426_naming_13) {
  for (std::string v : {"8", "14", ""}) {
    SCOPED_TRACE(v);
    auto r = refused(port_, ws::upgrade_request("/ws", "", "Sec-WebSocket-Key: "
                                                + ws::key + "\r\n", v));
    EXPECT_EQ(r.status, 426);
    EXPECT_EQ(r.header("sec-websocket-version"), "13");
  }
}

TEST_P(websocket_handshake_test, non_get_and_http10_are_400) {
  auto req = ws::upgrade_request();
  EXPECT_EQ(refused(port_, "POST" + req.substr(3)).status, 400);
  auto v10 = req;
  v10.replace(v10.find("HTTP/1.1"), 8, "HTTP/1.0");
  EXPECT_EQ(refused(port_, v10).status, 400);
}

TEST_P(websocket_handshake_test, handler_refusal_is_sent_as_http) {
  EXPECT_EQ(refused(port_, ws::upgrade_request("/elsewhere")).status, 404);
  // A plain GET of /ws is no upgrade: the handler's 404, keep-alive.
  ws::conn c{port_};
  ASSERT_TRUE(c.send("GET /ws HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(c.read().status, 404);
}

TEST_P(websocket_origin_test, only_listed_origins_are_accepted) {
  EXPECT_EQ(refused(port_, ws::upgrade_request("/ws", "Origin: http://evil.example\r\n"))
              .status,
            403);
  EXPECT_EQ(refused(port_, ws::upgrade_request("/ws")).status, 403); // none
  ws::conn c{port_};
  ASSERT_TRUE(c.send(ws::upgrade_request("/ws", "Origin: http://good.example\r\n")));
  ASSERT_EQ(c.read(true).status, 101);
  EXPECT_TRUE(ws::echoes(c, "from a good origin"));
}
