// copy_bidirectional as a TCP proxy: a 3-hop chain carrying 64 MiB both
// ways byte-exact, half-close propagated from each side, nothing left open.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/tcp_proxy.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class proxy_test : public test::backend_test {
protected:
  /// Reports of finished pairs.
  struct reports {
    std::mutex mtx;
    std::vector<std::pair<net::copy_counts, caf::error>> done;
    size_t count() {
      std::lock_guard<std::mutex> guard{mtx};
      return done.size();
    }
  };

  uint16_t proxy_to(uint16_t target, std::shared_ptr<reports> rep) {
    auto p = net::tcp_proxy(rt(), {"127.0.0.1", 0}, "127.0.0.1", target,
                            [rep](const net::copy_counts& c, const caf::error& e) {
                              std::lock_guard<std::mutex> guard{rep->mtx};
                              rep->done.emplace_back(c, e);
                            });
    EXPECT_TRUE(p) << describe(p.error());
    return p ? p->port : 0;
  }

  size_t driver_sockets() {
    size_t n = 0;
    for (size_t i = 0; i < rt().drivers(); ++i)
      n += rt().unit(i).backend().sockets();
    return n;
  }
};

TEST_P(proxy_test, three_hops_carry_64_mib_both_ways_and_close_cleanly) {
  auto echo = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(echo);
  auto rep = std::make_shared<reports>();
  auto p1 = proxy_to(echo->port, rep);
  auto p2 = proxy_to(p1, rep);
  auto p3 = proxy_to(p2, rep);
  int fd = test::connect_tcp(p3);
  ASSERT_GE(fd, 0);
  constexpr size_t size = 64u * 1024 * 1024;
  auto data = test::random_bytes(size, 33);
  std::vector<uint8_t> back;
  back.reserve(size);
  size_t sent = 0;
  std::vector<uint8_t> buf(256 * 1024);
  auto deadline = test::clock::now() + 240s;
  bool shut = false;
  while (back.size() < size) {
    ASSERT_LT(test::clock::now(), deadline) << "sent " << sent << ", got " << back.size();
    pollfd p{fd, static_cast<short>(POLLIN | (sent < size ? POLLOUT : 0)), 0};
    ASSERT_GE(::poll(&p, 1, 1000), 0);
    if ((p.revents & POLLOUT) && sent < size) {
      auto k = ::send(fd, data.data() + sent, std::min<size_t>(size - sent, 256 * 1024),
                      MSG_DONTWAIT | MSG_NOSIGNAL);
      if (k > 0)
        sent += static_cast<size_t>(k);
    }
    if (sent == size && !shut) {
      ASSERT_EQ(::shutdown(fd, SHUT_WR), 0); // half-close through 3 hops
      shut = true;
    }
    if (p.revents & (POLLIN | POLLHUP)) {
      auto k = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      ASSERT_NE(k, 0) << "early EOF after " << back.size() << " bytes";
      if (k > 0)
        back.insert(back.end(), buf.begin(), buf.begin() + k);
    }
  }
  EXPECT_TRUE(back == data) << "64 MiB differ after 3 hops";
  EXPECT_TRUE(test::wait_eof(fd)) << "the echo's shutdown did not come back";
  ::close(fd);
  ASSERT_TRUE(test::wait_until([&] { return rep->count() == 3; }, 60s));
  for (auto& [counts, err] : rep->done) {
    EXPECT_FALSE(err) << describe(err);
    EXPECT_EQ(counts.client_to_target, size);
    EXPECT_EQ(counts.target_to_client, size);
  }
  // No half-open leftovers (CLOSE_WAIT): only the 4 listeners remain.
  EXPECT_TRUE(test::wait_until([&] { return driver_sockets() == 4; }))
    << driver_sockets() << " sockets still registered";
}

TEST_P(proxy_test, half_close_from_the_target_side_is_propagated) {
  // The target says hello and shuts down its side first, then reads on.
  std::promise<std::string> got;
  auto fut = got.get_future();
  auto target = net::tcp_listen(rt(), {"127.0.0.1", 0},
    [&got](net::connection* self) -> caf::behavior {
      self->write(byte_buffer{'h', 'e', 'l', 'l', 'o'});
      self->shutdown_write();
      self->grant(1024);
      auto text = std::make_shared<std::string>();
      return {
        [=](received& in) { text->append(in.bytes.begin(), in.bytes.end()); },
        [=, &got](const read_closed&) {
          got.set_value(*text);
          self->close();
        },
      };
    });
  ASSERT_TRUE(target);
  auto rep = std::make_shared<reports>();
  auto port = proxy_to(target->port, rep);
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  uint8_t hello[5];
  ASSERT_TRUE(test::recv_exact(fd, hello, 5));
  EXPECT_EQ(std::string(hello, hello + 5), "hello");
  EXPECT_TRUE(test::wait_eof(fd)) << "the target's shutdown did not arrive";
  // Our direction is still open: send, then half-close.
  std::string bye = "bye";
  ASSERT_TRUE(test::send_all(fd, reinterpret_cast<const uint8_t*>(bye.data()), 3));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), "bye");
  ::close(fd);
  ASSERT_TRUE(test::wait_until([&] { return rep->count() == 1; }));
  EXPECT_FALSE(rep->done[0].second) << describe(rep->done[0].second);
  EXPECT_EQ(rep->done[0].first.client_to_target, 3u);
  EXPECT_EQ(rep->done[0].first.target_to_client, 5u);
  EXPECT_TRUE(test::wait_until([&] { return driver_sockets() == 2; }))
    << driver_sockets() << " sockets still registered";
}

TEST_P(proxy_test, unreachable_target_closes_the_client_with_an_error_report) {
  test::refusing_port refusing;
  ASSERT_NE(refusing.port, 0);
  auto rep = std::make_shared<reports>();
  auto port = proxy_to(refusing.port, rep);
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(test::wait_eof(fd)) << "the client was not closed";
  ASSERT_TRUE(test::wait_until([&] { return rep->count() == 1; }));
  EXPECT_EQ(rep->done[0].second.code(),
            static_cast<uint8_t>(errc::connection_refused))
    << describe(rep->done[0].second);
  ::close(fd);
}

ACTIO_TEST_ALL_BACKENDS(proxy_test);

} // namespace
