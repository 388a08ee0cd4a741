// TLS under connection actors (net/tls_context.hpp), server and client both
// Actio, on every backend: round trips over TCP and Unix sockets, a large
// transfer under credit, close_notify and truncation, client certificates,
// and the hostile cases (plain text to a TLS port, a handshake that never
// finishes, bad server certificates), each of which must affect only its
// connection. Certificates are made per run (support/tls_certs.hpp).

#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/tcp_connect.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/unix_connect.hpp"
#include "actio/net/unix_listener.hpp"
#include "support/client.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"
#include "support/tls_certs.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

/// What the server's connections saw, for assertions from the test thread.
struct server_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<caf::error> closed;    // connection_closed reasons
  std::vector<caf::error> read_ends; // read_closed reasons

  bool wait_closed(size_t n, std::chrono::seconds timeout = 10s) {
    std::unique_lock guard{mtx};
    return cv.wait_for(guard, timeout, [&] { return closed.size() >= n; });
  }
};

/// The test echo, recording how each connection's read side and connection
/// ended. On read_closed (clean or not) it finishes.
net::connection_factory logging_echo(std::shared_ptr<server_log> log) {
  return [log](net::connection* self) -> caf::behavior {
    self->grant(64 * 1024);
    return {
      [=](received& in) { self->write(std::move(in.bytes)); },
      [=](const write_completed& w) {
        if (!w.reason)
          self->grant(w.bytes);
      },
      [=](const read_closed& r) {
        {
          std::lock_guard guard{log->mtx};
          log->read_ends.push_back(r.reason);
        }
        self->finish();
      },
      [=](const connection_closed& c) {
        std::lock_guard guard{log->mtx};
        log->closed.push_back(c.reason);
        log->cv.notify_all();
      },
    };
  };
}

bool is(const caf::error& e, errc code) {
  return e.category() == caf::atom("actio")
         && e.code() == static_cast<uint8_t>(code);
}

class tls_test : public test::backend_test {
protected:
  static void SetUpTestSuite() {
    certs_ = new test::tls_certs;
  }

  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  void SetUp() override {
    test::backend_test::SetUp();
    ASSERT_TRUE(certs_->ok()) << "openssl could not make the test certificates";
  }

  /// A TLS echo server with `name`.pem; returns its port.
  uint16_t serve(const std::string& name = "server", net::tls_config cfg = {}) {
    auto ctx = certs_->server(name, cfg);
    EXPECT_TRUE(ctx) << sys().render(ctx.error());
    if (!ctx)
      return 0;
    net::connection_options opts;
    opts.tls = *ctx;
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, logging_echo(log_), opts);
    EXPECT_TRUE(srv) << sys().render(srv.error());
    return srv ? srv->port : 0;
  }

  std::optional<test::client_outcome>
  echo_once(uint16_t port, byte_buffer data, net::tls_config cfg = {},
            const std::string& host = "127.0.0.1") {
    auto ctx = certs_->client(cfg);
    EXPECT_TRUE(ctx) << sys().render(ctx.error());
    if (!ctx)
      return std::nullopt;
    net::connection_options opts;
    opts.tls = *ctx;
    return test::run_client(
      [&](net::connection_factory f) {
        return net::tcp_connect(rt(), host, port, std::move(f), opts);
      },
      std::move(data));
  }

  static test::tls_certs* certs_;
  std::shared_ptr<server_log> log_ = std::make_shared<server_log>();
};

test::tls_certs* tls_test::certs_ = nullptr;

byte_buffer text(const std::string& s) {
  return byte_buffer{s.begin(), s.end()};
}

TEST_P(tls_test, echo_round_trip) {
  auto port = serve();
  auto out = echo_once(port, text("hello over tls\n"));
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->reason) << sys().render(out->reason);
  EXPECT_EQ(out->echoed, text("hello over tls\n"));
}

TEST_P(tls_test, large_transfer_under_credit) {
  // 4 MiB through a server that reads only what it has echoed (64 KiB of
  // plaintext credit): records, credit and acknowledgements must line up.
  auto port = serve();
  auto data = test::random_bytes(4 * 1024 * 1024, 7);
  auto out = echo_once(port, data);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->reason) << sys().render(out->reason);
  EXPECT_EQ(out->echoed.size(), data.size());
  EXPECT_TRUE(out->echoed == data);
}

