// duplex(capacity): an in-memory connected pair of byte endpoints, tested
// against a model of its bounded buffers (exact acknowledgement and read
// sizes, not timing), plus half-close, close and death of one end.

#include <future>
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/io/duplex.hpp"
#include "support/endpoint_client.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;
using actio::test::code_of;

namespace {

using probe_atom = caf::atom_constant<caf::atom("probe")>;

/// Sends all its writes to `ep` at once (in order) and counts the
/// acknowledged ones. `probe` replies with that count after a round trip to
/// `ep` (a recv of 0 bytes, answered at once with an error): every
/// acknowledgement `ep` sent before it has been counted then.
class write_prober : public caf::event_based_actor {
public:
  write_prober(caf::actor_config& cfg, caf::actor ep,
               std::vector<byte_buffer> writes)
    : caf::event_based_actor(cfg), ep_(std::move(ep)),
      writes_(std::move(writes)) {
  }

protected:
  caf::behavior make_behavior() override {
    for (auto& w : writes_) {
      auto n = w.size();
      request(ep_, caf::infinite, net::write_atom::value, std::move(w))
        .then([this, n](size_t k) { acked_ += (k == n) ? 1 : 1000000; },
              [this](caf::error&) { acked_ += 1000000; });
    }
    return {
      [this](probe_atom) -> caf::result<size_t> {
        auto rp = make_response_promise<size_t>();
        request(ep_, caf::infinite, net::recv_atom::value, size_t{0})
          .then([rp](byte_buffer&) mutable { rp.deliver(size_t{999999}); },
                [this, rp](caf::error&) mutable { rp.deliver(acked_); });
        return rp;
      },
    };
  }

private:
  caf::actor ep_;
  std::vector<byte_buffer> writes_;
  size_t acked_ = 0;
};

class duplex_test : public ::testing::Test {
protected:
  actio::config cfg_;
  caf::actor_system sys_{cfg_};
};

struct transfer {
  std::promise<caf::error> wrote;
  std::promise<std::pair<byte_buffer, caf::error>> read;
};

TEST_F(duplex_test, random_pieces_both_directions_concurrently_byte_exact) {
  struct run {
    size_t capacity;
    size_t size;
  };
  // Capacity 0 is taken as 1.
  for (auto r : {run{0, 3000}, run{1, 20000}, run{3, 50000}, run{64, 200000},
                 run{4096, 300000}, run{1 << 20, 300000}}) {
    SCOPED_TRACE("capacity " + std::to_string(r.capacity));
    auto [a, b] = io::duplex(sys_, r.capacity);
    auto seed = static_cast<uint32_t>(r.capacity + r.size);
    auto ab = test::random_bytes(r.size, seed);
    auto ba = test::random_bytes(r.size / 2 + 1, seed + 1);
    transfer t[2];
    auto max_piece = std::max<size_t>(2, std::min<size_t>(r.capacity * 3, 9000));
    sys_.spawn<test::write_pump>(a, ab, seed, max_piece, size_t{3}, true,
                                 [&t](caf::error e) { t[0].wrote.set_value(e); });
    sys_.spawn<test::write_pump>(b, ba, seed + 2, max_piece, size_t{1}, true,
                                 [&t](caf::error e) { t[1].wrote.set_value(e); });
    sys_.spawn<test::read_pump>(b, seed + 3, max_piece, size_t{2},
                                [&t](byte_buffer x, caf::error e) {
                                  t[0].read.set_value({std::move(x), e});
                                });
    sys_.spawn<test::read_pump>(a, seed + 4, max_piece, size_t{1},
                                [&t](byte_buffer x, caf::error e) {
                                  t[1].read.set_value({std::move(x), e});
                                });
    for (int i = 0; i < 2; ++i) {
      auto wrote = t[i].wrote.get_future();
      auto read = t[i].read.get_future();
      ASSERT_EQ(read.wait_for(120s), std::future_status::ready);
      auto [bytes, rerr] = read.get();
      EXPECT_FALSE(rerr) << describe(rerr);
      ASSERT_EQ(wrote.wait_for(120s), std::future_status::ready);
      auto werr = wrote.get();
      EXPECT_FALSE(werr) << describe(werr);
      EXPECT_TRUE(bytes == (i == 0 ? ab : ba)) << "direction " << i;
    }
  }
}

TEST_F(duplex_test, bounded_buffer_acknowledges_exactly_what_fits) {
  // The model: with `read` bytes taken from B, A has put min(total, read +
  // C) bytes into B's buffer; write i is acknowledged iff it ends within
  // that; a recv(max) at B returns min(max, buffered) bytes.
  for (size_t cap : {1, 2, 7, 100}) {
    SCOPED_TRACE("capacity " + std::to_string(cap));
    std::mt19937 gen{static_cast<uint32_t>(cap)};
    auto [a, b] = io::duplex(sys_, cap);
    std::vector<byte_buffer> writes;
    std::vector<size_t> ends;
    byte_buffer all;
    while (all.size() < 20 * cap + 10) {
      auto n = gen() % 4 == 0 ? size_t{1} : 1 + gen() % (3 * cap);
      auto piece = test::random_bytes(n, gen());
      all.insert(all.end(), piece.begin(), piece.end());
      ends.push_back(all.size());
      writes.push_back(std::move(piece));
    }
    auto total = all.size();
    auto prober = sys_.spawn<write_prober>(a, writes);
    test::endpoint_client c{sys_};
    size_t read = 0;
    for (;;) {
      auto acked = c.call<size_t>(prober, probe_atom::value);
      ASSERT_TRUE(acked) << describe(acked.error());
      auto limit = std::min(total, read + cap);
      auto expected = static_cast<size_t>(
        std::count_if(ends.begin(), ends.end(), [&](size_t e) { return e <= limit; }));
      ASSERT_EQ(*acked, expected) << "outstanding writes after " << read << " bytes read";
      if (read == total)
        break;
      auto max = gen() % 3 == 0 ? size_t{1} : 1 + gen() % (2 * cap);
      auto got = c.recv(b, max);
      ASSERT_TRUE(got) << describe(got.error());
      ASSERT_EQ(got->size(), std::min(max, limit - read));
      ASSERT_TRUE(std::equal(got->begin(), got->end(), all.begin() + read));
      read += got->size();
    }
    EXPECT_TRUE(c.shutdown(a) == caf::none);
    auto end = c.recv(b, 10);
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->empty());
  }
}

