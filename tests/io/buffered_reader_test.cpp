// Buffered reader in front of a counting relay in front of a duplex end:
// refill sizes counted at the relay, recv and read_until checked against
// the stream position of a reference, delimiters at refill boundaries,
// too_long and its skip, end of stream without delimiter.

#include <algorithm>
#include <future>
#include <random>

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/io/buffered_reader.hpp"
#include "actio/io/duplex.hpp"
#include "support/counting_relay.hpp"
#include "support/endpoint_client.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;
using actio::test::code_of;

namespace {

class buffered_reader_test : public ::testing::Test {
protected:
  actio::config cfg_;
  caf::actor_system sys_{cfg_};

  /// A duplex whose first end holds `data` and is shut down (the duplex is
  /// large enough), with a counting relay in front of its second end.
  caf::actor preloaded(const byte_buffer& data,
                       std::shared_ptr<test::relay_log> log) {
    auto [a, b] = io::duplex(sys_, data.size() + 1);
    test::endpoint_client c{sys_};
    if (!data.empty()) {
      EXPECT_EQ(test::value_or(c.write(a, data), size_t{0}), data.size());
    }
    EXPECT_FALSE(c.shutdown(a));
    return sys_.spawn<test::counting_relay>(b, std::move(log));
  }

  caf::expected<byte_buffer> read_until(test::endpoint_client& c,
                                        const caf::actor& r, uint8_t delim,
                                        size_t max_len) {
    return c.call<byte_buffer>(r, io::read_until_atom::value, delim, max_len);
  }
};

TEST_F(buffered_reader_test, refills_with_one_recv_of_capacity) {
  auto data = test::random_bytes(3000, 1);
  auto log = std::make_shared<test::relay_log>();
  auto r = io::spawn_buffered_reader(sys_, preloaded(data, log), 300);
  test::endpoint_client c{sys_};
  byte_buffer got;
  for (;;) {
    auto x = c.recv(r, 1);
    ASSERT_TRUE(x) << describe(x.error());
    if (x->empty())
      break;
    ASSERT_EQ(x->size(), 1u);
    got.push_back((*x)[0]);
  }
  EXPECT_EQ(got, data);
  // 10 refills of 300 bytes and the one that saw the end.
  log->with([](test::relay_log& l) {
    EXPECT_EQ(l.recvs, std::vector<size_t>(11, 300));
    return 0;
  });
}

TEST_F(buffered_reader_test, a_large_recv_on_an_empty_buffer_bypasses_it) {
  auto data = test::random_bytes(5000, 2);
  auto log = std::make_shared<test::relay_log>();
  auto r = io::spawn_buffered_reader(sys_, preloaded(data, log), 1000);
  test::endpoint_client c{sys_};
  auto first = c.recv(r, 10); // refill(1000), 10 served
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 10u);
  auto rest = c.recv(r, 4000); // the buffer's 990 bytes, no inner recv
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->size(), 990u);
  auto big = c.recv(r, 3000); // empty buffer: straight to inner
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size(), 3000u);
  auto tail = c.read_to_end(r, 1);
  byte_buffer got = *first;
  got.insert(got.end(), rest->begin(), rest->end());
  got.insert(got.end(), big->begin(), big->end());
  got.insert(got.end(), tail.begin(), tail.end());
  EXPECT_EQ(got, data);
  log->with([](test::relay_log& l) {
    EXPECT_EQ(l.recvs, (std::vector<size_t>{1000, 3000, 1000, 1000}));
    return 0;
  });
}

/// The reference: the stream position; `recv` must return a non-empty
/// prefix of what follows (empty only at the end), `read_until` exactly the
/// next piece, or too_long and then the position after that piece.
TEST_F(buffered_reader_test, random_recv_and_read_until_match_the_reference) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 gen{seed};
    size_t cap = seed % 4 == 0 ? 1 : 1 + gen() % 32;
    uint8_t delim = static_cast<uint8_t>(gen() % 4);
    // Few byte values: delimiters are frequent, pieces of all lengths, and
    // some fall exactly at refill boundaries.
    byte_buffer data(3000 + gen() % 2000);
    for (auto& x : data)
      x = static_cast<uint8_t>(gen() % (seed % 2 == 0 ? 4 : 40));
    if (seed % 3 == 0)
      data.back() = static_cast<uint8_t>(delim + 1); // no final delimiter
    // Writes of random size into a small duplex, concurrently: refills
    // see pieces of any size, also 1 byte.
    auto [a, b] = io::duplex(sys_, 1 + gen() % 64);
    std::promise<caf::error> wrote;
    sys_.spawn<test::write_pump>(a, data, seed, size_t{50}, size_t{2}, true,
                                 [&wrote](caf::error e) { wrote.set_value(e); });
    auto r = io::spawn_buffered_reader(sys_, b, cap);
    test::endpoint_client c{sys_};
    size_t pos = 0;
    size_t too_long = 0;
    for (;;) {
      if (gen() % 3 == 0) {
        auto max = gen() % 2 == 0 ? size_t{1} : 1 + gen() % 100;
        auto x = c.recv(r, max);
        ASSERT_TRUE(x) << describe(x.error());
        if (pos == data.size()) {
          EXPECT_TRUE(x->empty());
          break;
        }
        ASSERT_FALSE(x->empty());
        ASSERT_LE(x->size(), max);
        ASSERT_LE(pos + x->size(), data.size());
        ASSERT_TRUE(std::equal(x->begin(), x->end(), data.begin() + pos));
        pos += x->size();
        continue;
      }
      auto max_len = 1 + gen() % 12;
      auto hit = std::find(data.begin() + pos, data.end(), delim);
      auto end = hit == data.end() ? data.end() : hit + 1;
      auto len = static_cast<size_t>(end - (data.begin() + pos));
      auto x = read_until(c, r, delim, max_len);
      if (len > max_len) {
        ASSERT_FALSE(x) << "expected too_long at " << pos;
        EXPECT_EQ(code_of(x.error()), static_cast<uint8_t>(errc::too_long));
        ++too_long;
      } else {
        ASSERT_TRUE(x) << describe(x.error());
        ASSERT_EQ(*x, byte_buffer(data.begin() + pos, end)) << "at " << pos;
        if (len == 0)
          break;
      }
      pos += len;
    }
    EXPECT_GT(too_long, 0u);
    auto fut = wrote.get_future();
    ASSERT_EQ(fut.wait_for(60s), std::future_status::ready);
    EXPECT_FALSE(fut.get());
  }
}

