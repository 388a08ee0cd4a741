// 5,000 echo connections at once, each with one small message in flight at a
// time (the echo bench's many-connection shape): every connection must be
// served, and none may starve while the others are served. The io_uring
// backend once shared 128 provided buffers among all connections: the pool
// ran dry every turn and some connections waited for seconds.

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "actio/net/tcp_listener.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

constexpr size_t connections = 5000;
constexpr size_t rounds = 10;    // messages per connection, one at a time
constexpr size_t msg_size = 64;

#if defined(__SANITIZE_ADDRESS__)
constexpr int slowdown = 4; // ASan: same assertions, more time
#else
constexpr int slowdown = 1;
#endif

// Generous on a busy 2-core machine (a healthy backend needs well under a
// second per message here); the starving pool made single messages wait
// far longer than this while the others were served.
constexpr auto max_wait = 5s * slowdown;
constexpr auto total_limit = 60s * slowdown;

/// Raises the descriptor limit to the hard limit; false if even that is
/// too low for both ends of every connection plus the runtime.
bool enough_descriptors(std::string& why) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    why = std::string{"getrlimit: "} + std::strerror(errno);
    return false;
  }
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const rlim_t needed = 2 * connections + 256;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed) {
    why = "RLIMIT_NOFILE hard limit " + std::to_string(lim.rlim_max) + " < "
          + std::to_string(needed) + " descriptors needed";
    return false;
  }
  return true;
}

class many_connections_test : public test::backend_test {};

TEST_P(many_connections_test, five_thousand_connections_each_get_every_echo) {
  std::string why;
  if (!enough_descriptors(why))
    GTEST_SKIP() << why;
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << sys().render(srv.error());

  struct conn {
    int fd = -1;
    size_t round = 0;  // messages echoed completely
    size_t got = 0;    // bytes of the current echo
    test::clock::time_point sent;
  };
  std::vector<conn> conns(connections);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  for (size_t i = 0; i < connections; ++i) {
    conns[i].fd = test::connect_tcp(srv->port);
    ASSERT_GE(conns[i].fd, 0) << "connect " << i << ": " << std::strerror(errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev), 0);
  }
  // Every connection accepted and adopted (the listener is the one more
  // socket) before the first message: this measures the echo, not how fast
  // the backlog drains.
  ASSERT_TRUE(test::wait_until(
    [&] { return rt().unit(0).backend().sockets() == connections + 1; },
    total_limit))
    << "the server adopted " << rt().unit(0).backend().sockets() - 1 << " of "
    << connections << " connections";
  // Message r of connection i: its bytes identify both.
  auto message = [](size_t i, size_t r) {
    std::vector<uint8_t> m(msg_size);
    for (size_t k = 0; k < msg_size; ++k)
      m[k] = static_cast<uint8_t>(i * 131 + r * 31 + k);
    return m;
  };
  auto send_next = [&](size_t i) {
    auto m = message(i, conns[i].round);
    conns[i].sent = test::clock::now();
    conns[i].got = 0;
    // 64 bytes into an empty socket buffer: never short.
    return ::send(conns[i].fd, m.data(), m.size(), MSG_NOSIGNAL)
           == static_cast<ssize_t>(m.size());
  };
  for (size_t i = 0; i < connections; ++i)
    ASSERT_TRUE(send_next(i)) << "send " << i << ": " << std::strerror(errno);

  auto start = test::clock::now();
  test::clock::duration worst{0};
  size_t worst_conn = 0;
  size_t finished = 0;
  std::vector<epoll_event> events(1024);
  std::vector<uint8_t> buf(4096);
  while (finished < connections) {
    auto now = test::clock::now();
    ASSERT_LT(now - start, total_limit)
      << finished << " of " << connections << " connections done";
    // A connection still waiting longer than the bound fails the test now
    // (checked before every wait, so a starved one is caught even if its
    // echo never comes).
    for (size_t i = 0; i < connections; ++i) {
      if (conns[i].round < rounds) {
        ASSERT_LT(now - conns[i].sent, max_wait)
          << "connection " << i << " waits for echo " << conns[i].round
          << " since " << std::chrono::duration_cast<std::chrono::milliseconds>(
               now - conns[i].sent).count()
          << " ms (" << finished << " connections done, driver has "
          << rt().unit(0).backend().sockets() << " sockets)";
      }
    }
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    ASSERT_GE(n, 0) << std::strerror(errno);
    for (int e = 0; e < n; ++e) {
      auto i = static_cast<size_t>(events[e].data.u64);
      auto& c = conns[i];
      auto k = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (k < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      ASSERT_GT(k, 0) << "connection " << i << ": "
                      << (k == 0 ? "early EOF" : std::strerror(errno));
      auto expected = message(i, c.round);
      ASSERT_LE(c.got + static_cast<size_t>(k), msg_size) << "connection " << i;
      ASSERT_EQ(std::memcmp(buf.data(), expected.data() + c.got,
                            static_cast<size_t>(k)), 0)
        << "connection " << i << " echo " << c.round << " differs";
      c.got += static_cast<size_t>(k);
      if (c.got < msg_size)
        continue;
      auto waited = test::clock::now() - c.sent;
      if (waited > worst) {
        worst = waited;
        worst_conn = i;
      }
      if (++c.round == rounds) {
        ++finished;
        continue;
      }
      ASSERT_TRUE(send_next(i)) << "send " << i << ": " << std::strerror(errno);
    }
  }
  auto worst_ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(worst).count();
  auto total_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    test::clock::now() - start).count();
  RecordProperty("worst_wait_ms", static_cast<int>(worst_ms));
  RecordProperty("total_ms", static_cast<int>(total_ms));
  std::printf("[ %s ] %zu x %zu echoes in %lld ms, worst wait %lld ms "
              "(connection %zu)\n",
              GetParam().c_str(), connections, rounds,
              static_cast<long long>(total_ms),
              static_cast<long long>(worst_ms), worst_conn);
  for (auto& c : conns)
    ::close(c.fd);
  ::close(ep);
}

ACTIO_TEST_ALL_BACKENDS(many_connections_test);

} // namespace
