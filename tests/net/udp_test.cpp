// UDP socket actors on every backend: echo with exact counts and contents,
// truncation, credit (no credit: the kernel drops, the process does not
// grow), connected mode, ICMP errors as typed results, IPv6.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <vector>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/udp_socket.hpp"
#include "support/datagram_peer.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class udp_test : public test::backend_test {};

caf::behavior echo(net::datagram_socket* self) {
  self->grant(64);
  return {
    [=](datagram_received& in) { self->send_to(in.from, std::move(in.bytes)); },
    [=](const write_completed&) { self->grant(1); },
  };
}

/// What a recording behaviour saw (written on the driver thread).
struct recorder {
  std::mutex mtx;
  std::vector<datagram_received> datagrams;
  std::vector<caf::error> errors;
  std::vector<write_completed> sends;

  size_t count() {
    std::lock_guard<std::mutex> guard{mtx};
    return datagrams.size();
  }
  size_t error_count() {
    std::lock_guard<std::mutex> guard{mtx};
    return errors.size();
  }
};

net::datagram_factory recording(std::shared_ptr<recorder> rec,
                                size_t credit) {
  return [rec, credit](net::datagram_socket* self) -> caf::behavior {
    if (credit > 0)
      self->grant(credit);
    return {
      [rec](datagram_received& in) {
        std::lock_guard<std::mutex> guard{rec->mtx};
        rec->datagrams.push_back(std::move(in));
      },
      [rec](datagram_error& e) {
        std::lock_guard<std::mutex> guard{rec->mtx};
        rec->errors.push_back(std::move(e.reason));
      },
      [rec](const write_completed& w) {
        std::lock_guard<std::mutex> guard{rec->mtx};
        rec->sends.push_back(w);
      },
    };
  };
}

net::address loopback(uint16_t port) {
  return *net::address::ip("127.0.0.1", port);
}

byte_buffer numbered(uint32_t seq, size_t size) {
  auto buf = test::random_bytes(size, seq + 1);
  std::memcpy(buf.data(), &seq, sizeof(seq));
  return buf;
}

/// A UDP port nobody listens on (bound, read, released).
uint16_t unbound_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  ::close(fd);
  return ntohs(sin.sin_port);
}

uint8_t code_of(const caf::error& err) {
  return err.category() == caf::atom("actio") ? err.code() : 0;
}

TEST_P(udp_test, echoes_10000_datagrams_exactly) {
  auto srv = net::udp_bind(rt(), {}, echo);
  ASSERT_TRUE(srv) << describe(srv.error());
  ASSERT_NE(srv->port, 0);
  EXPECT_EQ(to_string(srv->local), "127.0.0.1:" + std::to_string(srv->port));
  test::datagram_peer client{AF_INET, loopback(0)};
  ASSERT_TRUE(client.ok());
  // A window of 32 in flight: far below both receive buffers, so loopback
  // never drops and every datagram must come back.
  constexpr uint32_t total = 10'000;
  constexpr uint32_t window = 32;
  constexpr size_t size = 512;
  std::vector<bool> seen(total, false);
  uint32_t sent = 0;
  uint32_t received = 0;
  while (sent < window) {
    ASSERT_TRUE(client.send_to(srv->local, numbered(sent++, size)));
  }
  while (received < total) {
    net::address from;
    auto got = client.recv(&from);
    ASSERT_TRUE(got) << "timed out after " << received << " datagrams";
    ASSERT_EQ(got->size(), size);
    uint32_t seq;
    std::memcpy(&seq, got->data(), sizeof(seq));
    ASSERT_LT(seq, total);
    ASSERT_FALSE(seen[seq]) << "duplicate " << seq;
    ASSERT_EQ(*got, numbered(seq, size)) << "content of " << seq;
    EXPECT_EQ(from, srv->local);
    seen[seq] = true;
    ++received;
    if (sent < total) {
      ASSERT_TRUE(client.send_to(srv->local, numbered(sent++, size)));
    }
  }
  EXPECT_EQ(received, total);
  // Nothing extra arrives.
  EXPECT_FALSE(client.recv(nullptr, 100ms));
}

