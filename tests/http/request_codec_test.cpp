// The HTTP/1.1 request codec (http/request_codec.hpp): requests parsed
// whole and cut at every byte boundary, pipelined, bodies by length and
// chunked, 100-continue, and the malformed-request corpus with its status.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "actio/http/request_codec.hpp"

using namespace actio;
using namespace actio::http;
using namespace std::string_literals;

namespace {

/// Feeds `text` in pieces of `chunk` bytes (0: random sizes) the way a
/// framed connection does: unconsumed bytes stay in front of new ones.
std::vector<request> feed(request_codec& c, const std::string& text,
                          size_t chunk = 0, bool eof = false) {
  std::vector<request> out;
  std::string buf;
  std::mt19937 rng{42};
  size_t pos = 0;
  while (pos < text.size()) {
    auto n = chunk != 0 ? chunk : 1 + rng() % 17;
    buf.append(text, pos, n);
    pos += n;
    for (;;) {
      auto d = c.decode(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
      EXPECT_FALSE(d.error);
      buf.erase(0, d.consumed);
      if (d.frame)
        out.push_back(std::move(*d.frame));
      else if (d.consumed == 0)
        break;
    }
  }
  if (eof) {
    auto d = c.finish(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
    if (d.frame)
      out.push_back(std::move(*d.frame));
  }
  return out;
}

const std::string pipelined
  = "GET /a/b%20c?x=1&y=2 HTTP/1.1\r\nHost: h\r\nX-Mixed-Case: V a l\r\n\r\n"
    "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
    "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: t\r\n\r\n"
    "\r\nHEAD /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

void check_pipelined(const std::vector<request>& rs) {
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].method, "GET");
  EXPECT_EQ(rs[0].target, "/a/b%20c?x=1&y=2");
  EXPECT_EQ(rs[0].path, "/a/b%20c");
  EXPECT_EQ(rs[0].query, "x=1&y=2");
  ASSERT_NE(rs[0].header("x-mixed-case"), nullptr);
  EXPECT_EQ(*rs[0].header("x-mixed-case"), "V a l");
  EXPECT_TRUE(rs[0].keep_alive);
  EXPECT_EQ(rs[0].version, 11);
  EXPECT_EQ(rs[1].method, "POST");
  EXPECT_EQ(std::string(rs[1].body.begin(), rs[1].body.end()), "hello");
  EXPECT_EQ(rs[2].method, "PUT");
  EXPECT_EQ(std::string(rs[2].body.begin(), rs[2].body.end()), "abcdefg");
  EXPECT_EQ(rs[3].method, "HEAD");
  EXPECT_FALSE(rs[3].keep_alive);
  for (auto& r : rs) {
    EXPECT_EQ(r.error, 0) << r.error_text;
    EXPECT_FALSE(r.interim);
  }
}

} // namespace

TEST(http_codec, pipelined_requests_whole) {
  request_codec c;
  check_pipelined(feed(c, pipelined, pipelined.size()));
}

TEST(http_codec, pipelined_requests_at_every_chunk_size) {
  for (size_t chunk : {1, 2, 3, 5, 7, 13, 64}) {
    SCOPED_TRACE(chunk);
    request_codec c;
    check_pipelined(feed(c, pipelined, chunk));
  }
  request_codec c;
  check_pipelined(feed(c, pipelined, 0)); // random sizes
}

TEST(http_codec, http10_keeps_alive_only_when_asked) {
  request_codec c;
  auto rs = feed(c, "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].version, 10);
  EXPECT_FALSE(rs[0].keep_alive);
  EXPECT_TRUE(rs[1].keep_alive);
}

TEST(http_codec, expect_100_continue_yields_the_head_first) {
  request_codec c;
  std::string head = "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                     "Content-Length: 3\r\n\r\n";
  auto rs = feed(c, head, head.size());
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].interim);
  EXPECT_TRUE(rs[0].body.empty());
  rs = feed(c, "abc", 3);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_FALSE(rs[0].interim);
  EXPECT_EQ(std::string(rs[0].body.begin(), rs[0].body.end()), "abc");
}

