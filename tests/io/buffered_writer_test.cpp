// Buffered writer in front of a counting relay in front of a duplex end:
// the writes reaching the inner endpoint are compared with a model of
// Tokio's BufWriter; flush, large writes, order, backpressure and errors.

#include <future>
#include <random>

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/io/buffered_writer.hpp"
#include "actio/io/duplex.hpp"
#include "support/counting_relay.hpp"
#include "support/endpoint_client.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;
using actio::test::code_of;

namespace {

class buffered_writer_test : public ::testing::Test {
protected:
  actio::config cfg_;
  caf::actor_system sys_{cfg_};
};

/// The writes BufWriter hands to its inner writer for these write sizes,
/// then a flush.
std::vector<size_t> model(const std::vector<size_t>& writes, size_t cap) {
  std::vector<size_t> out;
  size_t buf = 0;
  for (auto w : writes) {
    if (buf + w > cap && buf > 0) {
      out.push_back(buf);
      buf = 0;
    }
    if (w >= cap) {
      out.push_back(w);
      continue;
    }
    buf += w;
    if (buf == cap) {
      out.push_back(buf);
      buf = 0;
    }
  }
  if (buf > 0)
    out.push_back(buf);
  return out;
}

TEST_F(buffered_writer_test, coalesces_like_bufwriter_and_keeps_order) {
  for (size_t cap : {1, 2, 16, 100, 4096}) {
    SCOPED_TRACE("capacity " + std::to_string(cap));
    std::mt19937 gen{static_cast<uint32_t>(cap)};
    // A small duplex: the reader below drains it concurrently.
    auto [a, b] = io::duplex(sys_, 64);
    auto log = std::make_shared<test::relay_log>();
    auto relay = sys_.spawn<test::counting_relay>(a, log);
    auto w = io::spawn_buffered_writer(sys_, relay, cap);
    std::promise<std::pair<byte_buffer, caf::error>> read;
    sys_.spawn<test::read_pump>(b, 7u, size_t{300}, size_t{2},
                                [&read](byte_buffer x, caf::error e) {
                                  read.set_value({std::move(x), e});
                                });
    std::vector<size_t> sizes;
    byte_buffer all;
    test::endpoint_client c{sys_};
    auto& self = c.self();
    // Pipelined: 8 writes in flight, sizes 1..3*cap (some >= cap).
    std::vector<decltype(self->request(w, 60s, net::flush_atom::value))> pending;
    for (int i = 0; i < 400; ++i) {
      auto n = gen() % 3 == 0 ? size_t{1} : 1 + gen() % (3 * cap);
      auto piece = test::random_bytes(n, gen());
      all.insert(all.end(), piece.begin(), piece.end());
      sizes.push_back(n);
      pending.push_back(self->request(w, 60s, net::write_atom::value, std::move(piece)));
      if (pending.size() == 8 || i == 399) {
        for (auto& p : pending)
          p.receive([](size_t) {},
                    [](caf::error& e) { ADD_FAILURE() << describe(e); });
        pending.clear();
      }
    }
    ASSERT_FALSE(c.shutdown(w));
    auto fut = read.get_future();
    ASSERT_EQ(fut.wait_for(120s), std::future_status::ready);
    auto [bytes, err] = fut.get();
    EXPECT_FALSE(err) << describe(err);
    EXPECT_TRUE(bytes == all) << "bytes differ";
    log->with([&](test::relay_log& l) {
      EXPECT_EQ(l.writes, model(sizes, cap));
      EXPECT_EQ(l.shutdowns, 1u);
      EXPECT_LE(l.max_inflight_writes, 1u);
      return 0;
    });
  }
}

TEST_F(buffered_writer_test, small_writes_wait_in_the_buffer_until_flush) {
  auto [a, b] = io::duplex(sys_, 1024);
  auto log = std::make_shared<test::relay_log>();
  auto relay = sys_.spawn<test::counting_relay>(a, log);
  auto w = io::spawn_buffered_writer(sys_, relay, 100);
  test::endpoint_client c{sys_};
  for (uint8_t i = 0; i < 10; ++i)
    ASSERT_EQ(test::value_or(c.write(w, byte_buffer(3, i)), size_t{0}), 3u);
  // Acknowledged, yet nothing reached the inner endpoint.
  ASSERT_FALSE(c.call_unit(relay, test::relay_sync_atom::value));
  EXPECT_TRUE(log->with([](test::relay_log& l) { return l.writes.empty(); }));
  ASSERT_FALSE(c.flush(w));
  // After the flush reply: one write of 30 bytes and the inner flush, and
  // the bytes are readable at the other end.
  log->with([](test::relay_log& l) {
    EXPECT_EQ(l.writes, std::vector<size_t>{30});
    EXPECT_EQ(l.flushes, 1u);
    return 0;
  });
  auto got = c.recv(b, 1000);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 30u);
  EXPECT_EQ((*got)[29], 9);
  // A flush with nothing buffered still flushes the inner endpoint.
  ASSERT_FALSE(c.flush(w));
  EXPECT_EQ(log->with([](test::relay_log& l) { return l.flushes; }), 2u);
  // A write of capacity bytes or more goes through after the buffer.
  ASSERT_EQ(test::value_or(c.write(w, byte_buffer{1, 2}), size_t{0}), 2u);
  ASSERT_EQ(test::value_or(c.write(w, byte_buffer(100, 5)), size_t{0}), 100u);
  ASSERT_FALSE(c.call_unit(relay, test::relay_sync_atom::value));
  log->with([](test::relay_log& l) {
    EXPECT_EQ(l.writes, (std::vector<size_t>{30, 2, 100}));
    return 0;
  });
  // recv passes through to the inner endpoint.
  ASSERT_EQ(test::value_or(c.write(b, byte_buffer{42}), size_t{0}), 1u);
  EXPECT_EQ(test::value_or(c.recv(w, 10), byte_buffer{}), byte_buffer{42});
}

