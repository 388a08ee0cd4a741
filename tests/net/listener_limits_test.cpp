// Listener limits and graceful shutdown: maximum connections (excess closed
// at once and counted, room again after one ends), drain (acknowledged and
// queued writes reach the peer, new connects are refused, counts in the
// answer) and the drain deadline (a connection that never finishes is
// closed with errc::shutting_down).

#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <sstream>

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

bool echoes(int fd, uint32_t seed) {
  auto data = test::random_bytes(1000, seed);
  std::vector<uint8_t> back(data.size());
  return test::send_all(fd, data.data(), data.size(), 10s)
         && test::recv_exact(fd, back.data(), back.size(), 10s)
         && back == data;
}

class listener_limits_test : public test::backend_test {
protected:
  net::listener listen(net::connection_factory f, size_t max_conns = 0) {
    net::listen_options lo{"127.0.0.1", 0};
    lo.max_connections = max_conns;
    auto srv = net::tcp_listen(rt(), lo, std::move(f));
    EXPECT_TRUE(srv) << sys().render(srv.error());
    return srv ? *srv : net::listener{};
  }

  net::listener_stats stats(const caf::actor& l) {
    caf::scoped_actor self{sys()};
    net::listener_stats result;
    self->request(l, 10s, net::stats_atom::value)
      .receive([&](const net::listener_stats& x) { result = x; },
               [&](caf::error& err) { ADD_FAILURE() << sys().render(err); });
    return result;
  }
};

TEST_P(listener_limits_test, max_connections_rejects_the_excess_and_counts) {
  auto srv = listen(test::echo_behavior, 3);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(test::connect_tcp(srv.port));
    ASSERT_GE(fds.back(), 0);
    ASSERT_TRUE(echoes(fds.back(), i)) << "client " << i;
  }
  // Two more: accepted by the kernel, closed by the listener at once.
  for (int i = 0; i < 2; ++i) {
    int fd = test::connect_tcp(srv.port);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(test::wait_eof(fd, 10s)) << "excess client " << i;
    ::close(fd);
  }
  auto s = stats(srv.actor);
  EXPECT_EQ(s.active, 3u);
  EXPECT_EQ(s.accepted, 3u);
  EXPECT_EQ(s.rejected, 2u);
  // One leaves: there is room for one more, and only one.
  ::close(fds[0]);
  ASSERT_TRUE(test::wait_until([&] { return stats(srv.actor).active == 2; }));
  fds[0] = test::connect_tcp(srv.port);
  ASSERT_GE(fds[0], 0);
  EXPECT_TRUE(echoes(fds[0], 7));
  for (auto fd : fds)
    EXPECT_TRUE(echoes(fd, 8)); // the others were never disturbed
  s = stats(srv.actor);
  EXPECT_EQ(s.active, 3u);
  EXPECT_EQ(s.accepted, 4u);
  EXPECT_EQ(s.rejected, 2u);
  for (auto fd : fds)
    ::close(fd);
}

TEST_P(listener_limits_test, rejections_are_logged_at_most_once_a_second) {
  // Limit 1, one client held, 6 more rejected: the log lines' counts add up
  // to 6 (what is not yet logged is logged when the listener ends) and there
  // is at most one line per second (6 lines would mean no pacing).
  testing::internal::CaptureStderr();
  auto start = test::clock::now();
  auto srv = listen(test::echo_behavior, 1);
  int held = test::connect_tcp(srv.port);
  ASSERT_GE(held, 0);
  ASSERT_TRUE(echoes(held, 1));
  for (int i = 0; i < 6; ++i) {
    int fd = test::connect_tcp(srv.port);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(test::wait_eof(fd, 10s));
    ::close(fd);
  }
  EXPECT_EQ(stats(srv.actor).rejected, 6u);
  caf::scoped_actor self{sys()};
  self->monitor(srv.actor);
  self->send(srv.actor, net::close_atom::value);
  self->receive([](const caf::down_msg&) {});
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                   test::clock::now() - start).count();
  auto log = testing::internal::GetCapturedStderr();
  size_t lines = 0;
  size_t total = 0;
  std::istringstream in{log};
  for (std::string line; std::getline(in, line);) {
    auto at = line.find(" rejected ");
    if (at == std::string::npos || line.find("connection(s)") == std::string::npos)
      continue;
    ++lines;
    total += std::stoul(line.substr(at + 10));
  }
  EXPECT_EQ(total, 6u) << log;
  // One line per started second, plus the listener's last line at exit.
  EXPECT_LE(lines, static_cast<size_t>(seconds) + 2) << log;
  ::close(held);
}

