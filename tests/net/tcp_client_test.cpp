// TCP clients: names resolved off the caller and the driver, every address
// tried, connect timeouts, and typed, readable failures.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/tcp_connect.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/client.hpp"
#include "support/driver_stall.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class tcp_client_test : public test::backend_test {
protected:
  std::optional<test::client_outcome>
  connect(const std::string& host, uint16_t port, byte_buffer data = {},
          net::connection_options opts = {}) {
    return test::run_client(
      [&](net::connection_factory f) {
        return net::tcp_connect(rt(), host, port, std::move(f), opts);
      },
      std::move(data));
  }

  bool all_connections_ended() {
    return test::wait_until([&] { return rt().unit(0).pinned() == 0; });
  }
};

bool has_ipv6_loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

TEST_P(tcp_client_test, ipv4_literal_echoes_and_names_the_peer) {
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto data = test::random_bytes(256 * 1024, 7);
  auto out = connect("127.0.0.1", srv->port, data);
  ASSERT_TRUE(out);
  ASSERT_FALSE(out->reason) << describe(out->reason);
  EXPECT_EQ(out->echoed, data);
  EXPECT_EQ(out->peer, "127.0.0.1:" + std::to_string(srv->port));
}

TEST_P(tcp_client_test, ipv6_loopback_literal_echoes) {
  if (!has_ipv6_loopback())
    GTEST_SKIP() << "no IPv6 loopback on this host";
  auto srv = net::tcp_listen(rt(), {"::1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto data = test::random_bytes(64 * 1024, 8);
  auto out = connect("::1", srv->port, data);
  ASSERT_TRUE(out);
  ASSERT_FALSE(out->reason) << describe(out->reason);
  EXPECT_EQ(out->echoed, data);
  EXPECT_EQ(out->peer, "::1:" + std::to_string(srv->port));
}

TEST_P(tcp_client_test, localhost_is_resolved_and_every_address_tried) {
  // "localhost" may resolve to ::1 before 127.0.0.1; the listener is on
  // 127.0.0.1 only, so an IPv6 attempt is refused and the next one taken.
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto data = test::random_bytes(4096, 9);
  auto out = connect("localhost", srv->port, data);
  ASSERT_TRUE(out);
  ASSERT_FALSE(out->reason) << describe(out->reason);
  EXPECT_EQ(out->echoed, data);
  EXPECT_EQ(out->peer, "127.0.0.1:" + std::to_string(srv->port));
}

TEST_P(tcp_client_test, closed_port_is_refused_with_a_readable_text) {
  test::refusing_port refusing;
  ASSERT_NE(refusing.port, 0);
  auto out = connect("127.0.0.1", refusing.port);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->reason.code(), static_cast<uint8_t>(errc::connection_refused))
    << describe(out->reason);
  auto text = describe(out->reason);
  EXPECT_NE(text.find("127.0.0.1:" + std::to_string(refusing.port)),
            std::string::npos)
    << text;
  EXPECT_TRUE(all_connections_ended());
}

TEST_P(tcp_client_test, unresolvable_name_is_resolve_failed_and_bounded) {
  // ".invalid" never resolves (RFC 6761). The machine may have no DNS at
  // all; the connect timeout bounds the wait either way, and the test's
  // own deadline is above it.
  net::connection_options opts;
  opts.connect_timeout = 20s;
  auto start = test::clock::now();
  auto out = connect("nonexistent.invalid", 80, {}, opts);
  ASSERT_TRUE(out) << "no outcome within the deadline";
  auto code = static_cast<errc>(out->reason.code());
  EXPECT_TRUE(code == errc::resolve_failed || code == errc::timed_out)
    << describe(out->reason);
  EXPECT_LT(test::clock::now() - start, 25s);
  EXPECT_NE(describe(out->reason).find("nonexistent.invalid:80"),
            std::string::npos)
    << describe(out->reason);
  EXPECT_TRUE(all_connections_ended());
}

TEST_P(tcp_client_test, caller_is_not_blocked_by_resolution) {
  // tcp_connect returns the actor before any resolver answered: the
  // connection's outcome arrives later, as an event.
  auto client = net::tcp_connect(rt(), "nonexistent.invalid", 80,
                                 test::echo_behavior);
  ASSERT_TRUE(client) << describe(client.error());
  EXPECT_TRUE(all_connections_ended());
}

/// A loopback listener whose accept queue is full and never drained: the
/// kernel drops further SYNs, so a connect stays pending.
struct full_listener {
  int fd = -1;
  uint16_t port = 0;
  std::vector<int> fillers;

  full_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0
        || ::listen(fd, 0) != 0
        || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port = ntohs(addr.sin_port);
  }

  /// Connects fillers until the listener's accept queue is over its
  /// backlog (TCP_INFO on a listener: tcpi_unacked = queued connections,
  /// tcpi_sacked = backlog).
  bool fill() {
    return test::wait_until([&] {
      tcp_info info{};
      socklen_t len = sizeof(info);
      if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
        return false;
      if (info.tcpi_unacked > info.tcpi_sacked)
        return true;
      if (fillers.size() < 8) {
        int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        fillers.push_back(c);
      }
      return false;
    });
  }

  ~full_listener() {
    for (auto c : fillers)
      ::close(c);
    if (fd >= 0)
      ::close(fd);
  }
};

