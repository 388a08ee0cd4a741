// `--metrics-port` on every serving tool, as a scraper sees it: each tool
// runs as a process with `--port 0 --metrics-port 0`, gets some traffic on
// 127.0.0.1, and `GET /metrics` is read by the reference parser
// (python3-prometheus-client, support/prometheus.hpp). The counters must
// agree with the traffic: bytes at least what was sent and answered, one
// connection accepted by the tool's listener, open while the client is.
// Every wait polls the endpoint until the counters arrive, with a deadline.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "examples/metrics_scrape.hpp"
#include "http/http_client.hpp"
#include "support/datagram_peer.hpp"
#include "support/net_client.hpp"
#include "support/prometheus.hpp"

using namespace std::chrono_literals;
using namespace actio::test;
using namespace actio::test::metrics_scrape;

namespace {

/// How a test talks to the tool's service port.
enum class traffic {
  stream,   ///< send `request` on TCP, read until `answer` appears
  datagram, ///< five 100-byte datagrams, each echoed
  node,     ///< a file node: `--connect ... --cat index.html` (CAF's
            ///< network layer, not Actio's drivers: the service's counters)
};

struct tool_case {
  std::string name; ///< the test's name
  std::string bin;
  std::vector<std::string> args; ///< besides --metrics-port 0
  std::string listener;          ///< the `listener` label; "" if none
  traffic kind = traffic::stream;
  std::string request;
  std::string answer;
};

// Test names and failure messages show the tool, not the struct's bytes.
void PrintTo(const tool_case& c, std::ostream* os) {
  *os << c.name;
}

std::string root_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/actio-metrics-root-XXXXXX";
    std::string d = ::mkdtemp(tmpl);
    std::ofstream{d + "/index.html"} << "<p>metrics</p>\n";
    return d;
  }();
  return dir;
}

std::vector<tool_case> cases() {
  return {
    {"echo", ACTIO_ECHO_BIN, {"--port", "0"}, "echo", traffic::stream,
     "hello metrics\nsecond line\n", "hello metrics\nsecond line\n"},
    {"chat", ACTIO_CHAT_BIN, {"--port", "0"}, "chat", traffic::stream,
     "/nick alice\n", "* you are now known as alice"},
    {"kv", ACTIO_KV_BIN, {"--port", "0"}, "kv", traffic::stream,
     "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
     "*1\r\n$3\r\nFOO\r\n",
     "+OK\r\n$5\r\nhello\r\n-ERR unknown command 'FOO'"},
    {"httpd", ACTIO_HTTPD_BIN, {"--port", "0", "--root", root_dir()}, "http",
     traffic::stream, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
     "Hello, World!"},
    {"file_node", ACTIO_FILE_NODE_BIN, {"--node-port", "0", "--root", root_dir()},
     "", traffic::node, "", ""},
    {"udp_echo", ACTIO_UDP_ECHO_BIN, {"--port", "0"}, "", traffic::datagram,
     "", ""},
  };
}

class metrics_process : public ::testing::TestWithParam<tool_case> {
protected:
  void SetUp() override {
    if (!prom::available())
      GTEST_SKIP() << "/usr/bin/python3 has no prometheus_client: install "
                      "Debian's python3-prometheus-client (./actio test does)";
  }
};

TEST_P(metrics_process, help_documents_the_option) {
  auto child = spawn_process(GetParam().bin, {"--help"});
  auto out = child.read_all(30s);
  EXPECT_NE(out.find("--metrics-port=PORT"), std::string::npos) << out;
  EXPECT_EQ(child.stop(0, 30s), 0);
}

