// The close handshake both ways: a client's close is answered with its
// code (none if it sent none) and the handler's `ws_closed` carries it; a
// handler's `ws_close` sends its code and reason (a code a close frame may
// not carry goes out as 1011) and the server then ends the connection; a
// client that vanishes without a close frame (also one that half-closed
// before the switch) is reported as 1006.

#include <sys/socket.h>

#include <string>

#include <gtest/gtest.h>

#include "http/ws_fixture.hpp"

using namespace actio;
using namespace actio::test;

namespace {

class websocket_close_test : public websocket_test {};

ACTIO_TEST_ALL_BACKENDS(websocket_close_test);

} // namespace

TEST_P(websocket_close_test, client_close_is_answered_with_its_code) {
  auto c = open("/bye");
  EXPECT_TRUE(ws::closes_with(*c, ws::frame(0x88, ws::close_payload(4003, "done")),
                              4003));
  EXPECT_TRUE(wait_until([&] { return closed_code_->load() == 4003; }, 20s))
    << closed_code_->load();
  auto d = open();
  EXPECT_TRUE(ws::closes_with(*d, ws::frame(0x88, ""), 1005)); // none back
}

TEST_P(websocket_close_test, handler_close_sends_its_code_and_reason) {
  auto c = open("/bye");
  ASSERT_TRUE(c->send(ws::text("4002")));
  auto f = ws::read_frame(*c);
  ASSERT_EQ(f.op, 0x8);
  EXPECT_EQ(f.close_code(), 4002);
  EXPECT_EQ(f.payload.substr(2), "bye");
  EXPECT_TRUE(c->closed());
  ::close(c->fd); // (the server waits for this EOF, at most close_timeout)
  c->fd = -1;
  EXPECT_TRUE(wait_until([&] { return closed_code_->load() == 4002; }, 20s))
    << closed_code_->load();
}

TEST_P(websocket_close_test, an_invalid_handler_code_goes_out_as_1011) {
  auto c = open("/bye");
  EXPECT_TRUE(ws::closes_with(*c, ws::text("1005"), 1011));
}

TEST_P(websocket_close_test, a_vanished_client_is_1006) {
  auto c = open("/bye");
  ASSERT_TRUE(c->send(ws::frame(0x89, "")));
  ASSERT_EQ(ws::read_frame(*c).op, 0xA); // open and served
  ::close(c->fd);
  c->fd = -1;
  EXPECT_TRUE(wait_until([&] { return closed_code_->load() == 1006; }, 20s))
    << closed_code_->load();
}

TEST_P(websocket_close_test, a_client_half_closed_before_the_switch_is_1006) {
  ws::conn c{port_};
  ASSERT_TRUE(c.send(ws::upgrade_request("/bye")));
  ::shutdown(c.fd, SHUT_WR);
  EXPECT_EQ(c.read(true).status, 101);
  EXPECT_TRUE(c.closed()) << "the connection outlived its client";
  EXPECT_TRUE(wait_until([&] { return closed_code_->load() == 1006; }, 20s))
    << closed_code_->load();
}