TEST_P(tls_test, over_unix_socket) {
  auto path = certs_->path("echo.sock");
  auto ctx = certs_->server();
  ASSERT_TRUE(ctx);
  net::connection_options sopts;
  sopts.tls = *ctx;
  auto srv = net::unix_listen(rt(), {path}, logging_echo(log_), sopts);
  ASSERT_TRUE(srv) << sys().render(srv.error());
  auto cctx = certs_->client(); // checks "localhost"
  ASSERT_TRUE(cctx);
  net::connection_options copts;
  copts.tls = *cctx;
  auto out = test::run_client(
    [&](net::connection_factory f) {
      return net::unix_connect(rt(), path, std::move(f), copts);
    },
    text("unix tls"));
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->reason) << sys().render(out->reason);
  EXPECT_EQ(out->echoed, text("unix tls"));
}

TEST_P(tls_test, bad_server_certificates_are_refused_by_the_client) {
  struct bad_case {
    std::string cert;
    std::string why;
  };
  for (auto& c : std::vector<bad_case>{{"expired", "expired"},
                                        {"wrong", "mismatch"},
                                        {"other", "issuer"}}) {
    SCOPED_TRACE(c.cert);
    auto port = serve(c.cert);
    auto out = echo_once(port, text("x"));
    ASSERT_TRUE(out);
    EXPECT_TRUE(is(out->reason, errc::tls_verify_failed))
      << sys().render(out->reason);
    EXPECT_NE(describe(out->reason).find(c.why), std::string::npos)
      << describe(out->reason);
    EXPECT_TRUE(out->echoed.empty());
  }
  // The server goes on serving good clients.
  auto good = serve();
  auto out = echo_once(good, text("still fine"));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->echoed, text("still fine"));
}

TEST_P(tls_test, plain_text_to_a_tls_port_closes_only_that_connection) {
  auto port = serve();
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  auto req = text("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(test::send_all(fd, req.data(), req.size()));
  EXPECT_TRUE(test::wait_eof(fd, 10s)) << "the server must close it";
  ::close(fd);
  ASSERT_TRUE(log_->wait_closed(1));
  {
    std::lock_guard guard{log_->mtx};
    EXPECT_TRUE(is(log_->closed[0], errc::tls_handshake_failed))
      << describe(log_->closed[0]);
  }
  auto out = echo_once(port, text("next"));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->echoed, text("next"));
}

TEST_P(tls_test, a_handshake_that_never_finishes_times_out) {
  net::tls_config cfg;
  cfg.handshake_timeout = 300ms;
  auto port = serve("server", cfg);
  int fd = test::connect_tcp(port); // connects, sends nothing
  ASSERT_GE(fd, 0);
  auto start = test::clock::now();
  EXPECT_TRUE(test::wait_eof(fd, 10s));
  EXPECT_LT(test::clock::now() - start, 5s);
  ::close(fd);
  ASSERT_TRUE(log_->wait_closed(1));
  std::lock_guard guard{log_->mtx};
  EXPECT_TRUE(is(log_->closed[0], errc::tls_handshake_timeout))
    << describe(log_->closed[0]);
}

TEST_P(tls_test, client_certificate_required) {
  net::tls_config cfg;
  cfg.ca_file = certs_->path("ca.pem");
  cfg.client_auth = net::tls_client_auth::require;
  auto port = serve("server", cfg);
  // Without a certificate: the server refuses (with TLS 1.3 the client's
  // handshake has finished by then, so it sees the alert as the end).
  auto ctx = certs_->client();
  ASSERT_TRUE(ctx);
  net::connection_options opts;
  opts.tls = *ctx;
  auto end = std::make_shared<std::promise<std::pair<caf::error, size_t>>>();
  auto got = std::make_shared<size_t>(0);
  auto c = net::tcp_connect(rt(), "127.0.0.1", port,
    [end, got](net::connection* self) -> caf::behavior {
      self->grant(1024);
      return {
        [=](const connected& c) {
          if (!c.reason)
            self->write(text("no cert"));
        },
        [=](received& in) { *got += in.bytes.size(); },
        [=](const connection_closed& c) { end->set_value({c.reason, *got}); },
      };
    }, opts);
  ASSERT_TRUE(c);
  auto f = end->get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto [why, echoed] = f.get();
  EXPECT_EQ(echoed, 0u);
  EXPECT_TRUE(why) << "the client must see the refusal";
  ASSERT_TRUE(log_->wait_closed(1));
  {
    std::lock_guard guard{log_->mtx};
    EXPECT_TRUE(is(log_->closed[0], errc::tls_verify_failed))
      << describe(log_->closed[0]);
  }
  net::tls_config with;
  with.cert_file = certs_->path("client.pem");
  with.key_file = certs_->path("client.key");
  auto out = echo_once(port, text("with cert"), with);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->reason) << sys().render(out->reason);
  EXPECT_EQ(out->echoed, text("with cert"));
}

