// TLS between nodes: mutual certificates through libcaf_openssl, with the
// settings checked by Actio before CAF sees them. Worker nodes are
// actio-echo processes; the connecting node is an actor system in this
// test process (actio::node_config + actio::node::connect).

#include <csignal>
#include <unistd.h>

#include <fstream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include "actio/drivers/errc.hpp"
#include "actio/proto/detail/tls_error_queue.hpp"
#include "actio/proto/node.hpp"
#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class node_tls : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new test::temp_dir;
    ASSERT_TRUE(test::make_certs({dir_->path.string(), "worker", "client"}));
    ASSERT_TRUE(test::make_certs(
      {"--ca-name", "other-ca", dir_->path.string(), "stranger"}));
    // A CA file trusting both CAs: a stranger that trusts our worker, so
    // only the worker's refusal can stop it.
    std::ofstream both{dir_->file("both.pem")};
    both << std::ifstream{dir_->file("ca.pem")}.rdbuf()
         << std::ifstream{dir_->file("other-ca.pem")}.rdbuf();
  }

  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string file(const std::string& name) {
    return dir_->file(name);
  }

  static std::vector<std::string> tls_args(const std::string& name,
                                           const std::string& ca = "ca") {
    return {"--secure",      "--certificate", file(name + ".pem"),
            "--key",         file(name + ".key"),
            "--cafile",      file(ca + ".pem")};
  }

  static node_options tls_options(const std::string& name,
                                  const std::string& ca = "ca") {
    node_options opts;
    opts.secure = true;
    opts.certificate = file(name + ".pem");
    opts.key = file(name + ".key");
    opts.cafile = file(ca + ".pem");
    opts.connect_attempts = 1;
    opts.connection_timeout = std::chrono::seconds{10};
    return opts;
  }

  /// Connects to 127.0.0.1:port as a node with `opts` and echoes one
  /// line: the reply, or "error: ..." if the connection failed.
  static std::string echo_via(const node_options& opts, uint16_t port) {
    node_config cfg;
    cfg.node = opts;
    if (auto err = cfg.prepare())
      return "prepare: " + describe(err);
    caf::actor_system sys{cfg};
    auto peer = node::connect(sys, "127.0.0.1", port, cfg.node);
    if (!peer)
      return "error: " + describe(peer.error());
    std::string result;
    caf::scoped_actor self{sys};
    self->request(*peer, std::chrono::seconds{30}, std::string{"hello"})
      .receive([&](const std::string& reply) { result = reply; },
               [&](const caf::error& err) {
                 result = "error: " + describe(err);
               });
    return result;
  }

  static test::temp_dir* dir_;
};

test::temp_dir* node_tls::dir_ = nullptr;

