// A connection actor that fails (its behaviour throws, or it gets a message
// it cannot handle) closes its own connection only: the peer sees the close,
// the actor exits with errc::actor_failed, other connections and the
// listener keep working.

#include <unistd.h>

#include <mutex>
#include <string>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

/// The connection actors a listener spawns, in order.
struct conns {
  std::mutex mtx;
  std::vector<caf::actor> all;
  void add(net::connection* self) {
    std::lock_guard<std::mutex> guard{mtx};
    all.push_back(caf::actor_cast<caf::actor>(self));
  }
  caf::actor get(size_t i) {
    std::lock_guard<std::mutex> guard{mtx};
    return i < all.size() ? all[i] : caf::actor{};
  }
};

/// Echoes, but throws on a payload starting with "boom".
caf::behavior fragile_echo(net::connection* self) {
  self->grant(64 * 1024);
  return {
    [=](received& in) {
      if (in.bytes.size() >= 4 && std::equal(in.bytes.begin(), in.bytes.begin() + 4,
                                             "boom"))
        throw std::runtime_error("boom on input");
      self->write(std::move(in.bytes));
    },
    [=](const write_completed& w) { self->grant(w.bytes); },
    [=](const read_closed&) { self->close(); },
  };
}

bool echoes(int fd, const std::string& text) {
  if (!test::send_all(fd, reinterpret_cast<const uint8_t*>(text.data()),
                      text.size()))
    return false;
  std::string back(text.size(), '\0');
  return test::recv_exact(fd, reinterpret_cast<uint8_t*>(back.data()),
                          back.size())
         && back == text;
}

/// Waits (bounded) for the exit reason of `conn`.
caf::error exit_reason(caf::actor_system& sys, const caf::actor& conn) {
  caf::scoped_actor self{sys};
  self->monitor(conn);
  caf::error reason = make_actio_error(errc::timed_out, "no down message");
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; },
                caf::after(std::chrono::seconds(30)) >> [] {});
  return reason;
}

/// Two echo connections `a` and `b` to a listener of `fragile_echo`
/// actors; `conn_a` is a's actor. Closes the sockets at the end.
class connection_failure_test : public test::backend_test {
protected:
  void start() {
    auto box = std::make_shared<conns>();
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0},
                               [box](net::connection* self) {
                                 box->add(self);
                                 return fragile_echo(self);
                               });
    ASSERT_TRUE(srv) << sys().render(srv.error());
    port = srv->port;
    a = test::connect_tcp(port);
    b = test::connect_tcp(port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    ASSERT_TRUE(echoes(a, "hello a"));
    ASSERT_TRUE(echoes(b, "hello b"));
    ASSERT_TRUE(test::wait_until([&] { return box->get(1) != nullptr; }));
    conn_a = box->get(0);
  }

  /// After `a` failed: the other connection and the listener go on.
  void expect_others_go_on() {
    EXPECT_TRUE(echoes(b, "still here"));
    int c = test::connect_tcp(port);
    ASSERT_GE(c, 0);
    EXPECT_TRUE(echoes(c, "new one"));
    ::close(c);
  }

  void TearDown() override {
    for (int fd : {a, b})
      if (fd >= 0)
        ::close(fd);
    test::backend_test::TearDown();
  }

  uint16_t port = 0;
  int a = -1;
  int b = -1;
  caf::actor conn_a;
};

TEST_P(connection_failure_test, a_throwing_behaviour_closes_only_its_connection) {
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_TRUE(test::send_all(a, reinterpret_cast<const uint8_t*>("boom"), 4));
  EXPECT_TRUE(test::wait_eof(a, 30s)) << "the failed connection stays open";
  auto reason = exit_reason(sys(), conn_a);
  EXPECT_EQ(reason.category(), caf::atom("actio"));
  EXPECT_EQ(reason.code(), static_cast<uint8_t>(errc::actor_failed))
    << sys().render(reason);
  EXPECT_NE(sys().render(reason).find("boom on input"), std::string::npos)
    << sys().render(reason);
  expect_others_go_on();
}

TEST_P(connection_failure_test, an_unhandled_request_fails_only_its_connection) {
  ASSERT_NO_FATAL_FAILURE(start());
  // A message of a type neither the behaviour nor the connection handles.
  caf::scoped_actor self{sys()};
  caf::error answer;
  bool answered = false;
  self->request(conn_a, std::chrono::seconds(30), std::string{"what is this"})
    .receive([&] { answered = true; },
             [&](caf::error& e) {
               answered = true;
               answer = e;
             });
  ASSERT_TRUE(answered);
  EXPECT_EQ(answer.category(), caf::atom("actio"));
  EXPECT_EQ(answer.code(), static_cast<uint8_t>(errc::actor_failed))
    << sys().render(answer);
  EXPECT_NE(sys().render(answer).find("127.0.0.1:"), std::string::npos)
    << "names the peer: " << sys().render(answer);
  EXPECT_TRUE(test::wait_eof(a, 30s)) << "the failed connection stays open";
  auto reason = exit_reason(sys(), conn_a);
  EXPECT_EQ(reason.code(), static_cast<uint8_t>(errc::actor_failed))
    << sys().render(reason);
  expect_others_go_on();
}

} // namespace

ACTIO_TEST_ALL_BACKENDS(connection_failure_test);
