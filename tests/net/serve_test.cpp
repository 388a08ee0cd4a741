// net::serve (stop, drain, counts, exit statuses) and connection::finish:
// in process with a programmatic stop, and actio-echo as a real process
// getting real signals.

#include <csignal>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <sstream>
#include <thread>

#include <caf/all.hpp>

#include "actio/net/atoms.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

// Echo that finishes on EOF and on draining (as actio-echo does).
caf::behavior finishing_echo(net::connection* self) {
  self->grant(64 * 1024);
  return {
    [=](received& in) { self->write(std::move(in.bytes)); },
    [=](const write_completed& out) { self->grant(out.bytes); },
    [=](const read_closed&) { self->finish(); },
    [=](const draining&) { self->finish(); },
  };
}

// Echo that ignores draining: closed at the drain timeout.
caf::behavior deaf_echo(net::connection* self) {
  self->grant(64 * 1024);
  return {
    [=](received& in) { self->write(std::move(in.bytes)); },
    [=](const write_completed& out) { self->grant(out.bytes); },
  };
}

bool echoes(int fd, uint32_t seed) {
  return test::echoes_random(fd, seed);
}

class serve_test : public test::backend_test {
protected:
  net::listener listen(net::connection_factory f) {
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, std::move(f));
    EXPECT_TRUE(srv) << sys().render(srv.error());
    return *srv;
  }

  size_t active(const caf::actor& l) {
    caf::scoped_actor self{sys()};
    size_t n = 99;
    self->request(l, 10s, net::stats_atom::value)
      .receive([&](const net::listener_stats& s) { n = s.active; },
               [](const caf::error&) {});
    return n;
  }

  /// Runs serve on another thread; `stop` ends it.
  std::future<net::serve_result> run(caf::actor l, net::serve_options opts) {
    opts.signals = false;
    opts.stop = stop;
    opts.out = &out;
    return std::async(std::launch::async, [this, l, opts] {
      return net::serve_counted(rt(), {l}, opts);
    });
  }

  std::shared_ptr<net::service_stop> stop
    = std::make_shared<net::service_stop>();
  std::ostringstream out;
};

TEST_P(serve_test, programmatic_stop_drains_and_returns_zero) {
  auto srv = listen(finishing_echo);
  int fd = test::connect_tcp(srv.port);
  ASSERT_TRUE(echoes(fd, 1));
  auto done = run(srv.actor, {"svc", 10s});
  EXPECT_EQ(done.wait_for(200ms), std::future_status::timeout); // waits
  stop->request();
  EXPECT_TRUE(test::wait_eof(fd, 10s)); // finish(): the write side shut down
  ::close(fd);                          // our EOF: the connection closes
  ASSERT_EQ(done.wait_for(30s), std::future_status::ready);
  auto res = done.get();
  EXPECT_EQ(res.status, 0);
  EXPECT_EQ(res.drained, 1u);
  EXPECT_EQ(res.forced, 0u);
  EXPECT_NE(out.str().find("svc: stop requested, draining"), std::string::npos)
    << out.str();
  EXPECT_NE(out.str().find("svc: drained 1 connection(s), 0 closed"),
            std::string::npos)
    << out.str();
  EXPECT_LT(test::connect_tcp(srv.port), 0); // no longer accepting
}

TEST_P(serve_test, connections_ignoring_draining_are_closed_at_the_timeout) {
  auto srv = listen(deaf_echo);
  int a = test::connect_tcp(srv.port);
  int b = test::connect_tcp(srv.port);
  ASSERT_TRUE(echoes(a, 1));
  ASSERT_TRUE(echoes(b, 2));
  auto start = test::clock::now();
  auto done = run(srv.actor, {"svc", 300ms});
  stop->request();
  EXPECT_TRUE(test::wait_eof(a, 10s));
  EXPECT_TRUE(test::wait_eof(b, 10s));
  ASSERT_EQ(done.wait_for(30s), std::future_status::ready);
  EXPECT_GE(test::clock::now() - start, 300ms);
  auto res = done.get();
  EXPECT_EQ(res.status, 0);
  EXPECT_EQ(res.drained, 0u);
  EXPECT_EQ(res.forced, 2u);
  ::close(a);
  ::close(b);
}

TEST_P(serve_test, on_stop_runs_after_the_drain) {
  auto srv = listen(finishing_echo);
  bool ran = false;
  net::serve_options opts{"svc", 1s};
  opts.on_stop.emplace_back([&] { ran = true; });
  auto done = run(srv.actor, opts);
  stop->request();
  ASSERT_EQ(done.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(done.get().status, 0);
  EXPECT_TRUE(ran);
}

TEST_P(serve_test, finish_writes_out_the_queue_then_eof_and_reads_to_eof) {
  constexpr size_t size = 4 * 1024 * 1024;
  auto srv = listen([](net::connection* self) -> caf::behavior {
    byte_buffer big(size);
    for (size_t i = 0; i < size; ++i)
      big[i] = static_cast<uint8_t>(i * 7);
    self->write(std::move(big));
    self->finish();
    self->finish(); // idempotent
    return {[](const write_completed&) {}};
  });
  int fd = test::connect_tcp(srv.port);
  ASSERT_GE(fd, 0);
  // Input the connection never asked for: discarded, not a reset.
  std::vector<uint8_t> junk(100'000, 'x');
  ASSERT_TRUE(test::send_all(fd, junk.data(), junk.size(), 30s));
  std::vector<uint8_t> back(size);
  ASSERT_TRUE(test::recv_exact(fd, back.data(), back.size(), 30s));
  for (size_t i = 0; i < size; ++i)
    ASSERT_EQ(back[i], static_cast<uint8_t>(i * 7)) << i;
  EXPECT_TRUE(test::wait_eof(fd, 10s));
  EXPECT_EQ(active(srv.actor), 1u); // still reading to our EOF
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(test::wait_until([&] { return active(srv.actor) == 0; }, 10s));
  ::close(fd);
}

ACTIO_TEST_ALL_BACKENDS(serve_test);

// -- actio-echo as a process ----------------------------------------------

const std::string echo_bin = ACTIO_ECHO_BIN;

TEST(serve_process, sigterm_with_an_unfinished_connection_forces_it_at_the_timeout) {
  auto child = test::spawn_process(echo_bin, {"--port", "0",
                                              "--drain-timeout=0.5"});
  auto port = test::parse_port(child.read_line());
  ASSERT_NE(port, 0);
  int done = test::connect_tcp(port);    // closes on EOF: drained
  int stubborn = test::connect_tcp(port); // never closes: forced
  ASSERT_TRUE(echoes(done, 1));
  ASSERT_TRUE(echoes(stubborn, 2));
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  EXPECT_TRUE(test::wait_eof(done, 10s));
  ::close(done);
  EXPECT_TRUE(test::wait_eof(stubborn, 10s));
  std::string text;
  EXPECT_TRUE(test::exits_with(child, 0, 0, &text));
  EXPECT_NE(text.find("SIGTERM, draining (up to 0.5 s"), std::string::npos)
    << text;
  EXPECT_NE(text.find("drained 1 connection(s), 1 closed at the deadline"),
            std::string::npos)
    << text;
  ::close(stubborn);
}

TEST(serve_process, second_signal_exits_one_at_once) {
  std::string text;
  EXPECT_TRUE(test::exits_at_once_on_second_signal(echo_bin, SIGINT, &text));
  EXPECT_NE(text.find("SIGINT again, exiting now"), std::string::npos) << text;
}

} // namespace