TEST_P(udp_test, longer_datagram_than_receive_size_is_reported_truncated) {
  auto rec = std::make_shared<recorder>();
  net::udp_options opts;
  opts.max_datagram = 100;
  auto srv = net::udp_bind(rt(), opts, recording(rec, 10));
  ASSERT_TRUE(srv) << describe(srv.error());
  test::datagram_peer client{AF_INET, loopback(0)};
  auto big = test::random_bytes(1000, 3);
  auto exact = test::random_bytes(100, 4);
  ASSERT_TRUE(client.send_to(srv->local, big));
  ASSERT_TRUE(client.send_to(srv->local, exact));
  ASSERT_TRUE(test::wait_until([&] { return rec->count() == 2; }));
  std::lock_guard<std::mutex> guard{rec->mtx};
  auto& first = rec->datagrams[0];
  EXPECT_TRUE(first.truncated);
  EXPECT_EQ(first.bytes, byte_buffer(big.begin(), big.begin() + 100));
  EXPECT_EQ(first.from, client.local());
  auto& second = rec->datagrams[1];
  EXPECT_FALSE(second.truncated);
  EXPECT_EQ(second.bytes, exact);
}

TEST_P(udp_test, without_credit_the_kernel_drops_and_memory_stays_flat) {
  auto rec = std::make_shared<recorder>();
  net::udp_options opts;
  opts.recv_buffer = 64 * 1024; // the kernel doubles it: ~128 KiB kept
  auto srv = net::udp_bind(rt(), opts, recording(rec, 0));
  ASSERT_TRUE(srv) << describe(srv.error());
  test::datagram_peer client{AF_INET, loopback(0)};
  constexpr size_t size = 1400;
  constexpr size_t offered = 100 * 1024 * 1024 / size; // 100 MiB
  auto rss_before = test::rss_bytes();
  byte_buffer data(size, 'd');
  for (size_t i = 0; i < offered; ++i)
    ASSERT_TRUE(client.send_to(srv->local, data));
  auto rss_after = test::rss_bytes();
  EXPECT_LT(rss_after, rss_before + 16 * 1024 * 1024)
    << "RSS grew from " << rss_before << " to " << rss_after;
  EXPECT_EQ(rec->count(), 0u); // no credit: nothing read
  // Credit now: what the kernel kept arrives, then a marker sent afterwards.
  caf::anon_send(srv->actor, net::grant_atom::value, size_t{1'000'000});
  byte_buffer marker(10, 'M');
  auto marker_seen = [&] {
    std::lock_guard<std::mutex> guard{rec->mtx};
    return !rec->datagrams.empty() && rec->datagrams.back().bytes == marker;
  };
  bool seen = false;
  for (int i = 0; i < 300 && !seen; ++i) {
    ASSERT_TRUE(client.send_to(srv->local, marker));
    seen = test::wait_until(marker_seen, 100ms);
  }
  ASSERT_TRUE(seen);
  std::lock_guard<std::mutex> guard{rec->mtx};
  size_t kept = 0;
  for (auto& d : rec->datagrams)
    if (d.bytes != marker) {
      EXPECT_EQ(d.bytes, data);
      ++kept;
    }
  EXPECT_GT(kept, 0u);
  // At most a full receive buffer (2 x 64 KiB, counted with overhead).
  EXPECT_LE(kept, 2 * 64 * 1024 / size + 2);
  EXPECT_LT(kept, offered);
}