TEST_F(node_tls, certificates_from_the_same_ca_connect) {
  auto w = test::start_worker(tls_args("worker"));
  ASSERT_NE(w.port, 0);
  EXPECT_EQ(echo_via(tls_options("client"), w.port), "hello");
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

TEST_F(node_tls, peers_from_another_ca_or_without_tls_are_refused_and_good_peers_still_served) {
  auto w = test::start_worker(tls_args("worker"));
  ASSERT_NE(w.port, 0);
  // A certificate from another CA (that itself trusts ours): the worker
  // cannot verify it and says so in its TLS alert.
  auto stranger = echo_via(tls_options("stranger", "both"), w.port);
  EXPECT_EQ(stranger.rfind("error: ", 0), 0u) << stranger;
  EXPECT_NE(last_tls_failure().find("alert unknown ca"), std::string::npos)
    << last_tls_failure() << " / " << stranger;
  // A plain node: the worker drops it during the handshake.
  node_options plain;
  plain.connect_attempts = 1;
  plain.connection_timeout = std::chrono::seconds{10};
  auto anon = echo_via(plain, w.port);
  EXPECT_EQ(anon.rfind("error: ", 0), 0u) << anon;
  EXPECT_NE(anon.find("disconnect_during_handshake"), std::string::npos)
    << anon;
  // The worker is still there for good peers.
  EXPECT_EQ(echo_via(tls_options("client"), w.port), "hello");
  EXPECT_EQ(echo_via(tls_options("client"), w.port), "hello");
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

TEST_F(node_tls, a_secure_node_refuses_a_plain_worker) {
  auto w = test::start_worker();
  ASSERT_NE(w.port, 0);
  auto reply = echo_via(tls_options("client"), w.port);
  EXPECT_EQ(reply.rfind("error: ", 0), 0u) << reply;
  // What came back was no TLS record.
  EXPECT_NE(last_tls_failure().find("wrong version number"), std::string::npos)
    << last_tls_failure() << " / " << reply;
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

TEST_F(node_tls, distributed_echo_runs_over_tls) {
  auto w = test::start_worker(tls_args("worker"));
  ASSERT_NE(w.port, 0);
  std::vector<std::string> args{"--port", "0", "--workers",
                                "127.0.0.1:" + std::to_string(w.port)};
  for (auto& a : tls_args("client"))
    args.push_back(a);
  auto fe = test::spawn_process(ACTIO_ECHO_BIN, args);
  auto port = test::parse_port(fe.read_line(30s));
  ASSERT_NE(port, 0);
  ASSERT_TRUE(test::read_until(fe, " up"));
  auto fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(test::round_trip(fd, "over tls\nand again\n"),
            "over tls\nand again\n");
  ::close(fd);
  EXPECT_EQ(fe.stop(SIGTERM), 0);
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

TEST_F(node_tls, validation_names_what_is_wrong) {
  auto check = [](const node_options& opts, const std::string& expect) {
    auto err = validate_node_options(opts);
    ASSERT_TRUE(err) << "expected: " << expect;
    EXPECT_NE(describe(err).find(expect), std::string::npos)
      << describe(err);
  };
  node_options opts;
  opts.secure = true;
  check(opts, "missing: actio.node.certificate, actio.node.key, "
              "actio.node.cafile");
  auto cafile_only = opts;
  cafile_only.cafile = file("ca.pem");
  check(cafile_only, "missing: actio.node.certificate, actio.node.key");
  auto missing_file = tls_options("client");
  missing_file.key = file("nope.key");
  check(missing_file, "No such file");
  auto wrong_key = tls_options("client");
  wrong_key.key = file("worker.key");
  check(wrong_key, "does not match");
  check(tls_options("stranger"), "is not valid for CA file");
  auto not_pem = tls_options("client");
  not_pem.certificate = file("client.key");
  check(not_pem, "no PEM certificate");
  auto not_ca = tls_options("client");
  not_ca.cafile = file("client.key");
  check(not_ca, "no PEM CA certificate");
  node_options plain_with_files;
  plain_with_files.certificate = file("client.pem");
  check(plain_with_files, "without actio.node.secure");
  EXPECT_FALSE(validate_node_options(tls_options("client")));
  EXPECT_FALSE(validate_node_options(node_options{}));
}

// The process refuses to start, with a message and a normal exit status
// (no std::terminate, no anonymous fallback).
TEST_F(node_tls, secure_worker_with_incomplete_settings_exits_with_a_message) {
  std::vector<std::vector<std::string>> cases{
    {"--secure"},
    {"--secure", "--cafile", file("ca.pem")},
    {"--secure", "--certificate", file("worker.pem"), "--cafile",
     file("ca.pem")},
    {"--secure", "--certificate", file("stranger.pem"), "--key",
     file("stranger.key"), "--cafile", file("ca.pem")},
    {"--cafile", file("ca.pem")},
  };
  for (auto& extra : cases) {
    std::vector<std::string> args{"--worker", "--node-port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child = test::spawn_process(ACTIO_ECHO_BIN, args,
                                     {.merge_stderr = true});
    auto out = child.read_all(30s);
    auto status = child.stop(0);
    ASSERT_TRUE(test::exited_normally(status))
      << extra.size() << " args; status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 2) << out;
    EXPECT_NE(out.find("actio-echo: "), std::string::npos) << out;
    EXPECT_EQ(out.find("listening"), std::string::npos) << out;
  }
}

} // namespace