TEST_P(metrics_process, counters_follow_the_traffic_and_parse) {
  const auto& c = GetParam();
  tool_process tool{c.bin, c.args};
  ASSERT_FALSE(tool.service_line.empty()) << "no listening line";
  ASSERT_NE(tool.metrics_port, 0) << "no \"metrics listening on\" line";
  auto service_port = parse_port(tool.service_line);

  size_t sent = 0;     // payload bytes the tool read from us
  size_t answered = 0; // payload bytes it wrote to us, at least
  std::optional<http_client::conn> client;
  if (c.kind == traffic::stream) {
    client.emplace(service_port);
    ASSERT_GE(client->fd, 0);
    ASSERT_TRUE(client->send(c.request));
    auto deadline = clock::now() + 30s;
    while (client->buf.find(c.answer) == std::string::npos)
      ASSERT_TRUE(clock::now() < deadline && client->fill(deadline - clock::now()))
        << "no answer; got " << client->buf;
    sent = c.request.size();
    answered = client->buf.size();
  } else if (c.kind == traffic::datagram) {
    udp_client udp{tool.service_line};
    ASSERT_TRUE(udp.ok());
    ASSERT_TRUE(udp.lock_step_echoes(5, 100));
    sent = answered = 500;
  } else {
    auto cat = spawn_process(c.bin, {"--connect", "127.0.0.1:" + std::to_string(service_port),
                                     "--cat", "index.html"});
    EXPECT_EQ(cat.read_all(60s), "<p>metrics</p>\n");
    EXPECT_EQ(cat.stop(0, 30s), 0);
  }

  auto s = scrape_until(tool.metrics_port, [&](const prom::parse_result& p) {
    if (p.sum("actio_driver_read_bytes_total") < static_cast<double>(sent)
        || p.sum("actio_driver_written_bytes_total") < static_cast<double>(answered))
      return false;
    if (c.kind == traffic::node)
      return p.sum("actio_remote_file_read_bytes_total") >= 15;
    return c.listener.empty()
           || p.sum("actio_listener_accepted_total", {{"listener", c.listener}}) >= 1;
  });
  ASSERT_EQ(s.reply.status, 200);
  EXPECT_EQ(s.reply.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u)
    << s.reply.header("content-type");
  ASSERT_TRUE(s.parsed.ok) << s.parsed.error << "\n" << s.reply.body;
  auto& p = s.parsed;

  // The driver series, one per driver thread, with their types.
  for (auto [family, type] : std::vector<std::pair<std::string, std::string>>{
         {"actio_driver_sockets", "gauge"},
         {"actio_driver_requests", "counter"},
         {"actio_driver_completions", "counter"},
         {"actio_driver_read_bytes", "counter"},
         {"actio_driver_written_bytes", "counter"},
         {"actio_driver_loop_iterations", "counter"},
         {"actio_driver_wakeups", "counter"},
         {"actio_driver_blocked_seconds", "counter"},
         {"actio_driver_accept_pauses", "counter"},
         {"actio_driver_pinned_actors", "gauge"},
         {"actio_driver_runnable_actors", "gauge"},
         {"actio_driver_pinned_mailbox_messages", "gauge"},
         {"actio_driver_file_requests", "counter"},
         {"actio_driver_file_completions", "counter"},
         {"actio_driver_file_errors", "counter"}})
    EXPECT_EQ(p.type_of(family), type) << family << "\n" << s.reply.body;
  EXPECT_GT(p.sum("actio_driver_loop_iterations_total"), 0);
  EXPECT_GE(p.sum("actio_driver_blocked_seconds_total"), 0);
  EXPECT_EQ(p.sum("actio_driver_accept_pauses_total"), 0);
  // One sample per file kind and driver, even before any file operation.
  EXPECT_TRUE(p.has_labels("actio_driver_file_requests_total", {{"kind", "fsync"}}));
  EXPECT_TRUE(p.has_labels("actio_driver_file_errors_total", {{"kind", "open"}}));
  EXPECT_GE(p.sum("actio_driver_pinned_mailbox_messages"), 0);
  // This scrape's connection was accepted, its request read: the admin
  // listener runs on the same drivers.
  EXPECT_GE(p.sum("actio_driver_completions_total", {{"kind", "accept"}}), 1);
  EXPECT_GE(p.sum("actio_driver_sockets"), 2); // admin listener + this scrape
  EXPECT_GE(p.sum("actio_driver_read_bytes_total"), static_cast<double>(sent));
  EXPECT_GE(p.sum("actio_driver_written_bytes_total"),
            static_cast<double>(answered));

  if (c.kind == traffic::node) {
    EXPECT_EQ(p.sum("actio_remote_file_requests_total", {{"op", "open"}}), 1);
    EXPECT_GE(p.sum("actio_remote_file_requests_total", {{"op", "read_at"}}), 1);
    EXPECT_EQ(p.sum("actio_remote_file_requests_total", {{"op", "write_at"}}), 0);
    EXPECT_EQ(p.sum("actio_remote_file_read_bytes_total"), 15);
    EXPECT_EQ(p.type_of("actio_remote_file_requests"), "counter");
    EXPECT_EQ(p.type_of("actio_remote_file_errors"), "counter");
    EXPECT_EQ(p.sum("actio_remote_file_errors_total"), 0);
    // The service's local file service: the reopen and the reads, each
    // answered (the endpoint follows outcomes), none failed.
    EXPECT_GE(p.sum("actio_driver_file_requests_total", {{"kind", "open"}}), 1);
    EXPECT_GE(p.sum("actio_driver_file_completions_total", {{"kind", "open"}}), 1);
    EXPECT_GE(p.sum("actio_driver_file_completions_total", {{"kind", "read_at"}}), 1);
    EXPECT_EQ(p.sum("actio_driver_file_errors_total"), 0);
  }
  if (c.kind == traffic::datagram) {
    EXPECT_GE(p.sum("actio_driver_completions_total", {{"kind", "recv_from"}}), 5);
    EXPECT_GE(p.sum("actio_driver_completions_total", {{"kind", "send_to"}}), 5);
    EXPECT_GE(p.sum("actio_driver_requests_total", {{"kind", "send_to"}}), 5);
  }
  if (c.kind == traffic::stream) {
    // Two connections at least (ours and this scrape's); ours read and
    // answered: completions and requests of both kinds.
    EXPECT_GE(p.sum("actio_driver_completions_total", {{"kind", "accept"}}), 2);
    EXPECT_GE(p.sum("actio_driver_completions_total", {{"kind", "read"}}), 2);
    EXPECT_GE(p.sum("actio_driver_completions_total", {{"kind", "write"}}), 1);
    EXPECT_GE(p.sum("actio_driver_requests_total", {{"kind", "write"}}), 1);
    EXPECT_GE(p.sum("actio_driver_requests_total", {{"kind", "read"}}), 1);
    // The service's listener: exactly our one connection, open now.
    std::map<std::string, std::string> l{{"listener", c.listener}};
    EXPECT_EQ(p.sum("actio_listener_up", l), 1);
    EXPECT_EQ(p.sum("actio_listener_accepted_total", l), 1) << s.reply.body;
    EXPECT_EQ(p.sum("actio_listener_active_connections", l), 1) << s.reply.body;
    EXPECT_EQ(p.sum("actio_listener_refused_total", l), 0);
    if (c.name == "kv") { // SET, GET and the unknown FOO, by name
      EXPECT_EQ(p.sum("actio_kv_commands_total"), 3);
      EXPECT_EQ(p.sum("actio_kv_commands_total", {{"command", "set"}}), 1);
      EXPECT_EQ(p.sum("actio_kv_commands_total", {{"command", "get"}}), 1);
      EXPECT_EQ(p.sum("actio_kv_commands_total", {{"command", "other"}}), 1);
      EXPECT_FALSE(p.has_labels("actio_kv_commands_total", {{"command", "foo"}}));
      EXPECT_EQ(p.type_of("actio_kv_commands"), "counter");
    }
    if (c.name == "httpd") { // GET /hello (the admin server's are not counted)
      EXPECT_EQ(p.sum("actio_http_responses_total", {{"server", "http"}, {"code", "2xx"}}),
                1);
    }
    // Closed: the gauge comes back to 0, the total stays.
    client.reset();
    auto after = scrape_until(tool.metrics_port, [&](const prom::parse_result& q) {
      return q.sum("actio_listener_active_connections", l) == 0;
    });
    EXPECT_EQ(after.parsed.sum("actio_listener_active_connections", l), 0)
      << after.reply.body;
    EXPECT_EQ(after.parsed.sum("actio_listener_accepted_total", l), 1);
  } else {
    EXPECT_FALSE(p.has("actio_listener_up")) << s.reply.body;
  }
  EXPECT_EQ(tool.child.stop(SIGTERM, 30s), 0) << c.name << "'s wait status";
}