TEST_F(duplex_test, half_close_ends_one_direction_after_its_bytes) {
  auto [a, b] = io::duplex(sys_, 16);
  test::endpoint_client c{sys_};
  ASSERT_EQ(test::value_or(c.write(a, byte_buffer{'h', 'i'}), size_t{0}), 2u);
  ASSERT_FALSE(c.shutdown(a));
  // Writes after shutdown fail; flush and another shutdown are harmless.
  auto late = c.write(a, byte_buffer{'x'});
  ASSERT_FALSE(late);
  EXPECT_EQ(code_of(late.error()), static_cast<uint8_t>(errc::closed));
  EXPECT_FALSE(c.flush(a));
  EXPECT_FALSE(c.shutdown(a));
  // B reads the bytes, then end of stream, again and again.
  EXPECT_EQ(test::value_or(c.recv(b, 100), byte_buffer{}), (byte_buffer{'h', 'i'}));
  EXPECT_TRUE(test::value_or(c.recv(b, 100), byte_buffer{1}).empty());
  EXPECT_TRUE(test::value_or(c.recv(b, 1), byte_buffer{1}).empty());
  // The other direction still works, with its own end.
  ASSERT_EQ(test::value_or(c.write(b, byte_buffer{'o', 'k'}), size_t{0}), 2u);
  ASSERT_FALSE(c.shutdown(b));
  EXPECT_EQ(c.read_to_end(a), (byte_buffer{'o', 'k'}));
}

TEST_F(duplex_test, recv_of_zero_bytes_is_invalid_and_touches_nothing) {
  auto [a, b] = io::duplex(sys_, 4);
  test::endpoint_client c{sys_};
  ASSERT_EQ(test::value_or(c.write(a, byte_buffer{1, 2, 3}), size_t{0}), 3u);
  auto bad = c.recv(b, 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(code_of(bad.error()), static_cast<uint8_t>(errc::invalid_argument));
  EXPECT_EQ(test::value_or(c.recv(b, 10), byte_buffer{}), (byte_buffer{1, 2, 3}));
}

TEST_F(duplex_test, pending_recv_is_cancelled_by_close) {
  auto [a, b] = io::duplex(sys_, 8);
  test::endpoint_client c{sys_};
  auto& self = c.self();
  // Nothing to read: the recv waits; the close (same sender, so after it)
  // answers it.
  auto a_recv = self->request(a, 60s, net::recv_atom::value, size_t{10});
  ASSERT_FALSE(c.close(a));
  caf::error err;
  bool got_bytes = false;
  a_recv.receive([&](byte_buffer&) { got_bytes = true; },
                 [&](caf::error& e) { err = e; });
  ASSERT_FALSE(got_bytes);
  EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::cancelled));
  auto w = c.write(b, byte_buffer{1});
  ASSERT_FALSE(w);
  EXPECT_EQ(code_of(w.error()), static_cast<uint8_t>(errc::connection_reset));
}

