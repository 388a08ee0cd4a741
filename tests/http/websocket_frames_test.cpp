// The frame decoder (http/websocket_frames.hpp) and UTF-8 check
// (http/utf8.hpp) as units: a client's stream cut at every byte decodes to
// the same messages and control frames, all three length forms; server
// frames are encoded unmasked with the right length form; UTF-8 edge
// cases.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actio/http/utf8.hpp"
#include "actio/http/websocket_frames.hpp"
#include "http/ws_client.hpp"

using namespace actio;
using namespace actio::http;

namespace {

/// Feeds `bytes` to a decoder `step` bytes at a time (what a connection
/// does: unconsumed bytes stay, new ones are appended) and returns the
/// frames, "kind:data" (close: "8:code:reason").
std::vector<std::string> decode_all(const std::string& bytes, size_t step,
                                    size_t max_message = 1 << 20) {
  ws_decoder d{max_message};
  std::vector<std::string> out;
  std::string in;
  size_t fed = 0;
  while (fed < bytes.size() || !in.empty()) {
    if (fed < bytes.size()) {
      auto n = std::min(step, bytes.size() - fed);
      in.append(bytes, fed, n);
      fed += n;
    }
    for (;;) {
      auto r = d.decode(reinterpret_cast<const uint8_t*>(in.data()), in.size());
      EXPECT_FALSE(r.error);
      in.erase(0, std::min(r.consumed, in.size()));
      if (r.frame) {
        auto& f = *r.frame;
        auto s = std::to_string(static_cast<int>(f.kind)) + ":";
        if (f.kind == ws_frame::close || f.kind == ws_frame::error)
          s += std::to_string(f.code) + ":";
        out.push_back(s + f.data);
      } else if (r.consumed == 0) {
        break;
      }
    }
    if (fed == bytes.size() && !in.empty())
      break; // an incomplete frame at the end
  }
  return out;
}

} // namespace

TEST(websocket_frames, a_stream_cut_at_every_size_decodes_the_same) {
  using namespace actio::test::ws;
  std::string mid(300, 'm');         // 16-bit length
  std::string large(70000, 'L');     // 64-bit length
  auto stream = text("frag", false) + frame(0x89, "ping!") + continuation("ment")
                + binary(mid) + binary(large, false) + continuation("")
                + frame(0x8A, "") + frame(0x88, close_payload(1000, "done"));
  std::vector<std::string> want = {"9:ping!", "1:fragment", "2:" + mid,
                                   "2:" + large, "10:", "8:1000:done"};
  for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{125},
                      size_t{4096}, stream.size()}) {
    SCOPED_TRACE(step);
    EXPECT_EQ(decode_all(stream, step), want);
  }
}

TEST(websocket_frames, errors_carry_the_close_code_and_stop_decoding) {
  using namespace actio::test::ws;
  EXPECT_EQ(decode_all(frame(0x81, "x", false) + text("y"), 64),
            std::vector<std::string>{"255:1002:client frame not masked"});
  EXPECT_EQ(decode_all(binary("12345"), 64, 4),
            std::vector<std::string>{"255:1009:message over 4 bytes"});
  EXPECT_EQ(decode_all(text("ok") + text("\xFF"), 64),
            (std::vector<std::string>{"1:ok", "255:1007:text message not UTF-8"}));
}

TEST(websocket_frames, server_frames_are_unmasked_with_the_shortest_length) {
  for (size_t n : {size_t{0}, size_t{125}, size_t{126}, size_t{65535},
                   size_t{65536}}) {
    byte_buffer out;
    encode_ws_frame(out, ws_opcode::binary, std::string(n, 'a'));
    size_t head = n < 126 ? 2 : n <= 65535 ? 4 : 10;
    ASSERT_EQ(out.size(), head + n) << n;
    EXPECT_EQ(out[0], 0x82);
    EXPECT_EQ(out[1] & 0x80, 0) << "masked";
    EXPECT_EQ(out[1] & 0x7F, n < 126 ? n : n <= 65535 ? 126 : 127);
  }
  EXPECT_EQ(ws_close_payload(1005, "ignored"), "");
  EXPECT_EQ(ws_close_payload(1000, std::string(200, 'r')).size(), 125u);
}

TEST(websocket_utf8, edge_cases) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("\x7F"));
  EXPECT_TRUE(valid_utf8("\xC2\x80\xDF\xBF"));         // U+0080, U+07FF
  EXPECT_TRUE(valid_utf8("\xE0\xA0\x80\xEF\xBF\xBF")); // U+0800, U+FFFF
  EXPECT_TRUE(valid_utf8("\xED\x9F\xBF\xEE\x80\x80")); // around the surrogates
  EXPECT_TRUE(valid_utf8("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF")); // U+10000, U+10FFFF
  for (const char* bad : {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x9F\xBF",
                          "\xED\xA0\x80", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80",
                          "\xF5\x80\x80\x80", "\xFF", "\xC2", "\xE2\x82",
                          "\xE2\x28\xA1", "\xF0\x90\x80"})
    EXPECT_FALSE(valid_utf8(bad)) << testing::PrintToString(std::string(bad));
}