TEST_P(listener_limits_test, drain_delivers_every_written_byte_and_refuses_new_connects) {
  // The server writes 4 MiB at once (more than the socket buffers hold, so
  // part of it is still queued when the drain starts), then shuts down its
  // write side when told to drain. The client reads only after the drain
  // began.
  constexpr size_t chunk = 256 * 1024;
  constexpr int chunks = 16;
  auto acked = std::make_shared<std::atomic<size_t>>(0);
  auto srv = listen([acked](net::connection* self) -> caf::behavior {
    for (int i = 0; i < chunks; ++i)
      self->write(test::random_bytes(chunk, static_cast<uint32_t>(i)));
    self->grant(1024);
    return {
      [=](const write_completed& w) {
        if (!w.reason)
          *acked += w.bytes;
      },
      [=](const draining&) { self->shutdown_write(); },
      [=](const read_closed&) { self->close(); },
    };
  });
  int fd = test::connect_tcp(srv.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(test::wait_until([&] { return *acked > 0; }));
  caf::scoped_actor self{sys()};
  auto answer = self->request(srv.actor, 60s, net::drain_atom::value,
                              caf::timespan{30s});
  // New connects are refused once the listening socket is closed.
  EXPECT_TRUE(test::wait_until([&] {
    int other = test::connect_tcp(srv.port);
    if (other < 0)
      return true;
    ::close(other);
    return false;
  }));
  // Every byte, in order, then EOF.
  for (int i = 0; i < chunks; ++i) {
    std::vector<uint8_t> got(chunk);
    ASSERT_TRUE(test::recv_exact(fd, got.data(), got.size(), 30s))
      << "chunk " << i;
    ASSERT_EQ(got, test::random_bytes(chunk, static_cast<uint32_t>(i)))
      << "chunk " << i;
  }
  EXPECT_TRUE(test::wait_eof(fd, 30s));
  EXPECT_EQ(*acked, chunk * chunks);
  ::shutdown(fd, SHUT_WR); // our EOF lets the connection close
  net::drain_result result{99, 99};
  answer.receive([&](const net::drain_result& r) { result = r; },
                 [&](caf::error& err) { ADD_FAILURE() << sys().render(err); });
  EXPECT_EQ(result.drained, 1u);
  EXPECT_EQ(result.forced, 0u);
  ::close(fd);
}

TEST_P(listener_limits_test, drain_deadline_closes_what_never_finishes) {
  auto reason = std::make_shared<std::promise<caf::error>>();
  auto fut = reason->get_future();
  auto srv = listen([reason](net::connection* self) -> caf::behavior {
    self->grant(1024);
    return {
      [=](const connection_closed& c) { reason->set_value(c.reason); },
    }; // ignores `draining`
  });
  int idle = test::connect_tcp(srv.port);
  ASSERT_GE(idle, 0);
  ASSERT_TRUE(test::wait_until([&] { return stats(srv.actor).active == 1; }));
  caf::scoped_actor self{sys()};
  auto start = test::clock::now();
  net::drain_result result{99, 99};
  // The README: closed at the deadline, answered within a quarter of the
  // deadline after it. 2 s leaves that quarter (500 ms) to a loaded machine.
  constexpr auto deadline = 2000ms;
  self->request(srv.actor, 60s, net::drain_atom::value, caf::timespan{deadline})
    .receive([&](const net::drain_result& r) { result = r; },
             [&](caf::error& err) { ADD_FAILURE() << sys().render(err); });
  auto took = test::clock::now() - start;
  EXPECT_EQ(result.drained, 0u);
  EXPECT_EQ(result.forced, 1u);
  EXPECT_GE(took, deadline);
  EXPECT_LE(took, deadline * 5 / 4)
    << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
    << " ms";
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto err = fut.get();
  EXPECT_EQ(err.category(), caf::atom("actio"));
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::shutting_down))
    << sys().render(err);
  EXPECT_TRUE(test::wait_eof(idle, 10s));
  ::close(idle);
}

TEST_P(listener_limits_test, drain_without_connections_answers_at_once) {
  auto srv = listen(test::echo_behavior);
  caf::scoped_actor self{sys()};
  net::drain_result result{99, 99};
  self->request(srv.actor, 30s, net::drain_atom::value, caf::timespan{20s})
    .receive([&](const net::drain_result& r) { result = r; },
             [&](caf::error& err) { ADD_FAILURE() << sys().render(err); });
  EXPECT_EQ(result.drained, 0u);
  EXPECT_EQ(result.forced, 0u);
  EXPECT_LT(test::connect_tcp(srv.port), 0); // refused
}

ACTIO_TEST_ALL_BACKENDS(listener_limits_test);

} // namespace
