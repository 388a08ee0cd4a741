// The malformed-frame corpus over raw TCP after a valid handshake: each
// case gets a close frame with its code (1002 protocol error, 1007 invalid
// UTF-8, 1009 too big) and the server's EOF, and closes only its own
// connection: a connection opened before it still echoes afterwards.

#include <string>

#include <gtest/gtest.h>

#include "http/ws_fixture.hpp"

using namespace actio;
using namespace actio::test;

namespace {

class websocket_malformed_test : public websocket_test {};

ACTIO_TEST_ALL_BACKENDS(websocket_malformed_test);

struct bad_case {
  const char* name;
  std::string bytes; // sent after the handshake
  uint16_t code;
};

std::vector<bad_case> corpus() {
  using namespace ws;
  std::string big_header = "\x82\xFF"; // binary, masked, 64-bit length
  for (uint64_t n = 2u << 20, shift = 56;; shift -= 8) {
    big_header.push_back(static_cast<char>((n >> shift) & 0xFF));
    if (shift == 0)
      break;
  }
  big_header += "abcd"; // the key; no payload needed: refused at the header
  std::string part(400 * 1024, 'x');
  return {
    {"unmasked", frame(0x81, "hi", false), 1002},
    {"rsv1", frame(0xC1, "hi"), 1002},
    {"rsv2", frame(0xA1, "hi"), 1002},
    {"rsv3", frame(0x91, "hi"), 1002},
    {"opcode_3", frame(0x83, "hi"), 1002},
    {"opcode_B", frame(0x8B, "hi"), 1002},
    {"ping_126_bytes", frame(0x89, std::string(126, 'p')), 1002},
    {"fragmented_ping", frame(0x09, "p") + continuation("q"), 1002},
    {"fragmented_close", frame(0x08, close_payload(1000)), 1002},
    {"text_not_utf8", text("ok \xC3\x28"), 1007},
    {"text_overlong", text("\xC0\xAF"), 1007},
    {"text_surrogate", text("\xED\xA0\x80"), 1007},
    {"text_split_sequence_truncated",
     text("caf\xC3", false) + continuation("\xA9 and \xE2\x82", true), 1007},
    {"close_reason_not_utf8", frame(0x88, close_payload(1000, "\xFF")), 1007},
    {"close_code_1005", frame(0x88, close_payload(1005)), 1002},
    {"close_code_999", frame(0x88, close_payload(999)), 1002},
    {"close_code_1100", frame(0x88, close_payload(1100)), 1002},
    {"close_code_1006", frame(0x88, close_payload(1006)), 1002},
    {"close_one_byte", frame(0x88, std::string(1, '\x03')), 1002},
    {"too_big_at_header", big_header, 1009},
    {"too_big_in_fragments",
     binary(part, false) + continuation(part, false) + continuation(part), 1009},
    {"continuation_first", continuation("x"), 1002},
    {"text_inside_fragmented", text("a", false) + text("b"), 1002},
  };
}

} // namespace

TEST_P(websocket_malformed_test, malformed_frames_close_only_their_connection) {
  auto keeper = open();
  ASSERT_TRUE(ws::echoes(*keeper, "before"));
  for (auto& bad : corpus()) {
    SCOPED_TRACE(bad.name);
    auto c = open();
    ASSERT_TRUE(ws::echoes(*c, "fine"));
    EXPECT_TRUE(ws::closes_with(*c, bad.bytes, bad.code));
    EXPECT_TRUE(ws::echoes(*keeper, std::string("after ") + bad.name));
  }
}

TEST_P(websocket_malformed_test, utf8_split_across_fragments_is_accepted) {
  auto c = open();
  // "café €" with the é and the € each cut between two fragments.
  ASSERT_TRUE(c->send(ws::text("caf\xC3", false) + ws::continuation("\xA9 \xE2", false)
                      + ws::frame(0x89, "mid") // a ping between fragments
                      + ws::continuation("\x82\xAC")));
  auto pong = ws::read_frame(*c);
  EXPECT_EQ(pong.op, 0xA);
  EXPECT_EQ(pong.payload, "mid");
  auto f = ws::read_frame(*c);
  EXPECT_EQ(f.op, 0x1);
  EXPECT_EQ(f.payload, "caf\xC3\xA9 \xE2\x82\xAC");
}
