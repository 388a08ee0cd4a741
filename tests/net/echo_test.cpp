// TCP listener + connection actors against real loopback sockets: bulk echo,
// half-close, backpressure from a client that never reads, descriptor leaks.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "actio/actors/driver_unit.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class echo_test : public test::backend_test {
protected:
  uint16_t start_echo() {
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
    EXPECT_TRUE(srv) << sys().render(srv.error());
    return srv ? srv->port : 0;
  }
};

/// Drives `n` connections at once from one thread: each sends `size` bytes
/// of its own random data and must read exactly those bytes back.
void echo_many(uint16_t port, size_t n, size_t size, uint32_t seed) {
  struct conn {
    int fd;
    std::vector<uint8_t> out;
    std::vector<uint8_t> in;
    size_t sent = 0;
  };
  std::vector<conn> conns;
  for (size_t i = 0; i < n; ++i) {
    int fd = test::connect_tcp(port);
    ASSERT_GE(fd, 0) << "connect " << i;
    conns.push_back({fd, test::random_bytes(size, seed + static_cast<uint32_t>(i)), {}, 0});
    conns.back().in.reserve(size);
  }
  auto deadline = test::clock::now() + 120s;
  size_t done = 0;
  std::vector<pollfd> fds(n);
  std::vector<uint8_t> buf(64 * 1024);
  while (done < n) {
    ASSERT_LT(test::clock::now(), deadline) << done << " of " << n << " done";
    for (size_t i = 0; i < n; ++i) {
      auto& c = conns[i];
      short events = c.in.size() < size ? POLLIN : 0;
      if (c.sent < size)
        events |= POLLOUT;
      fds[i] = {events ? c.fd : -1, events, 0};
    }
    ASSERT_GE(::poll(fds.data(), n, 1000), 0);
    for (size_t i = 0; i < n; ++i) {
      auto& c = conns[i];
      if (fds[i].revents & POLLOUT) {
        auto k = ::send(c.fd, c.out.data() + c.sent,
                        std::min<size_t>(size - c.sent, 64 * 1024),
                        MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0)
          c.sent += static_cast<size_t>(k);
      }
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        auto k = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        ASSERT_NE(k, 0) << "early EOF on connection " << i;
        if (k > 0) {
          c.in.insert(c.in.end(), buf.begin(), buf.begin() + k);
          ASSERT_LE(c.in.size(), size);
          if (c.in.size() == size)
            ++done;
        }
      }
    }
  }
  for (auto& c : conns) {
    EXPECT_TRUE(c.in == c.out) << "echo differs";
    ::close(c.fd);
  }
}

TEST_P(echo_test, hundred_connections_echo_one_mib_each_byte_exact) {
  auto port = start_echo();
  ASSERT_NE(port, 0);
  echo_many(port, 100, 1024 * 1024, 1);
}

TEST_P(echo_test, half_close_echoes_everything_then_eof) {
  auto port = start_echo();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto data = test::random_bytes(256 * 1024, 7);
  ASSERT_TRUE(test::send_all(fd, data.data(), data.size()));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0); // half-close: we still read
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(test::recv_exact(fd, back.data(), back.size()));
  EXPECT_EQ(back, data);
  EXPECT_TRUE(test::wait_eof(fd)) << "server must shut down its side too";
  ::close(fd);
}

TEST_P(echo_test, client_that_never_reads_keeps_memory_bounded) {
  auto port = start_echo();
  // Warm up allocators and the runtime before taking the baseline.
  echo_many(port, 4, 64 * 1024, 100);
  auto rss_before = test::rss_bytes();
  int hog = test::connect_tcp(port);
  ASSERT_GE(hog, 0);
  // Try to push 256 MiB without ever reading. The server reads only what it
  // could write back, so the pipe must stall long before that.
  constexpr size_t target = 256u * 1024 * 1024;
  auto chunk = test::random_bytes(1024 * 1024, 3);
  size_t sent = 0;
  bool stalled = false;
  while (sent < target) {
    pollfd p{hog, POLLOUT, 0};
    // No progress for 500 ms = stalled (a verdict, not a synchronisation).
    if (::poll(&p, 1, 500) == 0) {
      stalled = true;
      break;
    }
    auto k = ::send(hog, chunk.data() + sent % chunk.size(),
                    chunk.size() - sent % chunk.size(),
                    MSG_DONTWAIT | MSG_NOSIGNAL);
    ASSERT_TRUE(k > 0 || errno == EAGAIN) << strerror(errno);
    if (k > 0)
      sent += static_cast<size_t>(k);
  }
  EXPECT_TRUE(stalled) << "sent all " << sent << " bytes: no backpressure";
  // Meanwhile, others are served.
  echo_many(port, 10, 256 * 1024, 200);
  auto growth = test::rss_bytes() - std::min(rss_before, test::rss_bytes());
  EXPECT_LT(growth, 64u * 1024 * 1024) << "server RSS grew by " << growth;
  RecordProperty("hog_bytes_sent", static_cast<int>(sent));
  RecordProperty("rss_growth", static_cast<int>(growth));
  ::close(hog);
}

