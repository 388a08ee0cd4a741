// Batch reads through the file service, on every backend: many reads of one
// file in one request and one answer, their order, EOF, limits, errors, and
// close and shutdown while batches are out.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <random>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "support/file_fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

using buffers = std::vector<byte_buffer>;

class file_batch_test : public test::file_service_test {
protected:
  file_batch_test() : file_service_test("file-batch-test") {
  }

  caf::error close(uint64_t f) {
    return call_void(caf::make_message(io::file_close_atom::value, f));
  }

  /// A file of `size` random bytes, opened read-only.
  uint64_t make_file(size_t size, uint32_t seed) {
    data_ = test::random_bytes(size, seed);
    std::ofstream out{path("data"), std::ios::binary};
    out.write(reinterpret_cast<const char*>(data_.data()),
              static_cast<std::streamsize>(data_.size()));
    out.close();
    auto f = call<uint64_t>(io::file_open_atom::value, path("data"), int{O_RDONLY},
                            uint32_t{0});
    EXPECT_TRUE(f) << describe(f.error());
    return f ? *f : 0;
  }

  caf::expected<buffers> batch(uint64_t f, std::vector<uint64_t> offsets,
                               uint64_t len) {
    return call<buffers>(io::file_read_atom::value, f, std::move(offsets), len);
  }

  /// What a read of `len` at `off` must return.
  std::vector<uint8_t> expected(uint64_t off, uint64_t len) const {
    if (off >= data_.size())
      return {};
    auto end = std::min<uint64_t>(data_.size(), off + len);
    return {data_.begin() + static_cast<ptrdiff_t>(off),
            data_.begin() + static_cast<ptrdiff_t>(end)};
  }

  std::vector<uint8_t> data_;
};

uint8_t code_of(const caf::error& err) {
  return err.category() == caf::atom("actio") ? err.code() : 0;
}

TEST_P(file_batch_test, answers_every_read_in_order_short_only_at_the_end) {
  constexpr size_t size = 1024 * 1024 + 100;
  auto f = make_file(size, 41);
  std::mt19937_64 gen{9};
  std::uniform_int_distribution<uint64_t> pick{0, size - 1};
  for (int round = 0; round < 8; ++round) {
    std::vector<uint64_t> offsets(64 + round);
    for (auto& off : offsets)
      off = pick(gen);
    offsets.push_back(size - 10); // short: 10 bytes left
    offsets.push_back(size);      // at the end: empty
    offsets.push_back(size + 4096);
    offsets.push_back(0);         // the same offset twice
    offsets.push_back(0);
    auto got = batch(f, offsets, 4096);
    ASSERT_TRUE(got) << describe(got.error());
    ASSERT_EQ(got->size(), offsets.size());
    for (size_t i = 0; i < offsets.size(); ++i)
      ASSERT_EQ((*got)[i], expected(offsets[i], 4096)) << "read " << i;
  }
  EXPECT_FALSE(close(f));
}

TEST_P(file_batch_test, many_batches_in_flight_each_get_their_own_answer) {
  constexpr size_t size = 4 * 1024 * 1024;
  auto f = make_file(size, 42);
  caf::scoped_actor self{sys()};
  std::vector<std::vector<uint64_t>> sent;
  std::vector<decltype(self->request(files_, 60s, io::file_stat_atom::value, f))> out;
  for (uint64_t b = 0; b < 32; ++b) {
    std::vector<uint64_t> offsets;
    for (uint64_t i = 0; i < 32; ++i)
      offsets.push_back(((b * 32 + i) * 4096 * 7) % size);
    sent.push_back(offsets);
    out.push_back(self->request(files_, 60s, io::file_read_atom::value, f,
                                offsets, uint64_t{4096}));
  }
  for (size_t b = 0; b < out.size(); ++b)
    out[b].receive(
      [&](buffers& got) {
        ASSERT_EQ(got.size(), sent[b].size());
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_EQ(got[i], expected(sent[b][i], 4096));
      },
      [&](caf::error& err) { ADD_FAILURE() << describe(err); });
  EXPECT_FALSE(close(f));
}

