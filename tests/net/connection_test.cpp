// Connection actor semantics: credit, acknowledged writes and watermarks,
// peer reset, external requests and shutdown with requests in flight.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

using stats_atom = caf::atom_constant<caf::atom("stats")>;

class connection_test : public test::backend_test {
protected:
  uint16_t listen(net::connection_factory f, net::connection_options o = {}) {
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, std::move(f), o);
    EXPECT_TRUE(srv) << sys().render(srv.error());
    return srv ? srv->port : 0;
  }
};

/// Hands the test the connection actors a listener spawns.
struct conn_box {
  std::mutex mtx;
  std::vector<caf::actor> conns;
  void add(net::connection* self) {
    std::lock_guard<std::mutex> guard{mtx};
    conns.push_back(caf::actor_cast<caf::actor>(self));
  }
  caf::actor get(size_t i) {
    std::lock_guard<std::mutex> guard{mtx};
    return i < conns.size() ? conns[i] : caf::actor{};
  }
};

TEST_P(connection_test, reading_stops_when_credit_is_used_up) {
  struct tally {
    std::atomic<size_t> received{0};
    std::atomic<bool> overrun{false};
  };
  auto t = std::make_shared<tally>();
  auto box = std::make_shared<conn_box>();
  auto port = listen([t, box](net::connection* self) -> caf::behavior {
    box->add(self);
    auto granted = std::make_shared<size_t>(4);
    self->grant(4);
    return {
      [=](received& in) {
        t->received += in.bytes.size();
        if (t->received > *granted)
          t->overrun = true;
      },
      [=](size_t more) { // test-only message: grant more
        *granted += more;
        self->grant(more);
      },
    };
  });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto data = test::random_bytes(10, 5);
  ASSERT_TRUE(test::send_all(fd, data.data(), data.size()));
  ASSERT_TRUE(test::wait_until([&] { return t->received == 4; }));
  caf::anon_send(box->get(0), size_t{6});
  ASSERT_TRUE(test::wait_until([&] { return t->received == 10; }));
  EXPECT_FALSE(t->overrun) << "read beyond the credit granted";
  ::close(fd);
}

TEST_P(connection_test, peer_reset_mid_write_fails_the_write) {
  auto failure = std::make_shared<std::promise<caf::error>>();
  auto fut = failure->get_future();
  auto port = listen([failure](net::connection* self) -> caf::behavior {
    // Keep four 1 MiB writes in flight towards a client that reads little.
    auto chunk = byte_buffer(1024 * 1024, 0x5a);
    auto reported = std::make_shared<bool>(false);
    for (int i = 0; i < 4; ++i)
      self->write(chunk);
    return {
      [=](const write_completed& w) {
        if (!w.reason) {
          self->write(chunk);
        } else if (!*reported) {
          *reported = true;
          failure->set_value(w.reason);
        }
      },
    };
  });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  uint8_t first[1024];
  ASSERT_TRUE(test::recv_exact(fd, first, sizeof(first)));
  linger lg{1, 0}; // close with RST
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  ::close(fd);
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  auto err = fut.get();
  EXPECT_EQ(err.category(), caf::atom("actio"));
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::connection_reset))
    << sys().render(err);
  // The server keeps serving others.
  auto echo_port = listen(test::echo_behavior);
  int other = test::connect_tcp(echo_port);
  ASSERT_GE(other, 0);
  auto data = test::random_bytes(100000, 9);
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(test::send_all(other, data.data(), data.size()));
  ASSERT_TRUE(test::recv_exact(other, back.data(), back.size()));
  EXPECT_EQ(back, data);
  ::close(other);
}

