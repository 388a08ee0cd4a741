// Distributed actio-chat over TLS (libcaf_openssl, mutual certificates from
// deploy/make-certs): nodes with certificates from the chat's CA mesh and
// chat; a node with another CA's certificate and a plain node are refused,
// and the refusing node serves its clients on.

#include <csignal>
#include <sys/wait.h>

#include <fstream>

#include <gtest/gtest.h>

#include "nodes/chat_nodes.hpp"
#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

class chat_nodes_tls : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new temp_dir;
    ASSERT_TRUE(make_certs({dir_->path.string(), "n1", "n2"}));
    ASSERT_TRUE(
      make_certs({"--ca-name", "other-ca", dir_->path.string(), "stranger"}));
    // The stranger trusts both CAs: only n1's refusal can keep it out.
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

  static std::vector<std::string> tls(const std::string& name,
                                      const std::string& ca = "ca") {
    return {"--secure", "--certificate", file(name + ".pem"),
            "--key",    file(name + ".key"),
            "--cafile", file(ca + ".pem")};
  }

  static std::vector<std::string> plus(std::vector<std::string> xs,
                                       const std::vector<std::string>& ys) {
    xs.insert(xs.end(), ys.begin(), ys.end());
    return xs;
  }

  static temp_dir* dir_;
};

temp_dir* chat_nodes_tls::dir_ = nullptr;

// The refused nodes try while n1 and n2 are linked: the link stays up (a
// CAF 0.17.6 bug closed it, see proto/detail/tls_error_queue.hpp).
TEST_F(chat_nodes_tls, same_ca_nodes_chat_and_others_are_refused) {
  auto n1 = start_chat_node(tls("n1"));
  ASSERT_NE(n1.node_port, 0);
  auto to_n1 = std::vector<std::string>{"--peer", peer_list({n1.node_port})};
  auto n2 = start_chat_node(plus(tls("n2"), to_n1));
  ASSERT_NE(n2.node_port, 0);
  std::vector<chat_member> ms;
  ms.reserve(4); // `good` points into it
  ms.push_back(join_chat(n1.port, "a", "r"));
  ms.push_back(join_chat(n2.port, "b", "r"));
  std::vector<chat_member*> good{&ms[0], &ms[1]};
  for (auto* m : good) {
    ASSERT_TRUE(m->peer) << m->nick;
    ASSERT_TRUE(wait_members(*m, {"a", "b"})) << m->nick;
  }
  EXPECT_EQ(exchange(good, 10, "tls"), "");
  auto stranger = start_chat_node(plus(tls("stranger", "both"), to_n1));
  auto plain = start_chat_node(to_n1);
  ASSERT_NE(stranger.node_port, 0);
  ASSERT_NE(plain.node_port, 0);
  ms.push_back(join_chat(stranger.port, "s", "r"));
  ms.push_back(join_chat(plain.port, "p", "r"));
  ASSERT_TRUE(ms[2].peer);
  ASSERT_TRUE(ms[3].peer);
  // Each refused node says so (and keeps trying).
  EXPECT_TRUE(read_until(stranger.proc, "unreachable"));
  EXPECT_TRUE(read_until(plain.proc, "unreachable"));
  // n1 serves on; its room has only a and b, the others are alone.
  EXPECT_EQ(exchange(good, 10, "again"), "");
  EXPECT_TRUE(wait_members(ms[0], {"a", "b"}, 0s));
  EXPECT_TRUE(wait_members(ms[1], {"a", "b"}, 0s));
  EXPECT_TRUE(wait_members(ms[2], {"s"}, 0s));
  EXPECT_TRUE(wait_members(ms[3], {"p"}, 0s));
  ms.clear();
  // n1 saw n2 come up once and never go down.
  EXPECT_EQ(n1.proc.stop(SIGTERM), 0);
  auto log = n1.proc.read_all(30s);
  EXPECT_NE(log.find(" up\n"), std::string::npos) << log;
  EXPECT_EQ(log.find(" up\n"), log.rfind(" up\n")) << log;
  EXPECT_EQ(log.find(" down ("), std::string::npos) << log;
  for (auto* n : {&plain, &stranger, &n2})
    EXPECT_EQ(n->proc.stop(SIGTERM), 0);
}

// The process refuses to start, with a message and exit status 2 (no
// std::terminate, no anonymous TLS).
TEST_F(chat_nodes_tls, bad_settings_exit_2_with_a_message) {
  std::vector<std::vector<std::string>> cases{
    {"--node-port", "0", "--secure"},
    {"--node-port", "0", "--secure", "--cafile", file("ca.pem")},
    {"--node-port", "0", "--secure", "--certificate", file("n1.pem"),
     "--cafile", file("ca.pem")},
    {"--node-port", "0", "--secure", "--certificate", file("n1.pem"), "--key",
     file("n2.key"), "--cafile", file("ca.pem")},
    plus({"--node-port", "0"}, tls("stranger")),
    {"--node-port", "0", "--cafile", file("ca.pem")},
    plus({"--port", "0"}, tls("n1")),             // TLS without a node port
    {"--port", "0", "--peer", "127.0.0.1:1"},     // a peer without one
    {"--node-port", "0", "--peer", "nocolon"},
    {"--node-port", "70000"},
  };
  for (auto& args : cases) {
    auto child = spawn_process(ACTIO_CHAT_BIN, args, {.merge_stderr = true});
    auto out = child.read_all(30s);
    auto status = child.stop(0);
    ASSERT_TRUE(exited_normally(status)) << args.size() << " args";
    EXPECT_EQ(WEXITSTATUS(status), 2) << out;
    EXPECT_EQ(out.rfind("actio-chat: ", 0), 0u) << out;
    EXPECT_EQ(out.find("listening"), std::string::npos) << out;
  }
}

} // namespace
