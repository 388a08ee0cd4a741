// Strangers on a node port (proto/detail/basp_guard.hpp, the host rule in
// proto/node.hpp): a raw TCP client sends BASP headers announcing huge
// payloads to an actio-echo worker node. CAF 0.17.6 alone zero-fills a
// read buffer of the announced size at once (measured: +256 MiB of RSS per
// 256 MiB header; four 1 GiB headers added 1.9 GB and dropped the node's
// links). Now the worker closes such a connection before allocating, its
// RSS stays put, and a link made before the attack keeps working.

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <fstream>
#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include "actio/drivers/errc.hpp"
#include "actio/proto/node.hpp"
#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

/// VmRSS of process `pid` in bytes (0 if unreadable).
size_t rss_of(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields{line.substr(6)};
      size_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  return 0;
}

/// A BASP 0.17 header (network byte order): a direct message to actor 1
/// announcing `payload_len` bytes that never come.
std::array<uint8_t, 32> huge_header(uint32_t payload_len) {
  std::array<uint8_t, 32> h{};
  h[0] = 0x02; // direct_message
  auto len = htonl(payload_len);
  std::memcpy(&h[4], &len, 4);
  h[31] = 1; // dest_actor = 1
  return h;
}

/// Waits until the peer closed `fd` (EOF, or a reset: a TLS port that
/// refuses a handshake closes with our bytes unread); false on timeout.
bool wait_closed(int fd, test::clock::duration timeout) {
  auto deadline = test::clock::now() + timeout;
  char buf[4096];
  while (test::clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      return true;
  }
  return false;
}

std::string echo(caf::actor_system& sys, const caf::actor& peer,
                 const std::string& text, caf::timespan timeout = 30s) {
  std::string result;
  caf::scoped_actor self{sys};
  self->request(peer, timeout, text)
    .receive([&](const std::string& reply) { result = reply; },
             [&](const caf::error& err) { result = "error: " + describe(err); });
  return result;
}

/// Sends four 1 GiB headers from strangers to `port` of `worker`; each
/// connection must be closed by the worker, and the worker's RSS must grow
/// by less than 64 MiB.
void attack(test::worker_node& worker) {
  auto before = rss_of(worker.proc.pid);
  ASSERT_GT(before, 0u);
  for (int i = 0; i < 4; ++i) {
    int fd = test::connect_tcp(worker.port);
    ASSERT_GE(fd, 0);
    auto h = huge_header(uint32_t{1} << 30);
    // The send may fail once the worker has closed (a TLS port closes on
    // the first bytes that are no TLS handshake): what counts is the EOF.
    (void) test::send_all(fd, h.data(), h.size());
    EXPECT_TRUE(wait_closed(fd, 30s))
      << "the worker kept a stranger's connection open waiting for 1 GiB";
    ::close(fd);
  }
  auto after = rss_of(worker.proc.pid);
  EXPECT_LT(after, before + (size_t{64} << 20))
    << "RSS " << before / 1024 << " KiB -> " << after / 1024 << " KiB";
  std::cout << "[ measured ] worker RSS " << before / 1024 << " KiB -> "
            << after / 1024 << " KiB after 4 x 1 GiB headers\n";
}

class basp_guard : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new test::temp_dir;
    ASSERT_TRUE(test::make_certs({dir_->path.string(), "worker", "client"}));
  }

  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string file(const std::string& name) {
    return dir_->file(name);
  }

  static test::temp_dir* dir_;
};

test::temp_dir* basp_guard::dir_ = nullptr;

