// actio-kv as clients use it: the real redis-cli (Debian redis-tools) and raw
// sockets against the program on 127.0.0.1. Skipped, saying why, when
// redis-cli is not installed (`./actio test` installs redis-tools).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos)
      end = dirs.size();
    auto candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

struct kv_server {
  child_process child;
  uint16_t port = 0;
  kv_server()
    : child(spawn_process(ACTIO_KV_BIN, {"--port", "0"})),
      port(parse_port(child.read_line(30s))) {
  }
  // A graceful stop exits 0 (under ASan: without leaks or errors either).
  ~kv_server() {
    EXPECT_EQ(child.stop(SIGTERM, 30s), 0) << "actio-kv's wait status";
  }
};

// `redis-cli -p PORT args...`: its output, trailing newline dropped.
std::string cli(const std::string& bin, uint16_t port,
                std::vector<std::string> args) {
  args.insert(args.begin(), {"-p", std::to_string(port)});
  auto child = spawn_process(bin, args);
  auto out = child.read_all(60s);
  EXPECT_EQ(child.stop(0, 30s), 0) << "redis-cli exit status";
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

/// Every test runs against its own server (started before the body).
class kv_process : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NE(srv.port, 0) << "no listening line from actio-kv";
  }

  /// A client connection to the server; -1 (and a failure) if refused.
  int connect() {
    int fd = connect_tcp(srv.port);
    EXPECT_GE(fd, 0) << "connect to actio-kv";
    return fd;
  }

  kv_server srv;
};

#define NEED_REDIS_CLI(var)                                                    \
  auto var = find_program("redis-cli");                                        \
  if (var.empty())                                                             \
    GTEST_SKIP() << "redis-cli not found in PATH: install Debian's "           \
                    "redis-tools (./actio deps does)";

