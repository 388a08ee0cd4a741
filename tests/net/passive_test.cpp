// Passive connections: the byte-endpoint protocol (io/endpoint.hpp) over
// real TCP sockets, accepted and client side.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <random>
#include <thread>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/passive.hpp"
#include "actio/net/tcp_connect.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class passive_test : public test::backend_test {
protected:
  /// Listens with `passive`; `accepted()` hands out the connection actor.
  uint16_t listen() {
    auto box = conn_;
    auto factory = net::passive();
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0},
                               [box, factory](net::connection* self) {
                                 box->set_value(caf::actor_cast<caf::actor>(self));
                                 return factory(self);
                               });
    EXPECT_TRUE(srv) << describe(srv.error());
    return srv ? srv->port : 0;
  }

  caf::actor accepted() {
    auto fut = conn_->get_future();
    EXPECT_EQ(fut.wait_for(30s), std::future_status::ready);
    return fut.get();
  }

  /// One request, waited for: the reply or the error.
  template <class T, class... Ts>
  caf::expected<T> ask(const caf::actor& dst, Ts... xs) {
    caf::scoped_actor self{sys()};
    caf::expected<T> result{caf::error{}};
    self->request(dst, 30s, xs...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::error ask_unit(const caf::actor& dst, caf::message msg) {
    caf::scoped_actor self{sys()};
    caf::error result = make_actio_error(errc::timed_out, "no reply");
    self->request(dst, 30s, std::move(msg))
      .receive([&]() { result = caf::error{}; },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  std::shared_ptr<std::promise<caf::actor>> conn_
    = std::make_shared<std::promise<caf::actor>>();
};

bool is(const caf::error& err, errc code) {
  return test::is_errc(err, code);
}

/// Echoes through the endpoint protocol: recv (random max) -> write, and
/// shutdown at end of stream.
caf::behavior echoer(caf::event_based_actor* self, caf::actor conn,
                     std::shared_ptr<std::promise<caf::error>> done) {
  auto gen = std::make_shared<std::mt19937>(7);
  auto loop = std::make_shared<std::function<void()>>();
  auto finish = [=](caf::error err) {
    if (!*loop)
      return; // already finished
    *loop = nullptr;
    done->set_value(std::move(err));
    self->quit();
  };
  *loop = [=] {
    size_t max = 1 + (*gen)() % 100000;
    self->request(conn, caf::infinite, net::recv_atom::value, max)
      .then(
        [=](byte_buffer& bytes) {
          if (!*loop)
            return;
          if (bytes.size() > max) {
            finish(make_actio_error(errc::malformed, "too many bytes"));
            return;
          }
          if (bytes.empty()) {
            self->request(conn, caf::infinite, net::shutdown_atom::value)
              .then([=]() { finish({}); }, [=](caf::error& err) { finish(err); });
            return;
          }
          self->request(conn, caf::infinite, net::write_atom::value,
                        std::move(bytes))
            .then([](size_t) {}, [=](caf::error& err) { finish(err); });
          (*loop)();
        },
        [=](caf::error& err) { finish(err); });
  };
  (*loop)();
  return {[](caf::tick_atom) {}};
}

TEST_P(passive_test, echo_is_byte_exact_with_random_write_sizes) {
  auto port = listen();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto conn = accepted();
  auto done = std::make_shared<std::promise<caf::error>>();
  auto fut = done->get_future();
  sys().spawn(echoer, conn, done);
  auto data = test::random_bytes(4 * 1024 * 1024, 11);
  std::thread writer{[&] {
    std::mt19937 gen{3};
    size_t off = 0;
    while (off < data.size()) {
      auto n = std::min<size_t>(1 + gen() % 70000, data.size() - off);
      if (!test::send_all(fd, data.data() + off, n))
        break;
      off += n;
    }
    ::shutdown(fd, SHUT_WR);
  }};
  byte_buffer got(data.size());
  EXPECT_TRUE(test::recv_exact(fd, got.data(), got.size(), 60s));
  EXPECT_TRUE(test::wait_eof(fd)) << "no end of stream after the echo";
  writer.join();
  EXPECT_EQ(got, data);
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(fut.get());
  ::close(fd);
  EXPECT_FALSE(ask_unit(conn, caf::make_message(net::close_atom::value)));
}

/// Replies to `n` recvs sent at once, in the order they arrived.
using replies = std::vector<std::pair<int, caf::expected<byte_buffer>>>;

struct pending_probe {
  std::promise<void> queued; // the connection took the recvs (a flush after
                             // them was answered)
  std::promise<replies> done;
};

/// Sends `n` recv(max) requests, then a flush (answered at once: no writes)
/// that tells the test the recvs are pending.
caf::behavior pending_recvs(caf::event_based_actor* self, caf::actor conn,
                            int n, size_t max,
                            std::shared_ptr<pending_probe> probe) {
  auto got = std::make_shared<replies>();
  auto add = [=](int i, caf::expected<byte_buffer> x) {
    got->emplace_back(i, std::move(x));
    if (static_cast<int>(got->size()) == n) {
      probe->done.set_value(*got);
      self->quit();
    }
  };
  for (int i = 0; i < n; ++i)
    self->request(conn, caf::infinite, net::recv_atom::value, max)
      .then([=](byte_buffer& b) { add(i, std::move(b)); },
            [=](caf::error& e) { add(i, std::move(e)); });
  self->request(conn, caf::infinite, net::flush_atom::value)
    .then([=]() { probe->queued.set_value(); },
          [=](caf::error&) { probe->queued.set_value(); });
  return {[](caf::tick_atom) {}};
}

/// Starts `pending_recvs` and waits until the recvs are pending.
std::future<replies> start_pending(caf::actor_system& sys, caf::actor conn,
                                   int n, size_t max) {
  auto probe = std::make_shared<pending_probe>();
  auto queued = probe->queued.get_future();
  auto done = probe->done.get_future();
  sys.spawn(pending_recvs, conn, n, max, probe);
  EXPECT_EQ(queued.wait_for(30s), std::future_status::ready);
  return done;
}

TEST_P(passive_test, several_pending_recvs_are_served_in_order) {
  auto port = listen();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto conn = accepted();
  // Three recvs pending before any byte arrives.
  auto fut = start_pending(sys(), conn, 3, 5);
  std::string data = "abcdefghijklmno";
  ASSERT_TRUE(test::send_all(fd, reinterpret_cast<const uint8_t*>(data.data()),
                             data.size()));
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  auto rs = fut.get();
  ASSERT_EQ(rs.size(), 3u);
  std::string joined;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rs[static_cast<size_t>(i)].first, i) << "out of order";
    ASSERT_TRUE(rs[static_cast<size_t>(i)].second);
    auto& b = *rs[static_cast<size_t>(i)].second;
    EXPECT_GE(b.size(), 1u);
    EXPECT_LE(b.size(), 5u);
    joined.append(b.begin(), b.end());
  }
  // The rest (kept or still in the kernel) comes with later recvs.
  while (joined.size() < data.size()) {
    auto b = ask<byte_buffer>(conn, net::recv_atom::value, size_t{100});
    ASSERT_TRUE(b) << describe(b.error());
    ASSERT_FALSE(b->empty());
    joined.append(b->begin(), b->end());
  }
  EXPECT_EQ(joined, data);
  ::close(fd);
}

TEST_P(passive_test, recv_after_end_of_stream_answers_empty_again) {
  auto port = listen();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto conn = accepted();
  std::string data = "hello";
  ASSERT_TRUE(test::send_all(fd, reinterpret_cast<const uint8_t*>(data.data()),
                             data.size()));
  ::shutdown(fd, SHUT_WR);
  std::string got;
  for (;;) {
    auto b = ask<byte_buffer>(conn, net::recv_atom::value, size_t{3});
    ASSERT_TRUE(b) << describe(b.error());
    EXPECT_LE(b->size(), 3u);
    if (b->empty())
      break;
    got.append(b->begin(), b->end());
  }
  EXPECT_EQ(got, data);
  for (int i = 0; i < 3; ++i) {
    auto b = ask<byte_buffer>(conn, net::recv_atom::value, size_t{10});
    ASSERT_TRUE(b) << describe(b.error());
    EXPECT_TRUE(b->empty());
  }
  // The write side still works after the peer's end of stream.
  auto w = ask<size_t>(conn, net::write_atom::value, byte_buffer{'o', 'k'});
  ASSERT_TRUE(w) << describe(w.error());
  EXPECT_EQ(*w, 2u);
  EXPECT_FALSE(ask_unit(conn, caf::make_message(net::flush_atom::value)));
  EXPECT_FALSE(ask_unit(conn, caf::make_message(net::shutdown_atom::value)));
  uint8_t ok[2];
  ASSERT_TRUE(test::recv_exact(fd, ok, 2));
  EXPECT_EQ(ok[0], 'o');
  EXPECT_TRUE(test::wait_eof(fd));
  ::close(fd);
}

TEST_P(passive_test, close_cancels_a_pending_recv) {
  auto port = listen();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto conn = accepted();
  auto fut = start_pending(sys(), conn, 1, 10);
  EXPECT_FALSE(ask_unit(conn, caf::make_message(net::close_atom::value)));
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  auto rs = fut.get();
  ASSERT_EQ(rs.size(), 1u);
  ASSERT_FALSE(rs[0].second) << "a cancelled recv got data";
  auto err = rs[0].second.error();
  EXPECT_TRUE(is(err, errc::cancelled)) << describe(err);
  EXPECT_TRUE(test::wait_eof(fd));
  ::close(fd);
}

TEST_P(passive_test, peer_reset_fails_pending_recv_with_connection_reset) {
  auto port = listen();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto conn = accepted();
  auto fut = start_pending(sys(), conn, 2, 10);
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  ::close(fd); // RST
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  for (auto& [i, r] : fut.get()) {
    ASSERT_FALSE(r) << "recv " << i << " got data";
    EXPECT_TRUE(is(r.error(), errc::connection_reset)) << describe(r.error());
  }
}

TEST_P(passive_test, runtime_shutdown_fails_pending_recvs) {
  auto port = listen();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto conn = accepted();
  auto fut = start_pending(sys(), conn, 2, 10);
  rt().shutdown();
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  for (auto& [i, r] : fut.get()) {
    ASSERT_FALSE(r) << "recv " << i << " got data";
    EXPECT_TRUE(is(r.error(), errc::shutting_down)) << describe(r.error());
  }
  ::close(fd);
}

TEST_P(passive_test, client_requests_before_connect_wait_for_it) {
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto conn = net::tcp_connect(rt(), "127.0.0.1", srv->port, net::passive());
  ASSERT_TRUE(conn) << describe(conn.error());
  auto data = test::random_bytes(256 * 1024, 5);
  auto w = ask<size_t>(*conn, net::write_atom::value, data);
  ASSERT_TRUE(w) << describe(w.error());
  EXPECT_EQ(*w, data.size());
  EXPECT_FALSE(ask_unit(*conn, caf::make_message(net::shutdown_atom::value)));
  byte_buffer got;
  for (;;) {
    auto b = ask<byte_buffer>(*conn, net::recv_atom::value, size_t{65536});
    ASSERT_TRUE(b) << describe(b.error());
    if (b->empty())
      break;
    got.insert(got.end(), b->begin(), b->end());
  }
  EXPECT_EQ(got, data);
  EXPECT_FALSE(ask_unit(*conn, caf::make_message(net::close_atom::value)));
}

TEST_P(passive_test, refused_connect_fails_recv_and_write_with_its_error) {
  test::refusing_port refusing;
  ASSERT_NE(refusing.port, 0);
  auto conn = net::tcp_connect(rt(), "127.0.0.1", refusing.port, net::passive());
  ASSERT_TRUE(conn) << describe(conn.error());
  auto out = std::make_shared<std::promise<std::pair<caf::error, caf::error>>>();
  auto fut = out->get_future();
  // Both requests go out before the connect completes.
  sys().spawn(
    [c = *conn, out](caf::event_based_actor* self, size_t max) -> caf::behavior {
      auto errs = std::make_shared<std::pair<caf::error, caf::error>>();
      auto n = std::make_shared<int>(0);
      auto fin = [=] {
        if (++*n == 2) {
          out->set_value(*errs);
          self->quit();
        }
      };
      self->request(c, caf::infinite, net::write_atom::value, byte_buffer{1, 2})
        .then([=](size_t) { fin(); },
              [=](caf::error& e) { errs->first = e; fin(); });
      self->request(c, caf::infinite, net::recv_atom::value, max)
        .then([=](byte_buffer&) { fin(); },
              [=](caf::error& e) { errs->second = e; fin(); });
      return {[](caf::tick_atom) {}};
    },
    size_t{10});
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  auto [werr, rerr] = fut.get();
  EXPECT_TRUE(is(werr, errc::connection_refused)) << describe(werr);
  EXPECT_TRUE(is(rerr, errc::connection_refused)) << describe(rerr);
}

} // namespace

ACTIO_TEST_ALL_BACKENDS(passive_test);