TEST_P(udp_test, connected_mode_sends_and_receives_without_addresses) {
  auto srv = net::udp_bind(rt(), {}, echo);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto rec = std::make_shared<recorder>();
  auto cli = net::udp_bind(rt(), {}, recording(rec, 10));
  ASSERT_TRUE(cli) << describe(cli.error());
  caf::scoped_actor self{sys()};
  // Not connected yet: send is refused, typed.
  self->request(cli->actor, 10s, net::send_atom::value, byte_buffer{1})
    .receive([&](size_t) { FAIL() << "send without connect succeeded"; },
             [&](caf::error& err) {
               EXPECT_EQ(code_of(err),
                         static_cast<uint8_t>(errc::invalid_argument));
             });
  self->request(cli->actor, 10s, net::connect_atom::value, srv->local)
    .receive([] {}, [&](caf::error& err) { FAIL() << describe(err); });
  for (uint8_t i = 0; i < 5; ++i)
    self->request(cli->actor, 10s, net::send_atom::value, byte_buffer(20, i))
      .receive([&](size_t n) { EXPECT_EQ(n, 20u); },
               [&](caf::error& err) { FAIL() << describe(err); });
  ASSERT_TRUE(test::wait_until([&] { return rec->count() == 5; }));
  std::lock_guard<std::mutex> guard{rec->mtx};
  for (uint8_t i = 0; i < 5; ++i) {
    EXPECT_EQ(rec->datagrams[i].bytes, byte_buffer(20, i));
    EXPECT_EQ(rec->datagrams[i].from, srv->local);
  }
}

TEST_P(udp_test, connected_to_unbound_port_next_send_fails_refused) {
  auto cli = net::udp_bind(rt(), {}, [](net::datagram_socket*) {
    return caf::behavior{[](const datagram_received&) {}};
  });
  ASSERT_TRUE(cli) << describe(cli.error());
  caf::scoped_actor self{sys()};
  self->request(cli->actor, 10s, net::connect_atom::value,
                loopback(unbound_port()))
    .receive([] {}, [&](caf::error& err) { FAIL() << describe(err); });
  // No credit: nothing reads the socket, so the ICMP port unreachable the
  // first send causes fails a later send, as connection_refused.
  caf::error refused;
  for (int i = 0; i < 100 && !refused; ++i)
    self->request(cli->actor, 10s, net::send_atom::value, byte_buffer(8, 1))
      .receive([](size_t) {}, [&](caf::error& err) { refused = err; });
  ASSERT_TRUE(refused);
  EXPECT_EQ(code_of(refused), static_cast<uint8_t>(errc::connection_refused))
    << describe(refused);
  // The socket stays usable: the error was consumed, the next send works.
  self->request(cli->actor, 10s, net::send_atom::value, byte_buffer(8, 2))
    .receive([](size_t n) { EXPECT_EQ(n, 8u); },
             [&](caf::error& err) {
               // Another ICMP may have raced in; it must be the same kind.
               EXPECT_EQ(code_of(err),
                         static_cast<uint8_t>(errc::connection_refused));
             });
}

TEST_P(udp_test, icmp_error_seen_by_a_receive_arrives_as_datagram_error) {
  auto rec = std::make_shared<recorder>();
  auto cli = net::udp_bind(rt(), {}, recording(rec, 10));
  ASSERT_TRUE(cli) << describe(cli.error());
  caf::scoped_actor self{sys()};
  self->request(cli->actor, 10s, net::connect_atom::value,
                loopback(unbound_port()))
    .receive([] {}, [&](caf::error& err) { FAIL() << describe(err); });
  // With credit a receive is waiting: it sees the error first, unless a
  // send did; either way the refusal is reported, typed, exactly where.
  caf::error send_err;
  for (int i = 0; i < 100 && rec->error_count() == 0 && !send_err; ++i)
    self->request(cli->actor, 10s, net::send_atom::value, byte_buffer(8, 1))
      .receive([](size_t) {}, [&](caf::error& err) { send_err = err; });
  if (!send_err) {
    ASSERT_TRUE(test::wait_until([&] { return rec->error_count() > 0; }));
  }
  std::lock_guard<std::mutex> guard{rec->mtx};
  auto& err = send_err ? send_err : rec->errors.front();
  EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::connection_refused))
    << describe(err);
  EXPECT_TRUE(rec->datagrams.empty()); // an error uses no credit, no datagram
}