TEST_P(connection_test, write_queue_watermarks_and_hard_limit) {
  struct tally {
    std::atomic<size_t> ok_bytes{0};
    std::atomic<int> full{0};
    std::atomic<int> other_errors{0};
    std::atomic<int> completions{0};
    std::atomic<bool> paused{false};
    std::atomic<bool> resumed{false};
  };
  constexpr int writes = 24;
  constexpr size_t chunk_size = 1024 * 1024;
  auto t = std::make_shared<tally>();
  net::connection_options opts;
  opts.limits = {1024 * 1024, 256 * 1024, 8 * 1024 * 1024};
  auto port = listen(
    [t](net::connection* self) -> caf::behavior {
      for (int i = 0; i < writes; ++i)
        self->write(byte_buffer(chunk_size, static_cast<uint8_t>(i)));
      return {
        [=](const write_completed& w) {
          if (!w.reason)
            t->ok_bytes += w.bytes;
          else if (w.reason.code() == static_cast<uint8_t>(errc::write_queue_full))
            ++t->full;
          else
            ++t->other_errors;
          if (++t->completions == writes)
            self->shutdown_write();
        },
        [=](const write_paused&) { t->paused = true; },
        [=](const write_resumed&) { t->resumed = true; },
      };
    },
    opts);
  // A small receive window keeps the kernel from absorbing the whole burst.
  int fd = test::connect_tcp(port, 64 * 1024);
  ASSERT_GE(fd, 0);
  // Wait until the server has queued (and partly refused) its burst.
  ASSERT_TRUE(test::wait_until([&] { return t->full > 0 && t->paused; }))
    << "full " << t->full << ", paused " << t->paused;
  // Now read everything: chunk markers must come in order, none torn.
  std::vector<uint8_t> buf(chunk_size);
  size_t total = 0;
  int last_marker = -1;
  for (;;) {
    if (!test::recv_exact(fd, buf.data(), chunk_size, 30s))
      break; // EOF after the server's shutdown (or a failure, caught below)
    total += chunk_size;
    EXPECT_EQ(buf.front(), buf.back());
    EXPECT_GT(static_cast<int>(buf.front()), last_marker);
    last_marker = buf.front();
  }
  EXPECT_EQ(t->completions.load(), writes);
  EXPECT_EQ(t->other_errors.load(), 0);
  EXPECT_TRUE(test::wait_until([&] { return t->resumed.load(); }));
  EXPECT_EQ(total, t->ok_bytes.load());
  EXPECT_EQ(total + t->full * chunk_size, writes * chunk_size);
  ::close(fd);
}

TEST_P(connection_test, external_write_requests_get_one_response_each) {
  auto box = std::make_shared<conn_box>();
  auto port = listen([box](net::connection* self) -> caf::behavior {
    box->add(self);
    return {[](int) {}};
  });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(test::wait_until([&] { return box->get(0) != nullptr; }));
  auto conn = box->get(0);
  caf::scoped_actor self{sys()};
  auto data = test::random_bytes(3000, 11);
  size_t written = 0;
  self->request(conn, 10s, net::write_atom::value, data)
    .receive([&](size_t n) { written = n; },
             [&](caf::error& err) { FAIL() << sys().render(err); });
  EXPECT_EQ(written, data.size());
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(test::recv_exact(fd, back.data(), back.size()));
  EXPECT_EQ(back, data);
  bool shut = false;
  self->request(conn, 10s, net::shutdown_atom::value)
    .receive([&]() { shut = true; },
             [&](caf::error& err) { FAIL() << sys().render(err); });
  EXPECT_TRUE(shut);
  EXPECT_TRUE(test::wait_eof(fd));
  // After shutdown, a write is refused with a typed error.
  caf::error refused;
  self->request(conn, 10s, net::write_atom::value, data)
    .receive([&](size_t) {}, [&](caf::error& err) { refused = err; });
  EXPECT_EQ(refused.code(), static_cast<uint8_t>(errc::closed))
    << sys().render(refused);
  ::close(fd);
}

TEST_P(connection_test, shutdown_completes_every_pending_request) {
  auto box = std::make_shared<conn_box>();
  auto port = listen([box](net::connection* self) -> caf::behavior {
    box->add(self);
    return {[](int) {}};
  });
  int fd = test::connect_tcp(port); // never reads
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(test::wait_until([&] { return box->get(0) != nullptr; }));
  auto conn = box->get(0);
  // An ordinary actor keeps 32 x 1 MiB write requests in flight: more than
  // the kernel buffers, so many are still queued when we shut down.
  constexpr int requests = 32;
  struct tally {
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
  };
  auto t = std::make_shared<tally>();
  auto client = sys().spawn([=](caf::event_based_actor* self, int n) {
    for (int i = 0; i < n; ++i)
      self->request(conn, caf::infinite, net::write_atom::value,
                    byte_buffer(1024 * 1024, 1))
        .then([=](size_t) { ++t->ok; }, [=](caf::error&) { ++t->failed; });
  }, requests); // (an argument avoids CAF 0.17's null-tuple UB, see pinned.hpp)
  // Some writes are with the kernel, the rest wait: now shut down.
  ASSERT_TRUE(test::wait_until([&] { return t->ok > 0; }));
  rt().shutdown();
  ASSERT_TRUE(test::wait_until([&] { return t->ok + t->failed == requests; }))
    << "ok " << t->ok << ", failed " << t->failed;
  EXPECT_GT(t->failed.load(), 0);
  EXPECT_EQ(rt().unit(0).pinned(), 0u);
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  ::close(fd);
}

ACTIO_TEST_ALL_BACKENDS(connection_test);

} // namespace
