// TCP client connections through the driver: connect, writes queued before
// the connection is up, refused connections as typed errors.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/tcp_connect.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class connect_test : public test::backend_test {};

TEST_P(connect_test, client_echo_round_trip_with_writes_before_connect) {
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto data = test::random_bytes(1024 * 1024, 21);
  auto result = std::make_shared<std::promise<byte_buffer>>();
  auto fut = result->get_future();
  auto client = net::tcp_connect(
    rt(), "127.0.0.1", srv->port, [=](net::connection* self) -> caf::behavior {
      // Written before `connected`: waits for the connection.
      self->write(data);
      self->grant(data.size());
      auto got = std::make_shared<byte_buffer>();
      return {
        [=](const connected& c) {
          if (c.reason)
            result->set_value({});
        },
        [=](received& in) {
          got->insert(got->end(), in.bytes.begin(), in.bytes.end());
          if (got->size() == data.size()) {
            result->set_value(*got);
            self->close();
          }
        },
      };
    });
  ASSERT_TRUE(client) << describe(client.error());
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), data);
}

TEST_P(connect_test, refused_connection_is_a_typed_error_and_the_actor_ends) {
  test::refusing_port refusing;
  ASSERT_NE(refusing.port, 0);
  auto port = refusing.port;
  auto result = std::make_shared<std::promise<caf::error>>();
  auto fut = result->get_future();
  auto client = net::tcp_connect(
    rt(), "127.0.0.1", port, [=](net::connection* self) -> caf::behavior {
      self->write(byte_buffer{1, 2, 3}); // must fail, not vanish
      return {
        [=](const connected& c) { result->set_value(c.reason); },
        [=](const write_completed& w) {
          EXPECT_TRUE(w.reason) << "a write on a refused connection succeeded";
        },
      };
    });
  ASSERT_TRUE(client);
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  auto err = fut.get();
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::connection_refused))
    << describe(err);
  EXPECT_TRUE(test::wait_until([&] { return rt().unit(0).pinned() == 0; }))
    << "the failed connection actor did not end";
}

ACTIO_TEST_ALL_BACKENDS(connect_test);

} // namespace
