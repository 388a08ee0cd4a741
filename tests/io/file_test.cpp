// File operations as messages, through the file service, on every backend:
// real files in a scratch directory, real errors from the kernel.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "support/file_fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

class file_test : public test::file_service_test {
protected:
  file_test() : file_service_test("file-test") {
  }

  uint64_t open(const std::string& name, int flags, uint32_t mode = 0644) {
    auto f = call<uint64_t>(io::file_open_atom::value, path(name), flags, mode);
    EXPECT_TRUE(f) << describe(f.error());
    return f ? *f : 0;
  }
};

uint8_t code_of(const caf::error& err) {
  return err.category() == caf::atom("actio") ? err.code() : 0;
}

TEST_P(file_test, random_offsets_64_mib_write_then_read_back_byte_exact) {
  constexpr size_t total = 64u * 1024 * 1024;
  constexpr size_t chunk = 64 * 1024;
  auto data = test::random_bytes(total, 42);
  auto f = open("big", O_RDWR | O_CREAT | O_TRUNC);
  // Writes in random order, 32 in flight.
  std::vector<size_t> order(total / chunk);
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::mt19937 gen{7};
  std::shuffle(order.begin(), order.end(), gen);
  caf::scoped_actor self{sys()};
  for (size_t i = 0; i < order.size(); i += 32) {
    std::vector<decltype(self->request(files_, 60s, io::file_stat_atom::value, f))> batch;
    for (size_t j = i; j < std::min(i + 32, order.size()); ++j) {
      auto off = order[j] * chunk;
      byte_buffer buf(data.begin() + off, data.begin() + off + chunk);
      batch.push_back(self->request(files_, 60s, io::file_write_atom::value, f,
                                    uint64_t{off}, std::move(buf)));
    }
    for (auto& h : batch)
      h.receive([&](uint64_t n) { ASSERT_EQ(n, chunk); },
                [&](caf::error& err) { FAIL() << describe(err); });
  }
  ASSERT_FALSE(call_void(caf::make_message(io::file_fsync_atom::value, f, false)));
  auto size = call<uint64_t>(io::file_stat_atom::value, f);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, total);
  // Reads of random sizes at random offsets, 32 in flight.
  std::uniform_int_distribution<size_t> off_dist{0, total - 1};
  std::uniform_int_distribution<size_t> len_dist{1, 256 * 1024};
  for (int round = 0; round < 16; ++round) {
    std::vector<std::pair<size_t, size_t>> reqs;
    std::vector<decltype(self->request(files_, 60s, io::file_stat_atom::value, f))> batch;
    for (int j = 0; j < 32; ++j) {
      auto off = off_dist(gen);
      auto len = len_dist(gen);
      reqs.emplace_back(off, len);
      batch.push_back(self->request(files_, 60s, io::file_read_atom::value, f,
                                    uint64_t{off}, uint64_t{len}));
    }
    for (size_t j = 0; j < batch.size(); ++j)
      batch[j].receive(
        [&](byte_buffer& got) {
          auto [off, len] = reqs[j];
          auto expect = std::min(len, total - off); // short only at EOF
          ASSERT_EQ(got.size(), expect);
          ASSERT_TRUE(std::equal(got.begin(), got.end(), data.begin() + off));
        },
        [&](caf::error& err) { FAIL() << describe(err); });
  }
  EXPECT_FALSE(call_void(caf::make_message(io::file_close_atom::value, f)));
}

TEST_P(file_test, open_of_a_missing_file_names_path_and_reason) {
  auto f = call<uint64_t>(io::file_open_atom::value, path("missing"), O_RDONLY,
                          uint32_t{0});
  ASSERT_FALSE(f);
  EXPECT_EQ(code_of(f.error()), static_cast<uint8_t>(errc::not_found));
  auto text = describe(f.error());
  EXPECT_NE(text.find(path("missing")), std::string::npos) << text;
  EXPECT_NE(text.find("No such file or directory"), std::string::npos) << text;
}

TEST_P(file_test, writing_a_directory_is_a_clear_error) {
  auto f = call<uint64_t>(io::file_open_atom::value, dir_.string(), O_WRONLY,
                          uint32_t{0});
  ASSERT_FALSE(f);
  EXPECT_EQ(code_of(f.error()), static_cast<uint8_t>(errc::is_directory))
    << describe(f.error());
}