bool send_str(int fd, const std::string& s) {
  return send_all(fd, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string recv_str(int fd, size_t n) {
  std::string s(n, '\0');
  if (!recv_exact(fd, reinterpret_cast<uint8_t*>(s.data()), n, 30s))
    return "<short read>";
  return s;
}

// VmRSS of process `pid` in bytes; 0 if unreadable.
size_t rss_of(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

// A port free a moment ago (redis-server takes no port 0).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// Sends `script` in one write, then reads everything up to the server's
// close (the script ends with QUIT).
std::string replies_to(uint16_t port, const std::string& script) {
  int fd = connect_tcp(port);
  if (fd < 0)
    return "<no connection>";
  send_str(fd, script);
  std::string out;
  char buf[4096];
  auto deadline = clock::now() + 30s;
  while (clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(kv_process, replies_match_redis_server_byte_for_byte_on_one_script) {
  auto redis = find_program("redis-server");
  if (redis.empty())
    GTEST_SKIP() << "redis-server not found in PATH: install Debian's "
                    "redis-server to compare replies";
  auto port = free_port();
  ASSERT_NE(port, 0);
  auto ref = spawn_process(redis, {"--port", std::to_string(port), "--bind",
                                   "127.0.0.1", "--save", "", "--appendonly",
                                   "no"});
  ASSERT_TRUE(wait_until([&] {
    int fd = connect_tcp(port);
    if (fd < 0)
      return false;
    ::close(fd);
    return true;
  }, 30s));
  const std::string script =
    "PING\r\nPING hello\r\nECHO \"a b\"\r\nGET missing\r\nSET k v\r\nGET k\r\n"
    "SET k w NX\r\nSET k w XX GET\r\nSET n x XX\r\nSET k v NX XX\r\n"
    "SET k v EX\r\nSET k v EX zero\r\nSET k v EX 0\r\nSET k v PX 100000\r\n"
    "INCR c\r\nINCRBY c 41\r\nDECR c\r\nDECRBY c 2\r\nINCR k\r\nINCRBY c x\r\n"
    "SET big 9223372036854775807\r\nINCR big\r\nSET lz 007\r\nINCR lz\r\n"
    "MSET a 1 b 2\r\nMSET a 1 b\r\nMGET a nope b\r\nEXISTS a b nope a\r\n"
    "DEL a nope\r\nEXPIRE b 100\r\nTTL b\r\nTTL c\r\nTTL nope\r\n"
    "PTTL nope\r\nEXPIRE nope 5\r\nEXPIRE b x\r\nEXPIRE b -1\r\nEXISTS b\r\n"
    "KEYS c\r\nKEYS nothing*\r\nGET\r\nSET k\r\nDEL\r\nMGET\r\nFROB x y\r\n"
    "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n*0\r\n\r\nDBSIZE\r\nQUIT\r\n";
  auto want = replies_to(port, script);
  auto got = replies_to(srv.port, script);
  EXPECT_NE(want.find("+OK\r\n"), std::string::npos) << want;
  EXPECT_EQ(got, want);
  EXPECT_EQ(ref.stop(SIGTERM, 30s), 0);
}

TEST_F(kv_process, commands_sent_with_eof_are_all_answered_before_the_close) {
  int fd = connect();
  std::string req, want;
  for (int i = 0; i < 2000; ++i) {
    req += "SET k v\r\n";
    want += "+OK\r\n";
  }
  req += "GET k"; // the last line without its newline, as `printf | nc`
  want += "$1\r\nv\r\n";
  ASSERT_TRUE(send_str(fd, req));
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(recv_str(fd, want.size()), want);
  EXPECT_TRUE(wait_eof(fd, 30s));
  ::close(fd);
}

TEST_F(kv_process, redis_cli_runs_the_string_and_expiry_commands) {
  NEED_REDIS_CLI(rc);
  auto p = srv.port;
  EXPECT_EQ(cli(rc, p, {"PING"}), "PONG");
  EXPECT_EQ(cli(rc, p, {"SET", "greeting", "hello world"}), "OK");
  EXPECT_EQ(cli(rc, p, {"GET", "greeting"}), "hello world");
  EXPECT_EQ(cli(rc, p, {"INCR", "n"}), "1");
  EXPECT_EQ(cli(rc, p, {"INCRBY", "n", "9"}), "10");
  EXPECT_EQ(cli(rc, p, {"INCR", "greeting"}),
            "ERR value is not an integer or out of range");
  EXPECT_EQ(cli(rc, p, {"SET", "t", "x", "EX", "100"}), "OK");
  EXPECT_EQ(cli(rc, p, {"TTL", "t"}), "100");
  EXPECT_EQ(cli(rc, p, {"EXPIRE", "greeting", "50"}), "1");
  EXPECT_EQ(cli(rc, p, {"TTL", "greeting"}), "50");
  EXPECT_EQ(cli(rc, p, {"TTL", "n"}), "-1");
  EXPECT_EQ(cli(rc, p, {"SET", "gone", "x", "PX", "1"}), "OK");
  EXPECT_TRUE(wait_until([&] { return cli(rc, p, {"EXISTS", "gone"}) == "0"; }, 10s));
  EXPECT_EQ(cli(rc, p, {"MSET", "a", "1", "b", "2"}), "OK");
  EXPECT_EQ(cli(rc, p, {"MGET", "a", "nope", "b"}), "1\n\n2");
  EXPECT_EQ(cli(rc, p, {"DEL", "a", "b", "nope"}), "2");
  EXPECT_EQ(cli(rc, p, {"GET", "a"}), "");
  EXPECT_EQ(cli(rc, p, {"GET"}), "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(cli(rc, p, {"FROB", "x"}),
            "ERR unknown command 'FROB', with args beginning with: 'x' ");
  EXPECT_NE(cli(rc, p, {"INFO"}).find("connected_clients:1"), std::string::npos);
}

TEST_F(kv_process, pipelined_and_inline_commands_in_one_write_answer_in_order) {
  int fd = connect();
  constexpr int n = 5000;
  std::string req, want;
  for (int i = 1; i <= n; ++i) {
    req += i % 2 ? "*2\r\n$4\r\nINCR\r\n$1\r\np\r\n" : "INCR p\r\n";
    want += ':';
    want += std::to_string(i);
    want += "\r\n";
  }
  req += "GET p\r\nQUIT\r\n";
  want += "$4\r\n5000\r\n+OK\r\n";
  ASSERT_TRUE(send_str(fd, req));
  EXPECT_EQ(recv_str(fd, want.size()), want);
  EXPECT_TRUE(wait_eof(fd, 30s)); // QUIT closes after its +OK
  ::close(fd);
}

TEST_F(kv_process, bad_input_closes_only_that_client_after_an_error_reply) {
  int good = connect();
  ASSERT_TRUE(send_str(good, "SET k v\r\n"));
  EXPECT_EQ(recv_str(good, 5), "+OK\r\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"*1\r\n$2147483648\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
    {"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
    {"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
    {"PING\r\n*1\r\nx\r\n", "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n"},
    {std::string(1024 * 1024, '\x07'), "-ERR Protocol error: too big inline request\r\n"},
    {"*2\r\n$3\r\nGET\r\n$" + std::string(100 * 1024, '9'),
     "-ERR Protocol error: too big bulk count string\r\n"},
  };
  for (auto& [input, reply] : cases) {
    int bad = connect();
    // Sent from a thread: the server may stop reading before all of a
    // large input arrived.
    std::thread sender{[bad, in = input] { send_str(bad, in); }};
    EXPECT_EQ(recv_str(bad, reply.size()), reply) << reply;
    ::shutdown(bad, SHUT_WR);
    EXPECT_TRUE(wait_eof(bad, 30s)) << reply;
    sender.join();
    ::close(bad);
    // The other client never noticed.
    ASSERT_TRUE(send_str(good, "GET k\r\n"));
    EXPECT_EQ(recv_str(good, 7), "$1\r\nv\r\n");
  }
  ::close(good);
}

TEST_F(kv_process, an_unterminated_multibulk_waits_without_blocking_others) {
  int stuck = connect();
  ASSERT_TRUE(send_str(stuck, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab"));
  int other = connect();
  ASSERT_TRUE(send_str(other, "PING\r\n"));
  EXPECT_EQ(recv_str(other, 7), "+PONG\r\n");
  ASSERT_TRUE(send_str(stuck, "cde\r\n")); // the rest: the command runs
  EXPECT_EQ(recv_str(stuck, 5), "+OK\r\n");
  ::close(stuck);
  ::close(other);
}

TEST_F(kv_process, concurrent_incr_from_several_redis_clis_loses_nothing) {
  NEED_REDIS_CLI(rc);
  constexpr int clients = 6, each = 300;
  std::vector<child_process> kids;
  for (int i = 0; i < clients; ++i)
    kids.push_back(spawn_process(rc, {"-p", std::to_string(srv.port), "-r",
                                      std::to_string(each), "INCR", "counter"}));
  for (auto& k : kids) {
    auto out = k.read_all(120s);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), each);
    EXPECT_EQ(k.stop(0, 30s), 0);
  }
  EXPECT_EQ(cli(rc, srv.port, {"GET", "counter"}), std::to_string(clients * each));
}

TEST_F(kv_process, a_client_that_pipelines_and_never_reads_is_not_buffered_for) {
  int fd = connect();
  // A 64 KiB value, then GETs for it that the client never reads: the
  // server must stop reading once the replies fill the socket buffers.
  std::string value(64 * 1024, 'v');
  ASSERT_TRUE(send_str(fd, "*3\r\n$3\r\nSET\r\n$1\r\nv\r\n$65536\r\n" + value + "\r\n"));
  EXPECT_EQ(recv_str(fd, 5), "+OK\r\n");
  std::string gets;
  for (int i = 0; i < 1000; ++i)
    gets += "GET v\r\n";
  size_t sent = 0; // stops when the server stops reading (a send times out)
  for (int i = 0; i < 10000; ++i) {
    if (!send_all(fd, reinterpret_cast<const uint8_t*>(gets.data()), gets.size(), 2s))
      break;
    sent += gets.size();
  }
  // 10,000 × 1000 GETs would be 655 GB of replies; the sends stalled long
  // before, at the credit window plus the kernel's buffers.
  EXPECT_LT(sent, 64u * 1024 * 1024) << "the server kept reading";
  // Nor did it build the replies it could not write: its resident size
  // stays far below the 655 GB the GETs ask for (one 1 MiB output allowance
  // and one batch of 128 replies, 8 MiB here).
  EXPECT_LT(rss_of(srv.child.pid), 200u * 1024 * 1024);
  int other = connect();
  ASSERT_TRUE(send_str(other, "PING\r\n"));
  EXPECT_EQ(recv_str(other, 7), "+PONG\r\n");
  ::close(other);
  ::close(fd);
}

// Debian's redis-benchmark, a second client nobody here wrote: pipelined
// SETs and GETs from 10 connections all succeed, and what it SET is there.
TEST_F(kv_process, redis_benchmark_sets_and_gets) {
  NEED_REDIS_CLI(cli_bin);
  auto bench_bin = find_program("redis-benchmark");
  if (bench_bin.empty())
    GTEST_SKIP() << "redis-benchmark not found in PATH: install Debian's "
                    "redis-tools (./actio deps does)";
  auto bench = spawn_process(bench_bin, {"-h", "127.0.0.1", "-p",
                                         std::to_string(srv.port), "-t",
                                         "set,get", "-n", "2000", "-c", "10",
                                         "-P", "8", "-q"});
  auto out = bench.read_all(120s);
  EXPECT_EQ(bench.stop(0, 30s), 0) << out;
  EXPECT_NE(out.find("SET: "), std::string::npos) << out;
  EXPECT_NE(out.find("GET: "), std::string::npos) << out;
  EXPECT_EQ(out.find("rror"), std::string::npos) << out;
  // Without -r every request uses the one key, with a 3-byte value.
  EXPECT_EQ(cli(cli_bin, srv.port, {"DBSIZE"}), "1");
  EXPECT_EQ(cli(cli_bin, srv.port, {"GET", "key:__rand_int__"}).size(), 3u);
}

} // namespace