TEST_P(udp_test, ipv6_echo_over_loopback) {
  auto v6 = net::address::ip("::1", 0);
  test::datagram_peer client{AF_INET6, *v6};
  if (!client.ok())
    GTEST_SKIP() << "no IPv6 loopback here";
  net::udp_options opts;
  opts.host = "::1";
  auto srv = net::udp_bind(rt(), opts, echo);
  ASSERT_TRUE(srv) << describe(srv.error());
  EXPECT_EQ(srv->local.family(), AF_INET6);
  EXPECT_EQ(to_string(srv->local), "[::1]:" + std::to_string(srv->port));
  for (uint32_t i = 0; i < 100; ++i) {
    auto data = numbered(i, 300);
    ASSERT_TRUE(client.send_to(srv->local, data));
    net::address from;
    auto got = client.recv(&from);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, data);
    EXPECT_EQ(from, srv->local);
  }
}

TEST_P(udp_test, binding_a_foreign_address_is_address_not_available) {
  net::udp_options opts;
  opts.host = "192.0.2.1"; // TEST-NET-1: on no interface of a test host
  auto srv = net::udp_bind(rt(), opts, echo);
  ASSERT_FALSE(srv);
  EXPECT_EQ(code_of(srv.error()),
            static_cast<uint8_t>(errc::address_not_available))
    << describe(srv.error());
}

TEST_P(udp_test, bind_errors_are_typed) {
  auto first = net::udp_bind(rt(), {}, echo);
  ASSERT_TRUE(first);
  net::udp_options opts;
  opts.port = first->port;
  auto second = net::udp_bind(rt(), opts, echo);
  ASSERT_FALSE(second);
  EXPECT_EQ(code_of(second.error()), static_cast<uint8_t>(errc::address_in_use))
    << describe(second.error());
  opts.port = 0;
  opts.max_datagram = 0;
  auto zero = net::udp_bind(rt(), opts, echo);
  ASSERT_FALSE(zero);
  EXPECT_EQ(code_of(zero.error()), static_cast<uint8_t>(errc::invalid_argument));
  opts.max_datagram = 1500;
  opts.host = "no-such-host.invalid";
  auto unresolved = net::udp_bind(rt(), opts, echo);
  ASSERT_FALSE(unresolved);
  EXPECT_EQ(code_of(unresolved.error()),
            static_cast<uint8_t>(errc::resolve_failed));
  opts.host = "127.0.0.1";
  opts.reuse_port = true;
  auto shared = net::udp_bind(rt(), opts, echo);
  ASSERT_TRUE(shared);
  opts.port = shared->port;
  EXPECT_TRUE(net::udp_bind(rt(), opts, echo)); // both set SO_REUSEPORT
}

TEST_P(udp_test, requests_after_close_fail_closed) {
  auto srv = net::udp_bind(rt(), {}, echo);
  ASSERT_TRUE(srv);
  caf::scoped_actor self{sys()};
  self->send(srv->actor, net::close_atom::value);
  self->wait_for(srv->actor);
  self->request(srv->actor, 10s, net::send_to_atom::value, loopback(9),
                byte_buffer(4, 0))
    .receive([](size_t) { FAIL() << "send after close succeeded"; },
             [](caf::error&) {}); // the actor is gone: an error, not silence
}

TEST_P(udp_test, an_unknown_request_is_answered_with_an_error_and_the_socket_goes_on) {
  // The socket drops what it cannot handle through the log (not stdout):
  // a request gets caf::sec::unexpected_message as its one answer.
  auto srv = net::udp_bind(rt(), {}, echo);
  ASSERT_TRUE(srv);
  caf::scoped_actor self{sys()};
  caf::error answer;
  bool answered = false;
  self->request(srv->actor, 10s, std::string{"what is this"})
    .receive([&](int) { answered = true; },
             [&](caf::error& e) {
               answered = true;
               answer = e;
             });
  ASSERT_TRUE(answered);
  EXPECT_EQ(answer, caf::sec::unexpected_message) << sys().render(answer);
  test::datagram_peer client{AF_INET, loopback(0)};
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.send_to(srv->local, numbered(7, 16)));
  auto back = client.recv(nullptr);
  ASSERT_TRUE(back) << "the socket stopped echoing";
  EXPECT_EQ(*back, numbered(7, 16));
}

ACTIO_TEST_ALL_BACKENDS(udp_test);

} // namespace
