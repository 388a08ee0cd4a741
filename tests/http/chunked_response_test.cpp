// Streamed response bodies of unknown length (http::unknown_length), on
// every backend: written with `Transfer-Encoding: chunked` to HTTP/1.1
// clients (one chunk per piece, the last chunk empty), delimited by the
// close to HTTP/1.0 clients, HEAD with the head a GET would get, a slow
// reader holding the source back; checked with the raw client (exact
// chunk framing), curl and Python's http.client.

#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "http/server_fixture.hpp"

using namespace std::chrono_literals;
using namespace actio;
using namespace actio::test;
using namespace actio::test::http_client;

namespace {

class http_chunked_test : public http_server_test {};

ACTIO_TEST_ALL_BACKENDS(http_chunked_test);

/// Whether byte i of `body` is i % 251 (the generator's bytes).
bool generated(const std::string& body) {
  for (size_t i = 0; i < body.size(); ++i)
    if (static_cast<uint8_t>(body[i]) != i % 251)
      return false;
  return true;
}

} // namespace

TEST_P(http_chunked_test, http11_gets_one_chunk_per_piece_and_the_last_chunk) {
  conn c{port_};
  ASSERT_TRUE(c.send(get("/chunked?200000") + "HEAD /chunked?5 HTTP/1.1\r\n\r\n"
                     + get("/chunked?0") + get("/hello")));
  auto r = c.read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_EQ(r.header("connection"), "");
  EXPECT_EQ(r.chunks, (std::vector<size_t>{65536, 65536, 65536, 3392, 0}));
  EXPECT_TRUE(generated(r.body));
  auto h = c.read(true); // HEAD: the head alone, the next answer right after it
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.header("transfer-encoding"), "chunked");
  auto empty = c.read();
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.chunks, std::vector<size_t>{0});
  EXPECT_EQ(c.read().body, "Hello, World!"); // still in order, still open
}

TEST_P(http_chunked_test, http10_gets_a_body_delimited_by_the_close) {
  {
    conn c{port_}; // HEAD keeps a keep-alive HTTP/1.0 connection open
    ASSERT_TRUE(c.send("HEAD /chunked?5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                       "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto h = c.read(true);
    ASSERT_EQ(h.status, 200);
    EXPECT_EQ(h.header("transfer-encoding"), "");
    EXPECT_EQ(h.header("content-length"), "");
    EXPECT_EQ(h.header("connection"), "keep-alive");
    EXPECT_EQ(c.read().body, "Hello, World!");
  }
  conn c{port_};
  ASSERT_TRUE(c.send("GET /chunked?300000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                     "GET /hello HTTP/1.0\r\n\r\n"));
  auto r = c.read(false, 20s, conn::unframed::at_close);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("transfer-encoding"), "");
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_EQ(r.body.size(), 300000u); // the /hello after it is not answered
  EXPECT_TRUE(generated(r.body));
}

TEST_P(http_chunked_test, a_slow_reader_holds_the_source_back) {
  read_slowly("/chunked");
}

TEST_P(http_chunked_test, curl_reads_chunked_and_close_delimited_bodies) {
  if (::access("/usr/bin/curl", X_OK) != 0)
    GTEST_SKIP() << "curl not installed (Debian package curl; ./actio deps installs it)";
  auto url = "http://127.0.0.1:" + std::to_string(port_) + "/chunked?300000";
  auto fmt = "%{http_code} %{size_download}";
  auto v11 = run_program("/usr/bin/curl", {"-sS", "-D", "-", "-o", "/dev/null", "-w",
                                           fmt, url});
  EXPECT_NE(v11.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos) << v11;
  EXPECT_EQ(v11.substr(v11.find("\r\n\r\n") + 4), "200 300000");
  auto v10 = run_program("/usr/bin/curl", {"-sS", "--http1.0", "-D", "-", "-o",
                                           "/dev/null", "-w", fmt, url});
  EXPECT_EQ(v10.find("Transfer-Encoding"), std::string::npos) << v10;
  EXPECT_NE(v10.find("\r\nConnection: close\r\n"), std::string::npos) << v10;
  EXPECT_EQ(v10.substr(v10.find("\r\n\r\n") + 4), "200 300000");
  auto head = run_program("/usr/bin/curl", {"-sS", "-I", url});
  EXPECT_NE(head.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos) << head;
}

TEST_P(http_chunked_test, python_http_client_reads_them) {
  auto script = R"(
import http.client, sys
port = int(sys.argv[1])
def ok(b):
    return all(b[i] == i % 251 for i in range(len(b)))
out = []
c = http.client.HTTPConnection('127.0.0.1', port, timeout=20)
c.request('GET', '/chunked?300000')
r = c.getresponse()
b = r.read()
out.append('%d %s %d %s' % (r.status, r.chunked, len(b), ok(b)))
c.request('HEAD', '/chunked?5')
r = c.getresponse()
out.append('%d %s %r' % (r.status, r.getheader('Transfer-Encoding'), r.read()))
c.request('GET', '/chunked?0')
r = c.getresponse()
out.append('%d %r' % (r.status, r.read()))
c.request('GET', '/hello')
r = c.getresponse()
out.append('%d %r' % (r.status, r.read()))
c10 = http.client.HTTPConnection('127.0.0.1', port, timeout=20)
c10._http_vsn, c10._http_vsn_str = 10, 'HTTP/1.0'
c10.request('GET', '/chunked?100000')
r = c10.getresponse()
b = r.read()
out.append('%d %d %s %s %d %s' % (r.status, r.version, r.chunked, r.will_close,
                                  len(b), ok(b)))
print('|'.join(out))
)";
  auto out = run_program("/usr/bin/python3", {"-c", script, std::to_string(port_)});
  EXPECT_EQ(out, "200 True 300000 True|200 chunked b''|200 b''|200 b'Hello, World!'|"
                 "200 11 False True 100000 True\n"); // (the server speaks 1.1)
}
