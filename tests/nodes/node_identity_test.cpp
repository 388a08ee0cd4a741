// Peer identity between TLS nodes (proto/detail/tls_peer_identity.hpp): a
// certificate from the right CA is not enough, it must name the peer.
// Worker nodes are actio-echo processes; the connecting node lives in this
// test process. Certificates from deploy/make-certs, one without loopback
// names (--no-loopback).

#include <csignal>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include "actio/drivers/errc.hpp"
#include "actio/proto/node.hpp"
#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class node_identity : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new test::temp_dir;
    ASSERT_TRUE(
      test::make_certs({dir_->path.string(), "worker", "client", "mallory"}));
    // Same CA; names only "far", not 127.0.0.1.
    ASSERT_TRUE(test::make_certs({"--no-loopback", dir_->path.string(), "far"}));
  }

  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::vector<std::string> tls_args(const std::string& name) {
    return {"--secure", "--certificate", file(name + ".pem"), "--key",
            file(name + ".key"), "--cafile", file("ca.pem")};
  }

  static std::string file(const std::string& name) {
    return dir_->file(name);
  }

  /// Connects to 127.0.0.1:port with certificate `name` and `peer_names`
  /// and echoes "hello": the reply, or "error: ...".
  static std::string echo_via(const std::string& name, uint16_t port,
                              const std::string& peer_names = "") {
    node_config cfg;
    cfg.node.secure = true;
    cfg.node.certificate = file(name + ".pem");
    cfg.node.key = file(name + ".key");
    cfg.node.cafile = file("ca.pem");
    cfg.node.peer_names = peer_names;
    cfg.node.connect_attempts = 1;
    cfg.node.connection_timeout = 10s;
    if (auto err = cfg.prepare())
      return "prepare: " + describe(err);
    caf::actor_system sys{cfg};
    auto peer = node::connect(sys, "127.0.0.1", port, cfg.node);
    if (!peer)
      return "error: " + describe(peer.error());
    std::string result;
    caf::scoped_actor self{sys};
    self->request(*peer, 30s, std::string{"hello"})
      .receive([&](const std::string& reply) { result = reply; },
               [&](const caf::error& err) {
                 result = "error: " + describe(err);
               });
    return result;
  }

  static test::temp_dir* dir_;
};

test::temp_dir* node_identity::dir_ = nullptr;

// Without peer-names a node connected to must carry the host it was
// reached by, like HTTPS.
TEST_F(node_identity, a_node_connected_to_must_carry_its_host_name) {
  auto far = test::start_worker(tls_args("far"));
  ASSERT_NE(far.port, 0);
  auto refused = echo_via("client", far.port);
  EXPECT_EQ(refused.rfind("error: ", 0), 0u) << refused;
  EXPECT_NE(refused.find("names none of: 127.0.0.1"), std::string::npos)
    << refused;
  EXPECT_NE(refused.find("CN=far"), std::string::npos) << refused;
  // The operator names it: accepted.
  EXPECT_EQ(echo_via("client", far.port, "far"), "hello");
  // A certificate that names 127.0.0.1 passes the default rule.
  auto near = test::start_worker(tls_args("worker"));
  ASSERT_NE(near.port, 0);
  EXPECT_EQ(echo_via("client", near.port), "hello");
  EXPECT_EQ(far.proc.stop(SIGTERM), 0);
  EXPECT_EQ(near.proc.stop(SIGTERM), 0);
}

// With peer-names, both directions: the connecting node checks the worker,
// the worker checks the connecting node; a good CA with the wrong name is
// refused and the worker keeps serving good peers.
TEST_F(node_identity, peer_names_are_checked_in_both_directions) {
  auto args = tls_args("worker");
  args.push_back("--actio.node.peer-names=client,other");
  auto w = test::start_worker(args);
  ASSERT_NE(w.port, 0);
  EXPECT_EQ(echo_via("client", w.port, "worker"), "hello");
  // Right CA, wrong name, connecting in: the worker refuses.
  auto in = echo_via("mallory", w.port, "worker");
  EXPECT_EQ(in.rfind("error: ", 0), 0u) << in;
  // The worker is not who we expect: we refuse, saying why.
  auto out = echo_via("client", w.port, "somebody-else");
  EXPECT_EQ(out.rfind("error: ", 0), 0u) << out;
  EXPECT_NE(out.find("CN=worker"), std::string::npos) << out;
  EXPECT_NE(out.find("somebody-else"), std::string::npos) << out;
  EXPECT_EQ(echo_via("client", w.port, "worker"), "hello");
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

TEST(node_identity_options, peer_names_need_tls) {
  node_options opts;
  opts.peer_names = "a";
  auto err = validate_node_options(opts);
  ASSERT_TRUE(err);
  EXPECT_NE(describe(err).find("peer-names"), std::string::npos);
}

} // namespace
