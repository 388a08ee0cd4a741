// Unix datagram socket actors on every backend: echo over filesystem paths
// and abstract names, the path removed on close, and close with sends
// pending (a peer that never reads): exactly one completion each.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/unix_datagram.hpp"
#include "support/datagram_peer.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class unix_datagram_test : public test::backend_test {
protected:
  void SetUp() override {
    backend_test::SetUp();
    char tmpl[] = "/tmp/actio-udg-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override {
    backend_test::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
};

caf::behavior echo(net::datagram_socket* self) {
  self->grant(64);
  return {
    [=](datagram_received& in) { self->send_to(in.from, std::move(in.bytes)); },
    [=](const write_completed&) { self->grant(1); },
  };
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

uint8_t code_of(const caf::error& err) {
  return err.category() == caf::atom("actio") ? err.code() : 0;
}

void echo_round_trips(const net::address& server) {
  test::datagram_peer client{AF_UNIX, net::address{}}; // autobind
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client.local().unix_name().front(), '@');
  for (uint32_t i = 0; i < 200; ++i) {
    auto data = test::random_bytes(100 + i * 10, i);
    ASSERT_TRUE(client.send_to(server, data));
    net::address from;
    auto got = client.recv(&from);
    ASSERT_TRUE(got) << "datagram " << i;
    EXPECT_EQ(*got, data);
    EXPECT_EQ(from, server);
  }
}

TEST_P(unix_datagram_test, echo_over_a_path_which_close_removes) {
  net::unix_datagram_options opts;
  opts.path = dir_ + "/echo.sock";
  auto srv = net::unix_datagram_bind(rt(), opts, echo);
  ASSERT_TRUE(srv) << describe(srv.error());
  EXPECT_EQ(srv->local.unix_name(), opts.path);
  EXPECT_TRUE(exists(opts.path));
  echo_round_trips(srv->local);
  // The path is taken while the socket lives.
  auto second = net::unix_datagram_bind(rt(), opts, echo);
  ASSERT_FALSE(second);
  EXPECT_EQ(code_of(second.error()), static_cast<uint8_t>(errc::address_in_use));
  caf::anon_send(srv->actor, net::close_atom::value);
  ASSERT_TRUE(test::wait_until([&] { return !exists(opts.path); }));
  // ... and free again once closed.
  auto third = net::unix_datagram_bind(rt(), opts, echo);
  ASSERT_TRUE(third) << describe(third.error());
}

TEST_P(unix_datagram_test, echo_over_an_abstract_name) {
  net::unix_datagram_options opts;
  opts.path = "@actio-test-" + std::to_string(::getpid()) + "-" + GetParam();
  auto srv = net::unix_datagram_bind(rt(), opts, echo);
  ASSERT_TRUE(srv) << describe(srv.error());
  EXPECT_EQ(to_string(srv->local), opts.path);
  echo_round_trips(srv->local);
}

TEST_P(unix_datagram_test, stale_socket_file_is_replaced_only_when_asked) {
  auto path = dir_ + "/stale.sock";
  {
    test::datagram_peer stale{AF_UNIX, *net::address::unix_path(path)};
    ASSERT_TRUE(stale.ok());
  } // closed; the file stays
  ASSERT_TRUE(exists(path));
  net::unix_datagram_options opts;
  opts.path = path;
  ASSERT_FALSE(net::unix_datagram_bind(rt(), opts, echo));
  opts.unlink_existing = true;
  auto srv = net::unix_datagram_bind(rt(), opts, echo);
  ASSERT_TRUE(srv) << describe(srv.error());
  echo_round_trips(srv->local);
}

TEST_P(unix_datagram_test, close_with_pending_sends_completes_each_once) {
  // A receiver that never reads: its queue fills, the sender's sends then
  // wait in the driver (EAGAIN), until close cancels them.
  test::datagram_peer sink{AF_UNIX, *net::address::unix_path(dir_ + "/sink")};
  ASSERT_TRUE(sink.ok());
  net::unix_datagram_options opts;
  opts.max_queued = 16;
  auto snd = net::unix_datagram_bind(rt(), opts, [](net::datagram_socket*) {
    return caf::behavior{[](const datagram_received&) {}};
  });
  ASSERT_TRUE(snd) << describe(snd.error());
  caf::scoped_actor self{sys()};
  constexpr int total = 500;
  for (int i = 0; i < total; ++i)
    self->send(snd->actor, net::send_to_atom::value, sink.local(),
               byte_buffer(1000, static_cast<uint8_t>(i)));
  self->send(snd->actor, net::close_atom::value);
  int ok = 0;
  int cancelled = 0;
  int queue_full = 0;
  int other = 0;
  int i = 0;
  self->receive_for(i, total)(
    [&](size_t n) {
      EXPECT_EQ(n, 1000u);
      ++ok;
    },
    [&](caf::error& err) {
      auto code = code_of(err);
      if (code == static_cast<uint8_t>(errc::cancelled))
        ++cancelled;
      else if (code == static_cast<uint8_t>(errc::write_queue_full))
        ++queue_full;
      else
        ++other;
    },
    caf::after(30s) >> [&] { FAIL() << "responses missing"; });
  EXPECT_EQ(ok + cancelled + queue_full + other, total);
  EXPECT_EQ(other, 0);
  EXPECT_GT(ok, 0);        // some fit into the receiver's queue
  EXPECT_GT(cancelled, 0); // the queued ones were answered by close
  EXPECT_GT(queue_full, 0); // beyond 16 queued: refused at once
  EXPECT_LE(cancelled, 17); // the queue, plus one in flight (uring)
  // Exactly one each: nothing more arrives.
  bool extra = false;
  self->receive([&](size_t) { extra = true; }, [&](caf::error&) { extra = true; },
                caf::after(200ms) >> [] {});
  EXPECT_FALSE(extra);
}

ACTIO_TEST_ALL_BACKENDS(unix_datagram_test);

} // namespace
