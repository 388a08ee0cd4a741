// The HTTP/1.1 server (http/server.hpp) in process, on every backend, with
// raw-socket clients: keep-alive, pipelining answered in order while the
// handler answers out of order, HEAD, 100-continue, HTTP/1.0, Connection:
// close, the malformed-request corpus closing only its connection while a
// keep-alive connection keeps working, the request timeout, handler errors
// and timeouts, the pipelining limit and a streamed body's backpressure.

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "http/server_fixture.hpp"

using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace actio;
using namespace actio::test;
using namespace actio::test::http_client;

namespace {

ACTIO_TEST_ALL_BACKENDS(http_server_test);

} // namespace

TEST_P(http_server_test, keep_alive_answers_with_date_and_length) {
  conn c{port_};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(get("/hello")));
    auto r = c.read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, World!");
    EXPECT_EQ(r.header("content-length"), "13");
    EXPECT_EQ(r.header("content-type"), "text/plain");
    EXPECT_NE(r.header("date").find(" GMT"), std::string::npos);
    EXPECT_EQ(r.header("connection"), "");
  }
}

TEST_P(http_server_test, pipelined_requests_are_answered_in_order) {
  conn c{port_};
  ASSERT_TRUE(c.send(get("/slow") + get("/hello") + get("/slow")
                     + "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                     + get("/nothing")));
  std::vector<std::string> want = {"slow", "Hello, World!", "slow", "abc", "no\n"};
  for (auto& w : want) {
    auto r = c.read();
    ASSERT_GT(r.status, 0);
    EXPECT_EQ(r.body, w);
  }
}

TEST_P(http_server_test, head_states_the_length_without_a_body) {
  conn c{port_};
  ASSERT_TRUE(c.send("HEAD /hello HTTP/1.1\r\n\r\n" + get("/hello")));
  auto h = c.read(true);
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.header("content-length"), "13");
  auto g = c.read();
  ASSERT_EQ(g.status, 200); // the next response starts right after the head
  EXPECT_EQ(g.body, "Hello, World!");
}

TEST_P(http_server_test, expect_100_continue_before_the_body) {
  conn c{port_};
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\n"
                     "Content-Length: 5\r\n\r\n"));
  auto cont = c.read();
  ASSERT_EQ(cont.status, 100);
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
}

TEST_P(http_server_test, http10_closes_unless_asked_to_keep_alive) {
  {
    conn c{port_};
    ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\n\r\n"));
    auto r = c.read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.closed());
  }
  conn c{port_};
  ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "keep-alive");
  ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(c.read().status, 200);
  EXPECT_TRUE(c.closed());
}

TEST_P(http_server_test, connection_close_ends_after_that_response) {
  conn c{port_};
  ASSERT_TRUE(c.send(get("/slow", "Connection: close\r\n") + get("/hello")));
  auto r = c.read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed()); // the request after it is not answered
}

TEST_P(http_server_test, malformed_requests_close_only_their_connection) {
  struct bad {
    const char* name;
    std::string text;
    int status;
  };
  std::vector<bad> corpus = {
    {"CL and TE",
     "POST /echo HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
     "0\r\n\r\nGET /hello HTTP/1.1\r\n\r\n",
     400},
    {"duplicated CL", "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
     400},
    {"obs-fold", "GET /hello HTTP/1.1\r\nX-A: a\r\n  b\r\n\r\n", 400},
    {"bare LF", "GET /hello HTTP/1.1\nHost: t\n\n", 400},
    {"NUL", "GET /hello HTTP/1.1\r\nX-A: \0\r\n\r\n"s, 400},
    {"oversized header", get("/hello", "X-A: " + std::string(9000, 'a') + "\r\n"), 431},
    {"oversized URI", get("/" + std::string(5000, 'a')), 414},
    {"oversized body", "POST /echo HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413},
    {"bad chunk size",
     "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400},
  };
  conn good{port_};
  ASSERT_TRUE(good.send(get("/hello")));
  ASSERT_EQ(good.read().status, 200);
  for (auto& b : corpus) {
    SCOPED_TRACE(b.name);
    conn c{port_};
    ASSERT_TRUE(c.send(b.text));
    auto r = c.read();
    EXPECT_EQ(r.status, b.status) << r.head << r.body;
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.closed());
    ASSERT_TRUE(good.send(get("/hello")));
    auto ok = good.read();
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "Hello, World!");
  }
}

TEST_P(http_server_test, handler_errors_and_timeouts) {
  opts_.handler_timeout = 300ms;
  start();
  conn c{port_};
  ASSERT_TRUE(c.send(get("/fail")));
  EXPECT_EQ(c.read().status, 500);
  ASSERT_TRUE(c.send(get("/never") + get("/hello")));
  auto t0 = clock::now();
  EXPECT_EQ(c.read().status, 504);
  EXPECT_GE(clock::now() - t0, 250ms);
  EXPECT_EQ(c.read().body, "Hello, World!");
}

// Several overdue requests in one pipeline each get their 504, in order;
// an answer that comes after its 504 is dropped, and the connection goes
// on with the next request's own answer.
TEST_P(http_server_test, each_overdue_request_gets_504_and_late_answers_are_dropped) {
  opts_.handler_timeout = 200ms;
  start();
  conn c{port_};
  ASSERT_TRUE(c.send(get("/never") + get("/held") + get("/never")
                     + get("/hello")));
  for (int i = 0; i < 3; ++i) {
    auto r = c.read();
    EXPECT_EQ(r.status, 504) << i;
    EXPECT_EQ(r.body, "handler timed out\n") << i;
  }
  EXPECT_EQ(c.read().body, "Hello, World!");
  // The held answer now reaches the connection before the next request's.
  caf::anon_send(opts_.handler, release_atom::value, held_atom::value);
  ASSERT_TRUE(c.send(get("/hello") + get("/echo")));
  auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Hello, World!");
  r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

TEST_P(http_server_test, request_timeout_answers_408_then_closes) {
  opts_.request_timeout = 500ms;
  start();
  conn partial{port_};
  conn idle{port_};
  auto t0 = clock::now();
  ASSERT_TRUE(partial.send("GET /hello HT"));
  auto r = partial.read();
  auto waited = clock::now() - t0;
  EXPECT_EQ(r.status, 408);
  EXPECT_GE(waited, 450ms);
  EXPECT_LT(waited, 10s);
  EXPECT_TRUE(partial.closed());
  EXPECT_TRUE(idle.closed()); // idle: closed without a response
}

TEST_P(http_server_test, too_many_pipelined_requests_get_503) {
  opts_.max_pipelined = 2;
  start();
  conn c{port_};
  ASSERT_TRUE(c.send(get("/slow") + get("/slow") + get("/slow")));
  EXPECT_EQ(c.read().body, "slow");
  EXPECT_EQ(c.read().body, "slow");
  auto r = c.read();
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(c.closed());
}

TEST_P(http_server_test, streamed_body_waits_for_a_slow_client) {
  read_slowly("/stream");
}