TEST_F(buffered_reader_test, read_until_edge_cases) {
  // Delimiter exactly at the last byte of a refill, the piece of exactly
  // max_len, one byte over it, and a last piece without delimiter.
  std::string text = "abc\ndefg\nhijklmnop\nqr\nstu";
  byte_buffer data(text.begin(), text.end());
  auto log = std::make_shared<test::relay_log>();
  auto r = io::spawn_buffered_reader(sys_, preloaded(data, log), 4);
  test::endpoint_client c{sys_};
  auto piece = [&](size_t max_len) {
    return read_until(c, r, '\n', max_len);
  };
  auto as_text = [](const caf::expected<byte_buffer>& x) {
    return x ? std::string(x->begin(), x->end()) : "error: " + describe(x.error());
  };
  EXPECT_EQ(as_text(piece(4)), "abc\n");   // ends at the refill boundary
  EXPECT_EQ(as_text(piece(5)), "defg\n");  // exactly max_len
  auto over = piece(9);                     // "hijklmnop\n" is 10
  ASSERT_FALSE(over);
  EXPECT_EQ(code_of(over.error()), static_cast<uint8_t>(errc::too_long));
  EXPECT_EQ(as_text(piece(3)), "qr\n");    // the over-long piece was skipped
  EXPECT_EQ(as_text(piece(3)), "stu");     // end of stream, no delimiter
  EXPECT_EQ(as_text(piece(3)), "");        // end of stream
  EXPECT_EQ(as_text(piece(3)), "");
  auto bad = piece(0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(code_of(bad.error()), static_cast<uint8_t>(errc::invalid_argument));
}

TEST_F(buffered_reader_test, too_long_without_delimiter_at_the_end) {
  byte_buffer data(30, 'x');
  auto log = std::make_shared<test::relay_log>();
  auto r = io::spawn_buffered_reader(sys_, preloaded(data, log), 8);
  test::endpoint_client c{sys_};
  auto x = read_until(c, r, '\n', 10);
  ASSERT_FALSE(x);
  EXPECT_EQ(code_of(x.error()), static_cast<uint8_t>(errc::too_long));
  auto end = read_until(c, r, '\n', 10);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->empty());
  // Memory: the reader never asked for more than its capacity.
  log->with([](test::relay_log& l) {
    for (auto m : l.recvs)
      EXPECT_EQ(m, 8u);
    return 0;
  });
}

TEST_F(buffered_reader_test, writes_pass_through_and_close_cancels_reads) {
  auto [a, b] = io::duplex(sys_, 64);
  auto r = io::spawn_buffered_reader(sys_, b, 16);
  test::endpoint_client c{sys_};
  ASSERT_EQ(test::value_or(c.write(r, byte_buffer{1, 2}), size_t{0}), 2u);
  ASSERT_FALSE(c.flush(r));
  EXPECT_EQ(test::value_or(c.recv(a, 10), byte_buffer{}), (byte_buffer{1, 2}));
  ASSERT_FALSE(c.shutdown(r));
  EXPECT_TRUE(test::value_or(c.recv(a, 10), byte_buffer{1}).empty());
  // A read waiting for bytes, then close: cancelled; later: closed.
  auto& self = c.self();
  auto waiting = self->request(r, 60s, io::read_until_atom::value, uint8_t{'\n'},
                               size_t{100});
  ASSERT_FALSE(c.close(r));
  uint8_t code = 0;
  waiting.receive([](byte_buffer&) {}, [&](caf::error& e) { code = code_of(e); });
  EXPECT_EQ(code, static_cast<uint8_t>(errc::cancelled));
  auto later = c.recv(r, 1);
  ASSERT_FALSE(later);
  EXPECT_EQ(code_of(later.error()), static_cast<uint8_t>(errc::closed));
  // The inner end was closed: writes from the other end fail.
  auto w = c.write(a, byte_buffer{1});
  ASSERT_FALSE(w);
  EXPECT_EQ(code_of(w.error()), static_cast<uint8_t>(errc::connection_reset));
}

} // namespace