TEST(http_codec, upgrade_is_answered_then_the_connection_ends) {
  request_codec c;
  auto rs = feed(c, "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
                    "Upgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].upgrade);
  EXPECT_FALSE(rs[0].keep_alive);
  EXPECT_TRUE(c.failed()); // the bytes after it are not HTTP any more
}

struct bad_case {
  const char* name;
  std::string text;
  uint16_t status;
};

TEST(http_codec, malformed_requests_get_their_status_and_stop_the_codec) {
  std::vector<bad_case> cases = {
    {"content-length and transfer-encoding",
     "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400},
    {"transfer-encoding and content-length",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
     400},
    {"duplicated content-length",
     "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400},
    {"differing content-length",
     "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
    {"bad content-length", "POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\nhello", 400},
    {"transfer-encoding not chunked",
     "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
    {"obs-fold", "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400},
    {"obs-fold with tab", "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", 400},
    {"bare LF", "GET / HTTP/1.1\nHost: h\n\n", 400},
    {"bare LF in a header", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400},
    {"bare CR", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400},
    {"NUL in a header value", "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n"s, 400},
    {"NUL in a header name", "GET / HTTP/1.1\r\nX\0A: b\r\n\r\n"s, 400},
    {"space before the colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
    {"bad chunk size",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
    {"bad method", "G@T / HTTP/1.1\r\n\r\n", 400},
    {"not a path", "GET http//x HTTP/1.1\r\n\r\n", 400},
    {"bad version", "GET / HTTP/x.1\r\n\r\n", 400},
    {"HTTP/2 in HTTP/1 syntax", "GET / HTTP/2.0\r\n\r\n", 505},
    {"CONNECT", "CONNECT h:443 HTTP/1.1\r\n\r\n", 400},
    {"oversized header", "GET / HTTP/1.1\r\nX-A: " + std::string(9000, 'a') + "\r\n\r\n",
     431},
    {"too many headers", "GET / HTTP/1.1\r\n" + [] {
       std::string s;
       for (int i = 0; i < 101; ++i)
         s += "X-" + std::to_string(i) + ": v\r\n";
       return s;
     }() + "\r\n",
     431},
    {"oversized target", "GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n", 414},
    {"oversized body by length",
     "POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n", 413},
    {"oversized chunked body",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n"
       + std::string(0x100001, 'x') + "\r\n0\r\n\r\n",
     413},
    {"unknown expectation", "POST / HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx",
     417},
  };
  for (auto& bc : cases) {
    for (size_t chunk : {size_t{0}, bc.text.size(), size_t{1}}) {
      SCOPED_TRACE(std::string(bc.name) + " chunk " + std::to_string(chunk));
      request_codec c;
      auto rs = feed(c, bc.text + "GET /after HTTP/1.1\r\n\r\n", chunk);
      ASSERT_EQ(rs.size(), 1u); // the error, then nothing
      EXPECT_EQ(rs[0].error, bc.status) << rs[0].error_text;
      EXPECT_FALSE(rs[0].keep_alive);
      EXPECT_TRUE(c.failed());
    }
  }
}

TEST(http_codec, eof_inside_a_request_is_400_and_empty_lines_are_nothing) {
  request_codec a;
  auto rs = feed(a, "GET / HTTP/1.1\r\nHost:", 0, true);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].error, 400);
  request_codec b;
  EXPECT_TRUE(feed(b, "\r\n\r\n", 0, true).empty());
  EXPECT_FALSE(b.in_progress());
  request_codec c;
  rs = feed(c, "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", 0, true);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].error, 400);
}

TEST(http_codec, in_progress_tracks_a_partial_request) {
  request_codec c;
  EXPECT_FALSE(c.in_progress());
  feed(c, "GE", 2);
  EXPECT_TRUE(c.in_progress());
  feed(c, "T / HTTP/1.1\r\n\r\n", 3);
  EXPECT_FALSE(c.in_progress());
}

TEST(http_codec, limits_are_configurable) {
  limits lim;
  lim.max_headers = 2;
  lim.max_body = 4;
  request_codec c{lim};
  auto rs = feed(c, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].error, 0);
  rs = feed(c, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].error, 431);
  request_codec d{lim};
  rs = feed(d, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].error, 413);
}

TEST(http_codec, encodes_responses) {
  request_codec c;
  byte_buffer out;
  auto r = response::text(404, "gone\n");
  r.headers.emplace_back("Content-Length", "5");
  c.encode(r, out);
  EXPECT_EQ(std::string(out.begin(), out.end()),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
            "Content-Length: 5\r\n\r\ngone\n");
  out.clear();
  r.omit_body = true;
  c.encode(r, out);
  EXPECT_EQ(std::string(out.begin(), out.end()).find("gone"), std::string::npos);
  out.clear();
  response d;
  d.data_only = true;
  d.body = {'x', 'y'};
  c.encode(d, out);
  EXPECT_EQ(std::string(out.begin(), out.end()), "xy");
}