TEST_P(file_test, permission_denied_is_a_clear_error) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root bypasses file permissions";
  auto name = path("locked");
  { auto fd = ::creat(name.c_str(), 0000); ::close(fd); }
  auto f = call<uint64_t>(io::file_open_atom::value, name, O_RDONLY, uint32_t{0});
  ASSERT_FALSE(f);
  EXPECT_EQ(code_of(f.error()), static_cast<uint8_t>(errc::permission_denied));
}

TEST_P(file_test, bad_handle_and_use_after_close_are_closed_errors) {
  auto bogus = call<byte_buffer>(io::file_read_atom::value, uint64_t{0xdead0001},
                                 uint64_t{0}, uint64_t{10});
  ASSERT_FALSE(bogus);
  EXPECT_EQ(code_of(bogus.error()), static_cast<uint8_t>(errc::closed));
  auto f = open("closing", O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_FALSE(call_void(caf::make_message(io::file_close_atom::value, f)));
  auto after = call<uint64_t>(io::file_write_atom::value, f, uint64_t{0},
                              byte_buffer{1, 2, 3});
  ASSERT_FALSE(after);
  EXPECT_EQ(code_of(after.error()), static_cast<uint8_t>(errc::closed));
  auto twice = call_void(caf::make_message(io::file_close_atom::value, f));
  EXPECT_EQ(code_of(twice), static_cast<uint8_t>(errc::closed));
}

/// Reads of at most 16 bytes at the stream position that an actor of its
/// own sends, tagged 0..n-1 (cancelled right after each is sent, if asked),
/// and whose answers it counts.
struct fifo_reads {
  std::atomic<int> data{0};      ///< answered with bytes
  std::atomic<int> cancelled{0}; ///< answered errc::cancelled
  std::atomic<int> other{0};     ///< answered anything else
  std::atomic<int> found{0};     ///< cancels answered `true`
  std::atomic<int> not_found{0}; ///< cancels answered `false`
  std::atomic<bool> accepted{false}; ///< the service handled every request
  int answered() const {
    return data + cancelled + other;
  }
};

std::shared_ptr<fifo_reads> send_fifo_reads(caf::actor_system& sys,
                                            caf::actor files, uint64_t f,
                                            int n, bool cancel) {
  auto out = std::make_shared<fifo_reads>();
  // The int is unused: CAF 0.17 dereferences a null shared_ptr<tuple<>>
  // for a function without arguments (UBSan reports it).
  sys.spawn([files, f, n, cancel, out](caf::event_based_actor* self, int) {
    for (int i = 0; i < n; ++i) {
      self
        ->request(files, caf::infinite, io::file_read_atom::value, f,
                  stream_offset, uint64_t{16}, uint64_t(i))
        .then([out](byte_buffer& b) { b.empty() ? ++out->other : ++out->data; },
              [out](caf::error& err) {
                code_of(err) == static_cast<uint8_t>(errc::cancelled)
                  ? ++out->cancelled
                  : ++out->other;
              });
      if (cancel)
        self->request(files, caf::infinite, io::file_cancel_atom::value, uint64_t(i))
          .then([out](bool x) { x ? ++out->found : ++out->not_found; },
                [out](caf::error&) { ++out->not_found; });
    }
    // Messages of one sender arrive in order: once this (unknown tag) is
    // answered, the service has handed every read above to the driver.
    self->request(files, caf::infinite, io::file_cancel_atom::value, ~uint64_t{0})
      .then([out](bool) { out->accepted = true; },
            [out](caf::error&) { out->accepted = true; });
    // Stays alive (no behaviour needed) until the last answer arrived.
  }, 0);
  return out;
}

// The kernel is usually faster than a cancel for reads of a regular file,
// so a cancel that does nothing would pass a test on those. A read of an
// empty FIFO cannot finish until the test writes: 64 tagged reads, each
// cancelled right after it was sent, must be answered errc::cancelled
// before anything is written. The exception are reads already inside
// read(2) where the kernel cannot take them back: epoll's file pool runs 2
// at a time, glibc's AIO one per dup'd descriptor (4); io_uring cancels
// every one. The writes then complete those, each once.
TEST_P(file_test, cancel_answers_cancelled_for_reads_that_cannot_finish) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  // O_RDWR: the open does not wait for a writer, reads wait for data.
  auto f = open("fifo", O_RDWR);
  ASSERT_NE(f, 0u);
  constexpr int n = 64;
  constexpr int max_running = 8; // above every backend's running reads
  auto reads = send_fifo_reads(sys(), files_, f, n, true);
  ASSERT_TRUE(test::wait_until([&] {
    return reads->found + reads->not_found == n
           && reads->cancelled >= n - max_running;
  })) << reads->cancelled << " of " << n << " cancelled, " << reads->found
      << " cancels found";
  EXPECT_EQ(reads->data.load(), 0); // nothing was written yet
  EXPECT_EQ(reads->other.load(), 0);
  if (GetParam() == "uring") {
    // Nothing runs outside the kernel: every read is taken back.
    ASSERT_TRUE(test::wait_until([&] { return reads->cancelled == n; }))
      << reads->cancelled << " of " << n << " cancelled";
  }
  // Each read still waiting (one that ran when its cancel came) gets data.
  int w = ::open(path("fifo").c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(w, 0);
  std::vector<uint8_t> bytes(16 * max_running, 0x42);
  ASSERT_EQ(::write(w, bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  EXPECT_TRUE(test::wait_until([&] { return reads->answered() == n; }))
    << reads->data << " data, " << reads->cancelled << " cancelled, "
    << reads->other << " other";
  EXPECT_EQ(reads->other.load(), 0);
  EXPECT_LE(reads->data.load(), max_running);
  EXPECT_EQ(reads->data + reads->cancelled, n);
  RecordProperty("cancelled", reads->cancelled.load());
  EXPECT_FALSE(call_void(caf::make_message(io::file_close_atom::value, f)));
  ::close(w);
}

// Reads of a regular file, each cancelled right after it was sent, race the
// kernel: each is answered once, with the right bytes or errc::cancelled.
TEST_P(file_test, cancelled_reads_complete_exactly_once) {
  constexpr size_t size = 8u * 1024 * 1024;
  auto data = test::random_bytes(size, 3);
  auto f = open("cancel", O_RDWR | O_CREAT | O_TRUNC);
  auto w = call<uint64_t>(io::file_write_atom::value, f, uint64_t{0}, data);
  ASSERT_TRUE(w);
  caf::scoped_actor self{sys()};
  constexpr int n = 64;
  std::vector<decltype(self->request(files_, 60s, io::file_stat_atom::value, f))> reads;
  for (int i = 0; i < n; ++i) {
    reads.push_back(self->request(files_, 60s, io::file_read_atom::value, f,
                                  uint64_t{(i % 8) * size / 8},
                                  uint64_t{size / 8}, uint64_t(i)));
    self->send(files_, io::file_cancel_atom::value, uint64_t(i));
  }
  int ok = 0;
  int cancelled = 0;
  for (int i = 0; i < n; ++i)
    reads[i].receive(
      [&](byte_buffer& got) {
        ++ok;
        auto off = (i % 8) * size / 8;
        ASSERT_EQ(got.size(), size / 8);
        ASSERT_TRUE(std::equal(got.begin(), got.end(), data.begin() + off));
      },
      [&](caf::error& err) {
        ASSERT_EQ(code_of(err), static_cast<uint8_t>(errc::cancelled))
          << describe(err);
        ++cancelled;
      });
  EXPECT_EQ(ok + cancelled, n);
  RecordProperty("cancelled", cancelled);
  // The cancel answers (bool) went to `self` as ordinary messages.
  EXPECT_FALSE(call_void(caf::make_message(io::file_close_atom::value, f)));
}

TEST_P(file_test, requester_exiting_with_reads_in_flight_is_safe) {
  constexpr size_t size = 1024 * 1024;
  auto f = open("orphan", O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_TRUE(call<uint64_t>(io::file_write_atom::value, f, uint64_t{0},
                             test::random_bytes(size, 5)));
  // The requester sends 100 reads and quits at once: the driver keeps the
  // buffers until the kernel is done (ASan checks), responses are dropped.
  auto files = files_;
  std::atomic<bool> sent{false};
  sys().spawn([files, f, &sent](caf::event_based_actor* self, int n) {
    for (int i = 0; i < n; ++i)
      self->request(files, caf::infinite, io::file_read_atom::value, f,
                    uint64_t{0}, uint64_t{size})
        .then([](byte_buffer&) {});
    sent = true;
    self->quit();
  }, 100);
  ASSERT_TRUE(test::wait_until([&] { return sent.load(); }));
  // The service still answers, in order behind those reads.
  auto st = call<uint64_t>(io::file_stat_atom::value, f);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, size);
  EXPECT_FALSE(call_void(caf::make_message(io::file_close_atom::value, f)));
}

TEST_P(file_test, shutdown_with_operations_in_flight_answers_each_once) {
  constexpr size_t size = 1024 * 1024;
  auto f = open("shutdown", O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_TRUE(call<uint64_t>(io::file_write_atom::value, f, uint64_t{0},
                             test::random_bytes(size, 8)));
  // Reads of an empty FIFO are certainly in flight when the runtime stops
  // (nothing completes them); sent first, they also hold epoll's pool
  // workers, so reads of the regular file queue behind them.
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  auto fifo = open("fifo", O_RDWR);
  ASSERT_NE(fifo, 0u);
  constexpr int stuck = 4;
  auto waiting = send_fifo_reads(sys(), files_, fifo, stuck, false);
  struct tally {
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::atomic<bool> accepted{false};
  };
  auto t = std::make_shared<tally>();
  constexpr int n = 64;
  auto files = files_;
  auto client = sys().spawn([=](caf::event_based_actor* self, int count) {
    for (int i = 0; i < count; ++i)
      self->request(files, caf::infinite, io::file_read_atom::value, f,
                    uint64_t{0}, uint64_t{size})
        .then([=](byte_buffer& b) { b.size() == size ? ++t->ok : ++t->failed; },
              [=](caf::error&) { ++t->failed; });
    // Answered once the service has handed every read above to the driver.
    self->request(files, caf::infinite, io::file_cancel_atom::value, ~uint64_t{0})
      .then([=](bool) { t->accepted = true; },
            [=](caf::error&) { t->accepted = true; });
  }, n);
  ASSERT_TRUE(test::wait_until([&] {
    return waiting->accepted.load() && t->accepted.load();
  }));
  EXPECT_EQ(waiting->answered(), 0);
  // Tear the runtime down while reads are queued and in flight: the ring
  // (or pool) is drained, every request answered exactly once.
  rt().shutdown();
  ASSERT_TRUE(test::wait_until([&] { return t->ok + t->failed == n; }))
    << "ok " << t->ok << ", failed " << t->failed;
  ASSERT_TRUE(test::wait_until([&] { return waiting->answered() == stuck; }))
    << waiting->answered() << " of " << stuck << " FIFO reads answered";
  EXPECT_EQ(waiting->cancelled.load(), stuck);
  RecordProperty("regular_reads_failed", t->failed.load());
  // Reads left running in read(2) (glibc's AIO) end now and drop what
  // they got; no answer follows the ones counted.
  // (No reader left, ENXIO: every descriptor on the FIFO is closed.)
  if (int w = ::open(path("fifo").c_str(), O_WRONLY | O_NONBLOCK); w >= 0) {
    std::vector<uint8_t> bytes(16 * stuck, 0x42);
    EXPECT_EQ(::write(w, bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
    ::close(w);
  }
  EXPECT_EQ(t->ok + t->failed, n);
  EXPECT_EQ(waiting->answered(), stuck);
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
}

TEST_P(file_test, ten_thousand_open_close_cycles_leak_no_descriptors) {
  { auto fd = ::creat(path("cycle").c_str(), 0644); ::close(fd); }
  auto before = test::count_fds();
  caf::scoped_actor self{sys()};
  for (int i = 0; i < 10000; ++i) {
    uint64_t f = 0;
    self->request(files_, 60s, io::file_open_atom::value, path("cycle"), O_RDONLY,
                  uint32_t{0})
      .receive([&](uint64_t x) { f = x; },
               [&](caf::error& err) { FAIL() << describe(err); });
    self->request(files_, 60s, io::file_close_atom::value, f)
      .receive([]() {}, [&](caf::error& err) { FAIL() << describe(err); });
  }
  EXPECT_EQ(test::count_fds(), before);
}

ACTIO_TEST_ALL_BACKENDS(file_test);

} // namespace
