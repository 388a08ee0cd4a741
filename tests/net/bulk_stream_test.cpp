// Bulk streams on every backend: megabytes received under small and large
// credit windows arrive byte-exact and never beyond the credit (io_uring
// switches such sockets from its multishot recv to recvs into owned
// buffers), and thousands of small writes queued at once (io_uring gathers
// them into one sendmsg) arrive byte-exact, complete in order, and each
// gets exactly one completion also when a close cuts them off.

#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class bulk_stream_test : public test::backend_test {
protected:
  uint16_t listen(net::connection_factory f, net::connection_options o = {}) {
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, std::move(f), o);
    EXPECT_TRUE(srv) << sys().render(srv.error());
    return srv ? srv->port : 0;
  }

  /// Sends `data` from a client thread to a connection that keeps at most
  /// `window` bytes of credit out; checks what it received.
  void receive_with_window(size_t window) {
    struct sink {
      std::mutex mtx;
      byte_buffer got;
      size_t outstanding = 0; // credit granted, not yet used
      bool overrun = false;
      size_t messages = 0;
    };
    auto k = std::make_shared<sink>();
    auto port = listen([k, window](net::connection* self) -> caf::behavior {
      {
        std::lock_guard<std::mutex> guard{k->mtx};
        k->outstanding = window;
      }
      self->grant(window);
      return {
        [=](received& in) {
          auto n = in.bytes.size();
          {
            std::lock_guard<std::mutex> guard{k->mtx};
            if (n > k->outstanding)
              k->overrun = true;
            else
              k->outstanding -= n;
            k->got.insert(k->got.end(), in.bytes.begin(), in.bytes.end());
            ++k->messages;
            k->outstanding += n;
          }
          self->grant(n); // consumed: the same window again
        },
        [=](const read_closed&) { self->close(); },
      };
    });
    auto data = test::random_bytes(16 << 20, 11);
    int fd = test::connect_tcp(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(test::send_all(fd, data.data(), data.size(), 60s));
    ::shutdown(fd, SHUT_WR);
    auto total = data.size();
    ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard<std::mutex> guard{k->mtx};
        return k->got.size() >= total;
      },
      60s));
    std::lock_guard<std::mutex> guard{k->mtx};
    EXPECT_FALSE(k->overrun) << "a received was larger than the credit";
    ASSERT_EQ(k->got.size(), total);
    EXPECT_TRUE(k->got == data) << "bytes differ";
    ::close(fd);
  }
};

TEST_P(bulk_stream_test, sixteen_mib_with_a_small_window_arrive_exact_within_credit) {
  receive_with_window(3000);
}

TEST_P(bulk_stream_test, sixteen_mib_with_a_large_window_arrive_exact_within_credit) {
  receive_with_window(256 * 1024);
}

/// What the writing connection saw of its writes.
struct write_log {
  std::mutex mtx;
  std::vector<op_id> issued;
  std::vector<write_completed> done;
  size_t count() {
    std::lock_guard<std::mutex> guard{mtx};
    return done.size();
  }
};

/// Piece `i` of the small writes: 1 to 97 bytes of a known pattern.
byte_buffer piece(size_t i, size_t& pos) {
  byte_buffer b(1 + (i * 37) % 97);
  for (auto& x : b)
    x = static_cast<uint8_t>((pos++ * 7 + 3) % 251);
  return b;
}

TEST_P(bulk_stream_test, thousands_of_small_writes_arrive_exact_and_complete_in_order) {
  constexpr size_t writes = 20'000;
  auto log = std::make_shared<write_log>();
  byte_buffer expected;
  {
    size_t pos = 0;
    for (size_t i = 0; i < writes; ++i) {
      auto b = piece(i, pos);
      expected.insert(expected.end(), b.begin(), b.end());
    }
  }
  net::connection_options opts;
  opts.limits.max_queued = 64 << 20;
  opts.limits.high_watermark = 32 << 20;
  auto port = listen(
    [log](net::connection* self) -> caf::behavior {
      size_t pos = 0;
      {
        std::lock_guard<std::mutex> guard{log->mtx};
        for (size_t i = 0; i < writes; ++i)
          log->issued.push_back(self->write(piece(i, pos)));
      }
      return {
        [=](const write_completed& w) {
          std::lock_guard<std::mutex> guard{log->mtx};
          log->done.push_back(w);
        },
      };
    },
    opts);
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  byte_buffer got(expected.size());
  ASSERT_TRUE(test::recv_exact(fd, got.data(), got.size(), 60s));
  EXPECT_TRUE(got == expected) << "bytes differ";
  ASSERT_TRUE(test::wait_until([&] { return log->count() == writes; }));
  std::lock_guard<std::mutex> guard{log->mtx};
  ASSERT_EQ(log->done.size(), writes);
  for (size_t i = 0; i < writes; ++i) {
    ASSERT_EQ(log->done[i].id, log->issued[i]) << "completion " << i << " out of order";
    EXPECT_FALSE(log->done[i].reason) << "write " << i;
    EXPECT_EQ(log->done[i].bytes, 1 + (i * 37) % 97) << "write " << i;
  }
  ::close(fd);
}

TEST_P(bulk_stream_test, close_with_small_writes_stuck_completes_each_once) {
  constexpr size_t writes = 20'000;
  auto log = std::make_shared<write_log>();
  auto conn = std::make_shared<std::promise<caf::actor>>();
  auto conn_f = conn->get_future();
  net::connection_options opts;
  opts.limits.max_queued = 64 << 20;
  opts.limits.high_watermark = 32 << 20;
  auto port = listen(
    [log, conn](net::connection* self) -> caf::behavior {
      conn->set_value(caf::actor_cast<caf::actor>(self));
      size_t pos = 0;
      {
        std::lock_guard<std::mutex> guard{log->mtx};
        for (size_t i = 0; i < writes; ++i) {
          auto b = piece(i, pos);
          b.resize(b.size() * 64, 1); // 2 MiB+ in all: more than the socket takes
          log->issued.push_back(self->write(std::move(b)));
        }
      }
      return {
        [=](const write_completed& w) {
          std::lock_guard<std::mutex> guard{log->mtx};
          log->done.push_back(w);
        },
      };
    },
    opts);
  int fd = test::connect_tcp(port, 4096); // small window, never read
  ASSERT_GE(fd, 0);
  ASSERT_EQ(conn_f.wait_for(30s), std::future_status::ready);
  auto c = conn_f.get();
  // Some writes go out (the socket buffers fill), the rest wait.
  ASSERT_TRUE(test::wait_until([&] { return log->count() > 0; }));
  caf::anon_send(c, net::close_atom::value);
  ASSERT_TRUE(test::wait_until([&] { return log->count() == writes; }));
  std::lock_guard<std::mutex> guard{log->mtx};
  ASSERT_EQ(log->done.size(), writes) << "every write answered exactly once";
  size_t ok = 0;
  for (size_t i = 0; i < writes; ++i) {
    ASSERT_EQ(log->done[i].id, log->issued[i]) << "completion " << i << " out of order";
    if (!log->done[i].reason)
      ++ok;
    else
      EXPECT_TRUE(test::is_errc(log->done[i].reason, errc::cancelled))
        << "write " << i << ": " << to_string(log->done[i].reason);
  }
  EXPECT_LT(ok, writes) << "the close cut nothing off";
  ::close(fd);
}

ACTIO_TEST_ALL_BACKENDS(bulk_stream_test);

} // namespace