TEST_F(duplex_test, close_of_one_end_resets_the_other_after_its_bytes) {
  auto [a, b] = io::duplex(sys_, 8);
  test::endpoint_client c{sys_};
  auto& self = c.self();
  // Buffered for B: 5 bytes.
  ASSERT_EQ(test::value_or(c.write(a, byte_buffer{1, 2, 3, 4, 5}), size_t{0}), 5u);
  // Pending at B: a write bigger than A's free space (8 bytes); A has no
  // recv, so 12 bytes wait. (A recv pending at A would take B's bytes:
  // see pending_recv_is_cancelled_by_close.)
  auto b_write = self->request(b, 60s, net::write_atom::value, byte_buffer(20, 7));
  ASSERT_FALSE(c.close(a));
  caf::error b_write_err;
  b_write.receive([](size_t) {}, [&](caf::error& e) { b_write_err = e; });
  EXPECT_EQ(code_of(b_write_err), static_cast<uint8_t>(errc::connection_reset));
  // B: what was buffered, then end of stream; writes fail.
  EXPECT_EQ(c.read_to_end(b), (byte_buffer{1, 2, 3, 4, 5}));
  auto w = c.write(b, byte_buffer{1});
  ASSERT_FALSE(w);
  EXPECT_EQ(code_of(w.error()), static_cast<uint8_t>(errc::connection_reset));
  EXPECT_EQ(code_of(c.shutdown(b)), static_cast<uint8_t>(errc::connection_reset));
  // A: closed.
  auto r = c.recv(a, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), static_cast<uint8_t>(errc::closed));
  EXPECT_FALSE(c.close(a)); // closing twice is harmless
}

TEST_F(duplex_test, death_of_one_end_is_a_close_for_the_other) {
  for (bool drop_handle : {false, true}) {
    SCOPED_TRACE(drop_handle ? "last handle dropped" : "exit message");
    auto [a, b] = io::duplex(sys_, 8);
    test::endpoint_client c{sys_};
    ASSERT_EQ(test::value_or(c.write(a, byte_buffer{9, 8, 7}), size_t{0}), 3u);
    // A recv waiting at B before the death: it gets the bytes.
    auto& self = c.self();
    auto pending = self->request(b, 60s, net::recv_atom::value, size_t{2});
    if (drop_handle) {
      a = nullptr; // no pending request holds it: it ends
    } else {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
    byte_buffer first;
    pending.receive([&](byte_buffer& x) { first = x; }, [](caf::error&) {});
    EXPECT_EQ(first, (byte_buffer{9, 8}));
    // The rest, then end of stream once B noticed (bounded by the call).
    EXPECT_EQ(c.read_to_end(b), (byte_buffer{7}));
    auto w = c.write(b, byte_buffer{1});
    ASSERT_FALSE(w);
    EXPECT_EQ(code_of(w.error()), static_cast<uint8_t>(errc::connection_reset));
  }
}

TEST_F(duplex_test, exit_with_pending_requests_answers_each_once) {
  auto [a, b] = io::duplex(sys_, 2);
  test::endpoint_client c{sys_};
  auto& self = c.self();
  auto r = self->request(a, 60s, net::recv_atom::value, size_t{1});
  auto w = self->request(a, 60s, net::write_atom::value, byte_buffer(10, 1));
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::error re, we;
  r.receive([](byte_buffer&) {}, [&](caf::error& e) { re = e; });
  w.receive([](size_t) {}, [&](caf::error& e) { we = e; });
  EXPECT_EQ(code_of(re), static_cast<uint8_t>(errc::cancelled));
  EXPECT_EQ(code_of(we), static_cast<uint8_t>(errc::cancelled));
  // B got the first 2 bytes of the write, then end of stream.
  EXPECT_EQ(c.read_to_end(b), byte_buffer(2, 1));
}

} // namespace