TEST_P(file_batch_test, empty_batches_limits_and_closed_files) {
  auto f = make_file(8192, 43);
  // Nothing to read: an empty answer, or empty buffers.
  auto got = batch(f, {}, 4096);
  ASSERT_TRUE(got) << describe(got.error());
  EXPECT_TRUE(got->empty());
  got = batch(f, {0, 100}, 0);
  ASSERT_TRUE(got) << describe(got.error());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_TRUE((*got)[0].empty() && (*got)[1].empty());
  // Over the limits: a typed error, nothing read.
  got = batch(f, std::vector<uint64_t>(io::max_read_batch + 1, 0), 1);
  ASSERT_FALSE(got);
  EXPECT_EQ(code_of(got.error()), static_cast<uint8_t>(errc::invalid_argument))
    << describe(got.error());
  got = batch(f, {0, 0}, io::max_read_batch_bytes);
  ASSERT_FALSE(got);
  EXPECT_EQ(code_of(got.error()), static_cast<uint8_t>(errc::invalid_argument))
    << describe(got.error());
  // A closed and a never-opened file.
  EXPECT_FALSE(close(f));
  got = batch(f, {0}, 4096);
  ASSERT_FALSE(got);
  EXPECT_EQ(code_of(got.error()), static_cast<uint8_t>(errc::closed))
    << describe(got.error());
  got = batch(uint64_t{987654321}, {0}, 4096);
  ASSERT_FALSE(got);
  EXPECT_EQ(code_of(got.error()), static_cast<uint8_t>(errc::closed))
    << describe(got.error());
}

TEST_P(file_batch_test, close_waits_for_the_batches_before_it) {
  constexpr size_t size = 2 * 1024 * 1024;
  auto f = make_file(size, 44);
  caf::scoped_actor self{sys()};
  std::vector<uint64_t> offsets;
  for (uint64_t off = 0; off < size; off += 4096)
    offsets.push_back(off);
  auto reading = self->request(files_, 60s, io::file_read_atom::value, f,
                               offsets, uint64_t{4096});
  auto closing = self->request(files_, 60s, io::file_close_atom::value, f);
  reading.receive(
    [&](buffers& got) {
      ASSERT_EQ(got.size(), offsets.size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], expected(offsets[i], 4096));
    },
    [&](caf::error& err) { ADD_FAILURE() << describe(err); });
  closing.receive([] {}, [&](caf::error& err) { ADD_FAILURE() << describe(err); });
}

TEST_P(file_batch_test, shutdown_with_batches_out_answers_each_once) {
  constexpr size_t size = 4 * 1024 * 1024;
  auto f = make_file(size, 45);
  struct tally {
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::atomic<bool> sent{false};
  };
  auto t = std::make_shared<tally>();
  constexpr int n = 64;
  auto files = files_;
  // (An argument besides `self`: CAF 0.17 dereferences a null tuple for a
  // function actor without one, which UBSan reports.)
  auto client = sys().spawn([=](caf::event_based_actor* self, int count) {
    for (int b = 0; b < count; ++b) {
      std::vector<uint64_t> offsets;
      for (uint64_t i = 0; i < 64; ++i)
        offsets.push_back(((static_cast<uint64_t>(b) * 64 + i) * 4096) % size);
      self->request(files, caf::infinite, io::file_read_atom::value, f,
                    std::move(offsets), uint64_t{4096})
        .then([=](buffers& got) { got.size() == 64 ? ++t->ok : ++t->failed; },
              [=](caf::error&) { ++t->failed; });
    }
    t->sent = true;
  }, n);
  ASSERT_TRUE(test::wait_until([&] { return t->sent.load(); }));
  rt().shutdown();
  ASSERT_TRUE(test::wait_until([&] { return t->ok + t->failed == n; }))
    << "ok " << t->ok << ", failed " << t->failed;
  RecordProperty("batches_failed", t->failed.load());
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
}

} // namespace

ACTIO_TEST_ALL_BACKENDS(file_batch_test);
