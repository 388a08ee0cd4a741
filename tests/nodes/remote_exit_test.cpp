// Exit messages from other nodes (proto/node_guard.hpp): CAF 0.17 stops
// an actor on exit(kill) without asking it, and BASP delivers one from any
// connected node. Every actor Actio publishes -- the echo worker, the
// remote file service (actio-file-node), the chat federation -- now drops
// them and keeps serving; node::publish refuses an unguarded actor.

#include <fcntl.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>

#include "actio/drivers/errc.hpp"
#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"
#include "actio/proto/node.hpp"
#include "actio/proto/node_guard.hpp"
#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

/// Sends exit(kill) to `remote` from an actor of this node (a remote actor
/// as `remote`'s node sees it) and anonymously.
void kill_from_here(caf::actor_system& sys, const caf::actor& remote) {
  caf::scoped_actor self{sys};
  self->send_exit(remote, caf::exit_reason::kill);
  caf::anon_send_exit(remote, caf::exit_reason::kill);
}

TEST(remote_exit, the_echo_worker_ignores_a_remote_kill) {
  auto w = test::start_worker();
  ASSERT_NE(w.port, 0);
  node_config cfg;
  cfg.node.connect_attempts = 1;
  ASSERT_FALSE(cfg.prepare());
  caf::actor_system sys{cfg};
  auto peer = node::connect(sys, "127.0.0.1", w.port, cfg.node);
  ASSERT_TRUE(peer) << describe(peer.error());
  kill_from_here(sys, *peer);
  // Same connection, so ordered after the exits: a dead worker fails this.
  for (int i = 0; i < 3; ++i) {
    std::string reply;
    caf::scoped_actor self{sys};
    self->request(*peer, 30s, std::string{"still here"})
      .receive([&](const std::string& r) { reply = r; },
               [&](const caf::error& err) { reply = describe(err); });
    EXPECT_EQ(reply, "still here");
  }
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

TEST(remote_exit, the_file_node_ignores_a_remote_kill) {
  test::temp_dir tmp;
  std::filesystem::create_directories(tmp.path / "root");
  {
    std::ofstream out{tmp.path / "root" / "f.txt"};
    out << "hello";
  }
  auto proc = test::spawn_process(ACTIO_FILE_NODE_BIN,
                                  {"--root", (tmp.path / "root").string(),
                                   "--node-port", "0"});
  auto port = test::parse_port(proc.read_line(30s));
  ASSERT_NE(port, 0);
  node_config cfg;
  cfg.node.connect_attempts = 1;
  ASSERT_FALSE(cfg.prepare());
  caf::actor_system sys{cfg};
  auto svc = node::connect(sys, "127.0.0.1", port, cfg.node);
  ASSERT_TRUE(svc) << describe(svc.error());
  kill_from_here(sys, *svc);
  proto::io::Request open;
  open.set_id(1);
  open.mutable_open()->set_path("f.txt");
  open.mutable_open()->set_flags(O_RDONLY);
  proto::io::Completion reply;
  caf::scoped_actor self{sys};
  self->request(*svc, 30s, proto::message<proto::io::Request>{open})
    .receive([&](proto::message<proto::io::Completion>& c) { reply = *c; },
             [&](const caf::error& err) { ADD_FAILURE() << describe(err); });
  EXPECT_EQ(reply.result_case(), proto::io::Completion::kValue)
    << reply.DebugString();
  // And a new client is served too.
  auto client = test::spawn_process(
    ACTIO_FILE_NODE_BIN,
    {"--connect", "127.0.0.1:" + std::to_string(port), "--cat", "f.txt"});
  EXPECT_EQ(client.read_all(60s), "hello");
  EXPECT_EQ(client.stop(SIGTERM, 30s), 0);
  auto stopped = proc.stop(SIGTERM, 30s);
  ASSERT_TRUE(test::exited_normally(stopped));
  EXPECT_EQ(WEXITSTATUS(stopped), 0);
}

// The int arguments are unused: CAF 0.17 dereferences a null
// shared_ptr<tuple<>> for a function spawned without arguments (UBSan).
caf::behavior unguarded(caf::event_based_actor*, int) {
  return {[](int x) { return x; }};
}

caf::behavior guarded(node_actor*, int) {
  return {[](int x) { return x; }};
}

TEST(remote_exit, publish_refuses_an_unguarded_actor_and_local_stops_work) {
  node_config cfg;
  ASSERT_FALSE(cfg.prepare());
  caf::actor_system sys{cfg};
  auto plain = sys.spawn(unguarded, 0);
  auto port = node::publish(sys, plain, cfg.node);
  ASSERT_FALSE(port);
  EXPECT_NE(describe(port.error()).find("node_guarded"), std::string::npos)
    << describe(port.error());
  caf::anon_send_exit(plain, caf::exit_reason::user_shutdown);
  auto ok = sys.spawn(guarded, 0);
  ASSERT_TRUE(node::publish(sys, ok, cfg.node));
  // A local stop with a sender gets through the guard.
  caf::scoped_actor self{sys};
  self->monitor(ok);
  send_local_exit(sys, ok);
  bool down = false;
  self->receive([&](const caf::down_msg& msg) { down = msg.source == ok; },
                caf::after(30s) >> [] {});
  EXPECT_TRUE(down);
}

} // namespace