TEST_F(basp_guard, a_plain_port_refuses_a_header_claiming_1_gib_and_links_stay_up) {
  auto w = test::start_worker();
  ASSERT_NE(w.port, 0);
  node_config cfg;
  cfg.node.connect_attempts = 1;
  ASSERT_FALSE(cfg.prepare());
  caf::actor_system sys{cfg};
  auto peer = node::connect(sys, "127.0.0.1", w.port, cfg.node);
  ASSERT_TRUE(peer) << describe(peer.error());
  EXPECT_EQ(echo(sys, *peer, "before"), "before");
  attack(w);
  // The link made before the attack still works.
  EXPECT_EQ(echo(sys, *peer, "after"), "after");
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

// With TLS, CAF reads BASP headers only from the decrypted stream, i.e.
// after the peer's certificate was verified: a stranger without one never
// reaches BASP.
TEST_F(basp_guard, a_tls_port_never_lets_a_stranger_reach_basp) {
  auto w = test::start_worker({"--secure", "--certificate",
                               file("worker.pem"), "--key",
                               file("worker.key"), "--cafile",
                               file("ca.pem")});
  ASSERT_NE(w.port, 0);
  node_config cfg;
  cfg.node.secure = true;
  cfg.node.certificate = file("client.pem");
  cfg.node.key = file("client.key");
  cfg.node.cafile = file("ca.pem");
  cfg.node.connect_attempts = 1;
  ASSERT_FALSE(cfg.prepare());
  caf::actor_system sys{cfg};
  auto peer = node::connect(sys, "127.0.0.1", w.port, cfg.node);
  ASSERT_TRUE(peer) << describe(peer.error());
  attack(w);
  EXPECT_EQ(echo(sys, *peer, "after"), "after");
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

// Between legitimate nodes the limit is a setting: a message above it
// closes that link (the request fails), one below passes.
TEST_F(basp_guard, max_message_size_bounds_messages_between_nodes) {
  auto w = test::start_worker({"--actio.node.max-message-size=1048576"});
  ASSERT_NE(w.port, 0);
  node_config cfg;
  cfg.node.connect_attempts = 1;
  ASSERT_FALSE(cfg.prepare());
  caf::actor_system sys{cfg};
  auto peer = node::connect(sys, "127.0.0.1", w.port, cfg.node);
  ASSERT_TRUE(peer) << describe(peer.error());
  std::string small(512 * 1024, 'x');
  EXPECT_EQ(echo(sys, *peer, small), small);
  // The link closes and CAF 0.17 leaves the request to its timeout.
  auto big = echo(sys, *peer, std::string(2 * 1024 * 1024, 'y'), 3s);
  EXPECT_EQ(big.rfind("error: ", 0), 0u) << big.substr(0, 80);
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

TEST(node_host_rule, a_plain_port_off_loopback_needs_tls_or_an_explicit_opt_out) {
  node_options opts;
  for (auto host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"}) {
    opts.host = host;
    EXPECT_FALSE(validate_node_options(opts)) << host;
  }
  for (auto host : {"0.0.0.0", "", "::", "10.0.0.1", "example.org"}) {
    opts.host = host;
    auto err = validate_node_options(opts);
    ASSERT_TRUE(err) << "'" << host << "' accepted";
    EXPECT_NE(describe(err).find("actio.node.insecure"), std::string::npos)
      << describe(err);
  }
  opts.host = "0.0.0.0";
  opts.insecure = true;
  EXPECT_FALSE(validate_node_options(opts));
  opts.max_message_size = 1000;
  EXPECT_TRUE(validate_node_options(opts));
}

TEST(node_host_rule, every_node_program_refuses_a_plain_port_off_loopback) {
  test::temp_dir tmp;
  std::vector<std::pair<std::string, std::vector<std::string>>> programs{
    {ACTIO_ECHO_BIN, {"--worker", "--node-port", "0", "--actio.node.host=0.0.0.0"}},
    {ACTIO_FILE_NODE_BIN, {"--root", tmp.path.string(), "--node-host", "0.0.0.0"}},
    {ACTIO_CHAT_BIN, {"--port", "0", "--node-port", "0", "--node-host", "0.0.0.0"}},
  };
  for (auto& [bin, args] : programs) {
    auto p = test::spawn_process(bin, args,
                                 test::spawn_options{.merge_stderr = true});
    auto out = p.read_all(30s);
    EXPECT_NE(out.find("actio.node.insecure"), std::string::npos)
      << bin << ": " << out;
    auto status = p.stop(SIGTERM, 30s);
    ASSERT_TRUE(test::exited_normally(status)) << bin;
    EXPECT_NE(WEXITSTATUS(status), 0) << bin;
  }
  // The explicit opt-out works.
  auto w = test::start_worker({"--actio.node.host=0.0.0.0",
                               "--actio.node.insecure"});
  EXPECT_NE(w.port, 0);
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

} // namespace