TEST_F(buffered_writer_test, a_large_write_waits_for_the_inner_acknowledgement) {
  // Duplex capacity 10, nobody reading: a 50-byte write goes through and
  // its reply waits; the next writes wait behind it; reading releases all.
  auto [a, b] = io::duplex(sys_, 10);
  auto w = io::spawn_buffered_writer(sys_, a, 20);
  test::endpoint_client c{sys_};
  auto& self = c.self();
  auto big = self->request(w, 60s, net::write_atom::value, byte_buffer(50, 1));
  auto small = self->request(w, 60s, net::write_atom::value, byte_buffer(5, 2));
  auto flushed = self->request(w, 60s, net::flush_atom::value);
  byte_buffer expected(50, 1);
  expected.insert(expected.end(), 5, 2);
  byte_buffer got;
  while (got.size() < expected.size()) {
    auto x = c.recv(b, 7);
    ASSERT_TRUE(x) << describe(x.error());
    got.insert(got.end(), x->begin(), x->end());
  }
  EXPECT_EQ(got, expected);
  size_t n1 = 0, n2 = 0;
  big.receive([&](size_t n) { n1 = n; }, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  small.receive([&](size_t n) { n2 = n; }, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  flushed.receive([]() {}, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  EXPECT_EQ(n1, 50u);
  EXPECT_EQ(n2, 5u);
}

TEST_F(buffered_writer_test, an_inner_error_fails_the_waiting_and_all_later_writes) {
  auto [a, b] = io::duplex(sys_, 1024);
  auto log = std::make_shared<test::relay_log>();
  log->fail_writes_from = 1; // the first write reaching the relay works
  auto relay = sys_.spawn<test::counting_relay>(a, log);
  auto w = io::spawn_buffered_writer(sys_, relay, 10);
  test::endpoint_client c{sys_};
  ASSERT_EQ(test::value_or(c.write(w, byte_buffer(4, 1)), size_t{0}), 4u);
  ASSERT_FALSE(c.flush(w)); // write #0: fine
  ASSERT_EQ(test::value_or(c.write(w, byte_buffer(4, 2)), size_t{0}), 4u);
  auto err = c.flush(w); // write #1 fails: so does the flush waiting on it
  EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::connection_reset));
  auto later = c.write(w, byte_buffer{1});
  ASSERT_FALSE(later);
  EXPECT_EQ(code_of(later.error()), static_cast<uint8_t>(errc::connection_reset));
  EXPECT_EQ(code_of(c.flush(w)), static_cast<uint8_t>(errc::connection_reset));
  // Only the successful bytes arrived; recv still passes through.
  EXPECT_EQ(test::value_or(c.recv(b, 100), byte_buffer{}), byte_buffer(4, 1));
  ASSERT_EQ(test::value_or(c.write(b, byte_buffer{7}), size_t{0}), 1u);
  EXPECT_EQ(test::value_or(c.recv(w, 10), byte_buffer{}), byte_buffer{7});
  // A large write straight through fails with the inner error too.
  auto w2 = io::spawn_buffered_writer(sys_, relay, 10);
  auto big = c.write(w2, byte_buffer(30, 3));
  ASSERT_FALSE(big);
  EXPECT_EQ(code_of(big.error()), static_cast<uint8_t>(errc::connection_reset));
}

TEST_F(buffered_writer_test, shutdown_flushes_then_ends_the_stream_and_close_cancels) {
  auto [a, b] = io::duplex(sys_, 1024);
  auto w = io::spawn_buffered_writer(sys_, a, 64);
  test::endpoint_client c{sys_};
  ASSERT_EQ(test::value_or(c.write(w, byte_buffer{1, 2, 3}), size_t{0}), 3u);
  ASSERT_FALSE(c.shutdown(w));
  auto late = c.write(w, byte_buffer{4});
  ASSERT_FALSE(late);
  EXPECT_EQ(code_of(late.error()), static_cast<uint8_t>(errc::closed));
  EXPECT_EQ(c.read_to_end(b), (byte_buffer{1, 2, 3}));
  // Close with a write in flight (no reader, duplex full) and one waiting.
  auto [x, y] = io::duplex(sys_, 4);
  auto w2 = io::spawn_buffered_writer(sys_, x, 8);
  auto& self = c.self();
  auto in_flight = self->request(w2, 60s, net::write_atom::value, byte_buffer(20, 1));
  // 6 bytes fit into the buffer (acknowledged), 5 more do not: they wait.
  auto buffered = self->request(w2, 60s, net::write_atom::value, byte_buffer(6, 1));
  auto waiting = self->request(w2, 60s, net::write_atom::value, byte_buffer(5, 1));
  auto flush = self->request(w2, 60s, net::flush_atom::value);
  size_t acked = 0;
  buffered.receive([&](size_t n) { acked = n; }, [](caf::error&) {});
  EXPECT_EQ(acked, 6u);
  ASSERT_FALSE(c.close(w2));
  uint8_t codes[3] = {0, 0, 0};
  in_flight.receive([](size_t) {}, [&](caf::error& e) { codes[0] = code_of(e); });
  waiting.receive([](size_t) {}, [&](caf::error& e) { codes[1] = code_of(e); });
  flush.receive([]() {}, [&](caf::error& e) { codes[2] = code_of(e); });
  for (auto code : codes)
    EXPECT_EQ(code, static_cast<uint8_t>(errc::cancelled));
  auto after = c.write(w2, byte_buffer{1});
  ASSERT_FALSE(after);
  EXPECT_EQ(code_of(after.error()), static_cast<uint8_t>(errc::closed));
  // The inner end was closed: its peer reads the 4 bytes it had, then EOF.
  EXPECT_EQ(c.read_to_end(y), byte_buffer(4, 1));
}

} // namespace