TEST_P(tls_test, close_notify_is_a_clean_eof_and_truncation_is_not) {
  auto port = serve();
  auto ctx = certs_->client();
  ASSERT_TRUE(ctx);
  net::connection_options opts;
  opts.tls = *ctx;
  // 1: the client ends with shutdown_write (close_notify, then FIN); the
  // echo's finish() answers with its own: both read sides end cleanly.
  auto clean = std::make_shared<std::promise<caf::error>>();
  auto c1 = net::tcp_connect(rt(), "127.0.0.1", port,
    [clean](net::connection* self) -> caf::behavior {
      self->grant(1024);
      return {
        [=](const connected&) { self->shutdown_write(); },
        [=](const read_closed& r) {
          clean->set_value(r.reason);
          self->close();
        },
      };
    }, opts);
  ASSERT_TRUE(c1);
  auto f1 = clean->get_future();
  ASSERT_EQ(f1.wait_for(10s), std::future_status::ready);
  auto client_end = f1.get();
  EXPECT_FALSE(client_end) << describe(client_end);
  ASSERT_TRUE(log_->wait_closed(1));
  // 2: the client closes the socket without close_notify: the server's
  // read side ends with tls_error, not as a clean EOF.
  auto echoed = std::make_shared<std::promise<void>>();
  auto c2 = net::tcp_connect(rt(), "127.0.0.1", port,
    [echoed](net::connection* self) -> caf::behavior {
      self->grant(1024);
      return {
        [=](const connected&) { self->write(text("x")); },
        [=](received&) {
          echoed->set_value();
          self->close(); // FIN, no close_notify
        },
      };
    }, opts);
  ASSERT_TRUE(c2);
  ASSERT_EQ(echoed->get_future().wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(log_->wait_closed(2));
  std::lock_guard guard{log_->mtx};
  ASSERT_EQ(log_->read_ends.size(), 2u);
  EXPECT_FALSE(log_->read_ends[0]) << describe(log_->read_ends[0]);
  EXPECT_TRUE(is(log_->read_ends[1], errc::tls_error))
    << describe(log_->read_ends[1]);
  EXPECT_NE(describe(log_->read_ends[1]).find("close_notify"),
            std::string::npos);
}

TEST(tls_context_test, load_errors_name_the_file) {
  test::tls_certs certs;
  ASSERT_TRUE(certs.ok());
  net::tls_config cfg;
  cfg.cert_file = certs.path("missing.pem");
  cfg.key_file = certs.path("server.key");
  auto ctx = net::tls_context::make_server(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_TRUE(is(ctx.error(), errc::tls_bad_config));
  EXPECT_NE(describe(ctx.error()).find("missing.pem"), std::string::npos);
  cfg.cert_file = certs.path("server.pem");
  cfg.key_file = certs.path("client.key"); // another certificate's key
  ctx = net::tls_context::make_server(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_NE(describe(ctx.error()).find("does not match"), std::string::npos)
    << describe(ctx.error());
  cfg.key_file = certs.path("ca.pem"); // not a key at all
  ctx = net::tls_context::make_server(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_NE(describe(ctx.error()).find("ca.pem"), std::string::npos);
  cfg.key_file = certs.path("server.key");
  EXPECT_TRUE(net::tls_context::make_server(cfg));
}

ACTIO_TEST_ALL_BACKENDS(tls_test);

} // namespace