TEST_P(tcp_client_test, unanswered_connect_times_out_and_closes_its_socket) {
  full_listener full;
  ASSERT_NE(full.port, 0);
  ASSERT_TRUE(full.fill()) << "could not fill the accept queue";
  auto fds_before = test::count_fds();
  net::connection_options opts;
  opts.connect_timeout = 300ms;
  auto start = test::clock::now();
  auto out = connect("127.0.0.1", full.port, {}, opts);
  auto took = test::clock::now() - start;
  ASSERT_TRUE(out);
  EXPECT_EQ(out->reason.code(), static_cast<uint8_t>(errc::timed_out))
    << describe(out->reason);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 20s);
  EXPECT_NE(describe(out->reason).find("timed out after 300 ms"),
            std::string::npos)
    << describe(out->reason);
  EXPECT_TRUE(all_connections_ended());
  EXPECT_TRUE(test::wait_until([&] { return test::count_fds() <= fds_before; }))
    << "the timed-out socket was not closed";
}

TEST_P(tcp_client_test, requests_from_other_actors_wait_for_the_connection) {
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto client = net::tcp_connect(rt(), "localhost", srv->port,
                                 [](net::connection* self) -> caf::behavior {
                                   self->grant(1024);
                                   return {[](received&) {}};
                                 });
  ASSERT_TRUE(client) << describe(client.error());
  caf::scoped_actor self{sys()};
  caf::error err;
  size_t written = 0;
  self->request(*client, 30s, net::write_atom::value, byte_buffer{1, 2, 3})
    .receive([&](size_t n) { written = n; },
             [&](caf::error& e) { err = std::move(e); });
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(written, 3u);
  self->send(*client, net::close_atom::value);
  self->send(srv->actor, net::close_atom::value);
  EXPECT_TRUE(all_connections_ended());
}

TEST_P(tcp_client_test, failed_connect_answers_pending_requests) {
  test::refusing_port refusing;
  // The write must be pending before the connect can fail: hold the driver
  // thread (the connection is pinned to it) until the request is queued.
  std::optional<test::driver_stall> stall{std::in_place, rt().unit(0)};
  ASSERT_TRUE(stall->holding());
  auto client = net::tcp_connect(rt(), "127.0.0.1", refusing.port, nullptr);
  ASSERT_TRUE(client);
  caf::scoped_actor self{sys()};
  caf::error err;
  auto pending = self->request(*client, 30s, net::write_atom::value,
                               byte_buffer{1});
  stall.reset(); // releases the driver; its blocker actor ends too
  pending.receive([&](size_t) {}, [&](caf::error& e) { err = std::move(e); });
  // The reply is the connection's own answer, not the request's timeout.
  EXPECT_EQ(err.category(), caf::atom("actio")) << describe(err);
  EXPECT_TRUE(all_connections_ended());
}

TEST_P(tcp_client_test, bad_arguments_are_invalid_argument) {
  net::connection_options opts;
  opts.connect_timeout = 0ms;
  auto a = net::tcp_connect(rt(), "127.0.0.1", 1, nullptr, opts);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), static_cast<uint8_t>(errc::invalid_argument));
  auto b = net::tcp_connect(rt(), "", 1, nullptr);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), static_cast<uint8_t>(errc::invalid_argument));
}

ACTIO_TEST_ALL_BACKENDS(tcp_client_test);

} // namespace