TEST_P(echo_test, connect_close_cycles_leak_no_descriptors) {
  auto port = start_echo();
  auto before = test::count_fds();
  for (int i = 0; i < 1000; ++i) {
    int fd = test::connect_tcp(port);
    ASSERT_GE(fd, 0) << "cycle " << i;
    if (i % 2 == 0) { // every other one exchanges a byte first
      uint8_t x = static_cast<uint8_t>(i);
      uint8_t y = 0;
      ASSERT_TRUE(test::send_all(fd, &x, 1));
      ASSERT_TRUE(test::recv_exact(fd, &y, 1));
      ASSERT_EQ(x, y);
    }
    ::close(fd);
  }
  // The server closes its side as it sees each EOF.
  EXPECT_TRUE(test::wait_until([&] { return test::count_fds() <= before; }))
    << "fds before " << before << ", after " << test::count_fds();
  EXPECT_TRUE(test::wait_until([&] { return rt().unit(0).backend().sockets() == 1; }))
    << "driver still has " << rt().unit(0).backend().sockets() << " sockets";
}

TEST_P(echo_test, listening_on_a_used_port_is_a_typed_error) {
  auto port = start_echo();
  auto again = net::tcp_listen(rt(), {"127.0.0.1", port}, test::echo_behavior);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), static_cast<uint8_t>(errc::address_in_use));
  EXPECT_NE(sys().render(again.error()).find("Address already in use"),
            std::string::npos);
}

// 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface of a test host: the
// bind fails with EADDRNOTAVAIL, which is not "address in use".
TEST_P(echo_test, listening_on_a_foreign_address_is_address_not_available) {
  auto srv = net::tcp_listen(rt(), {"192.0.2.1", 0}, test::echo_behavior);
  ASSERT_FALSE(srv);
  EXPECT_EQ(srv.error().code(),
            static_cast<uint8_t>(errc::address_not_available))
    << describe(srv.error());
  EXPECT_NE(describe(srv.error()).find("address_not_available"),
            std::string::npos);
  EXPECT_NE(describe(srv.error()).find("Cannot assign requested address"),
            std::string::npos) << describe(srv.error());
}

TEST_P(echo_test, bad_host_is_a_typed_error) {
  auto srv = net::tcp_listen(rt(), {"not an address", 0}, test::echo_behavior);
  ASSERT_FALSE(srv);
  EXPECT_EQ(srv.error().code(), static_cast<uint8_t>(errc::invalid_argument));
}

ACTIO_TEST_ALL_BACKENDS(echo_test);

/// The same echo through several driver threads (round-robin hand-off).
class echo_multi_driver_test : public echo_test {
  size_t drivers() const override {
    return 2;
  }
};

TEST_P(echo_multi_driver_test, connections_spread_over_drivers_echo) {
  ASSERT_EQ(rt().drivers(), 2u);
  // Each connection's behaviour is made on the driver thread it is pinned
  // to: count the connections per driver unit.
  auto mtx = std::make_shared<std::mutex>();
  auto served = std::make_shared<std::map<const driver_unit*, int>>();
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0},
                             [mtx, served](net::connection* self) {
                               {
                                 std::lock_guard<std::mutex> guard{*mtx};
                                 ++(*served)[driver_unit::current()];
                               }
                               return test::echo_behavior(self);
                             });
  ASSERT_TRUE(srv) << sys().render(srv.error());
  constexpr int n = 20;
  echo_many(srv->port, n, 256 * 1024, 300);
  // Round-robin: both drivers served half of the connections each.
  std::lock_guard<std::mutex> guard{*mtx};
  EXPECT_EQ(served->size(), 2u);
  EXPECT_EQ((*served)[&rt().unit(0)], n / 2);
  EXPECT_EQ((*served)[&rt().unit(1)], n / 2);
}

ACTIO_TEST_ALL_BACKENDS(echo_multi_driver_test);

} // namespace