INSTANTIATE_TEST_SUITE_P(tools, metrics_process, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// The endpoint's HTTP: HEAD, other paths and methods (actio-echo).
TEST(metrics_endpoint, answers_head_404_and_405) {
  tool_process tool{cases()[0].bin, cases()[0].args};
  ASSERT_NE(tool.metrics_port, 0);
  auto get = scrape(tool.metrics_port);
  ASSERT_EQ(get.status, 200);
  auto head = scrape(tool.metrics_port, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type"), get.header("content-type"));
  EXPECT_EQ(scrape(tool.metrics_port, "GET", "/").status, 404);
  auto post = scrape(tool.metrics_port, "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
  EXPECT_EQ(tool.child.stop(SIGTERM, 30s), 0);
}

// Without the option nothing listens and nothing more is printed; a bad
// port is a usage error (exit 2, coreutils style).
TEST(metrics_endpoint, bad_port_is_a_usage_error) {
  for (auto value : {"70000", "abc", "-5"}) {
    auto child = spawn_process(ACTIO_KV_BIN, {"--port", "0", "--metrics-port", value},
                               {.merge_stderr = true});
    auto out = child.read_all(30s);
    auto status = child.stop(0, 30s);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2)
      << value << ": status " << status << ": " << out;
    EXPECT_NE(out.find("actio-kv: --metrics-port: '"), std::string::npos) << out;
  }
}

TEST(metrics_endpoint, without_the_option_no_metrics_line) {
  auto child = spawn_process(ACTIO_KV_BIN, {"--port", "0"});
  auto line = child.read_line(30s);
  EXPECT_NE(parse_port(line), 0) << line;
  EXPECT_EQ(child.stop(SIGTERM, 30s), 0);
  auto rest = child.read_all(10s);
  EXPECT_EQ(rest.find("metrics listening"), std::string::npos) << rest;
}

} // namespace
