// Typed socket options reach the kernel: read back with getsockopt on the
// connection's descriptor, for accepted and client connections.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/socket.hpp"
#include "actio/net/tcp_connect.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

struct seen {
  int nodelay = -1, keepalive = -1, idle = -1, interval = -1, count = -1;
  int sndbuf = -1, rcvbuf = -1;
};

int get(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  if (getsockopt(fd, level, name, &value, &len) != 0)
    return -2;
  return value;
}

seen read_options(int fd) {
  seen s;
  s.nodelay = get(fd, IPPROTO_TCP, TCP_NODELAY);
  s.keepalive = get(fd, SOL_SOCKET, SO_KEEPALIVE);
  s.idle = get(fd, IPPROTO_TCP, TCP_KEEPIDLE);
  s.interval = get(fd, IPPROTO_TCP, TCP_KEEPINTVL);
  s.count = get(fd, IPPROTO_TCP, TCP_KEEPCNT);
  s.sndbuf = get(fd, SOL_SOCKET, SO_SNDBUF);
  s.rcvbuf = get(fd, SOL_SOCKET, SO_RCVBUF);
  return s;
}

/// A behaviour that reports its socket's options, then closes.
net::connection_factory reporter(std::shared_ptr<std::promise<seen>> out) {
  return [out](net::connection* self) -> caf::behavior {
    out->set_value(read_options(self->native_handle()));
    self->close();
    return {};
  };
}

net::connection_options custom() {
  net::connection_options opts;
  opts.socket.nodelay = false;
  opts.socket.keepalive = true;
  opts.socket.keepalive_idle = 42;
  opts.socket.keepalive_interval = 7;
  opts.socket.keepalive_count = 3;
  opts.socket.send_buffer = 96 * 1024;
  opts.socket.receive_buffer = 80 * 1024;
  return opts;
}

void expect_custom(const seen& s) {
  EXPECT_EQ(s.nodelay, 0);
  EXPECT_EQ(s.keepalive, 1);
  EXPECT_EQ(s.idle, 42);
  EXPECT_EQ(s.interval, 7);
  EXPECT_EQ(s.count, 3);
  // Linux doubles the value for its bookkeeping.
  EXPECT_GE(s.sndbuf, 96 * 1024);
  EXPECT_GE(s.rcvbuf, 80 * 1024);
}

class socket_options_test : public test::backend_test {};

TEST_P(socket_options_test, defaults_nodelay_on_keepalive_off) {
  auto server_seen = std::make_shared<std::promise<seen>>();
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, reporter(server_seen));
  ASSERT_TRUE(srv) << describe(srv.error());
  auto client_seen = std::make_shared<std::promise<seen>>();
  auto client = net::tcp_connect(rt(), "127.0.0.1", srv->port,
                                 reporter(client_seen));
  ASSERT_TRUE(client) << describe(client.error());
  for (auto* p : {server_seen.get(), client_seen.get()}) {
    auto fut = p->get_future();
    ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
    auto s = fut.get();
    EXPECT_EQ(s.nodelay, 1);
    EXPECT_EQ(s.keepalive, 0);
  }
}

TEST_P(socket_options_test, custom_options_on_accepted_and_client_sockets) {
  auto server_seen = std::make_shared<std::promise<seen>>();
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, reporter(server_seen),
                             custom());
  ASSERT_TRUE(srv) << describe(srv.error());
  auto client_seen = std::make_shared<std::promise<seen>>();
  auto client = net::tcp_connect(rt(), "127.0.0.1", srv->port,
                                 reporter(client_seen), custom());
  ASSERT_TRUE(client) << describe(client.error());
  auto sf = server_seen->get_future();
  auto cf = client_seen->get_future();
  ASSERT_EQ(sf.wait_for(30s), std::future_status::ready);
  ASSERT_EQ(cf.wait_for(30s), std::future_status::ready);
  {
    SCOPED_TRACE("accepted");
    expect_custom(sf.get());
  }
  {
    SCOPED_TRACE("client");
    expect_custom(cf.get());
  }
}

TEST_P(socket_options_test, invalid_values_are_invalid_argument) {
  auto bad = [](auto change) {
    net::connection_options opts;
    change(opts.socket);
    return opts;
  };
  std::vector<net::connection_options> cases{
    bad([](net::socket_options& o) { o.keepalive_idle = -1; }),
    bad([](net::socket_options& o) { o.keepalive_interval = 40000; }),
    bad([](net::socket_options& o) { o.keepalive_count = 128; }),
    bad([](net::socket_options& o) { o.send_buffer = -5; }),
    bad([](net::socket_options& o) { o.receive_buffer = -1; }),
  };
  for (auto& opts : cases) {
    auto c = net::tcp_connect(rt(), "127.0.0.1", 1, test::echo_behavior, opts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), static_cast<uint8_t>(errc::invalid_argument))
      << describe(c.error());
    auto l = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior, opts);
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code(), static_cast<uint8_t>(errc::invalid_argument))
      << describe(l.error());
  }
  net::listen_options lo{"127.0.0.1", 0};
  lo.backlog = 0;
  auto l = net::tcp_listen(rt(), lo, test::echo_behavior);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), static_cast<uint8_t>(errc::invalid_argument));
}

TEST(listen_socket_options, reuse_address_on_by_default_reuse_port_off) {
  auto fd = net::make_tcp_listen_socket({"127.0.0.1", 0});
  ASSERT_TRUE(fd) << describe(fd.error());
  EXPECT_EQ(get(*fd, SOL_SOCKET, SO_REUSEADDR), 1);
  EXPECT_EQ(get(*fd, SOL_SOCKET, SO_REUSEPORT), 0);
  ::close(*fd);
  net::listen_options opts{"127.0.0.1", 0};
  opts.reuse_address = false;
  fd = net::make_tcp_listen_socket(opts);
  ASSERT_TRUE(fd) << describe(fd.error());
  EXPECT_EQ(get(*fd, SOL_SOCKET, SO_REUSEADDR), 0);
  ::close(*fd);
}

TEST(listen_socket_options, reuse_port_lets_two_listeners_share_a_port) {
  net::listen_options opts{"127.0.0.1", 0};
  opts.reuse_port = true;
  auto first = net::make_tcp_listen_socket(opts);
  ASSERT_TRUE(first) << describe(first.error());
  EXPECT_EQ(get(*first, SOL_SOCKET, SO_REUSEPORT), 1);
  opts.port = *net::local_port(*first);
  auto second = net::make_tcp_listen_socket(opts);
  ASSERT_TRUE(second) << describe(second.error());
  ::close(*second);
  // Without it on the newcomer, the port is taken.
  opts.reuse_port = false;
  auto third = net::make_tcp_listen_socket(opts);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code(), static_cast<uint8_t>(errc::address_in_use));
  ::close(*first);
}

ACTIO_TEST_ALL_BACKENDS(socket_options_test);

} // namespace
