// copy(source, sink) and the file sink, through the file service on every
// backend: byte-exact file copies, counts, and each failure reported
// exactly once with its typed error.

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <thread>
#include <cstring>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/chain.hpp"
#include "actio/io/copy.hpp"
#include "actio/io/file_service.hpp"
#include "actio/io/file_sink.hpp"
#include "actio/io/sinks.hpp"
#include "actio/io/source.hpp"
#include "actio/io/sources.hpp"
#include "support/driver_stall.hpp"
#include "support/file_fixture.hpp"
#include "support/net_client.hpp"
#include "support/slow_sink.hpp"

using namespace std::chrono_literals;
using namespace actio;
using namespace actio::io;
namespace fs = std::filesystem;

namespace {

/// Records every `done` call; `wait` returns the first (bounded wait).
struct report {
  std::atomic<int> calls{0};
  std::promise<std::pair<uint64_t, caf::error>> promise;
  std::future<std::pair<uint64_t, caf::error>> future = promise.get_future();

  done_fn callback() {
    return [this](uint64_t n, const caf::error& err) {
      if (calls++ == 0)
        promise.set_value({n, err});
    };
  }

  std::pair<uint64_t, caf::error> wait() {
    EXPECT_EQ(future.wait_for(120s), std::future_status::ready)
      << "the copy did not finish";
    return future.get();
  }
};

byte_buffer random_bytes(size_t n, uint32_t seed) {
  std::mt19937_64 gen{seed};
  byte_buffer out(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    auto x = gen();
    std::memcpy(out.data() + i, &x, 8);
  }
  for (; i < n; ++i)
    out[i] = static_cast<uint8_t>(gen());
  return out;
}

byte_buffer read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return byte_buffer(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const byte_buffer& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

class copy_test : public test::file_service_test {
protected:
  copy_test() : file_service_test("copy-test") {
  }

  /// Waits until `who` has terminated (so no further `done` can come).
  void wait_down(const caf::actor& who) {
    caf::scoped_actor self{sys()};
    self->monitor(who);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; },
                  caf::after(std::chrono::seconds(60)) >> [] {});
    EXPECT_TRUE(down) << "actor still running";
  }
};

TEST_P(copy_test, file_to_file_64_mib_is_byte_exact) {
  auto data = random_bytes(64u * 1024 * 1024 + 12345, 1);
  write_all(path("in"), data);
  report r;
  copy(file_source(sys(), files_, path("in")),
       file_sink(sys(), files_, path("out")), r.callback());
  auto [n, err] = r.wait();
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(n, data.size());
  EXPECT_TRUE(read_all(path("out")) == data) << "copy differs";
}

TEST_P(copy_test, chained_files_into_one_file_with_fsync) {
  auto a = random_bytes(300000, 2);
  auto b = random_bytes(1, 3);
  auto c = random_bytes(700001, 4);
  write_all(path("a"), a);
  write_all(path("b"), b);
  write_all(path("c"), c);
  write_all(path("empty"), {});
  file_sink_options opts;
  opts.fsync = true;
  report r;
  copy(chain(sys(), {file_source(sys(), files_, path("a"), 4096),
                     file_source(sys(), files_, path("empty")),
                     file_source(sys(), files_, path("b")),
                     file_source(sys(), files_, path("c"), 65536)}),
       file_sink(sys(), files_, path("out"), opts), r.callback());
  auto [n, err] = r.wait();
  EXPECT_FALSE(err) << describe(err);
  byte_buffer expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  expected.insert(expected.end(), c.begin(), c.end());
  EXPECT_EQ(n, expected.size());
  EXPECT_TRUE(read_all(path("out")) == expected);
}

// Regression: the chain reused a finished source's stream slot for the next
// source, and the finished source's exit (CAF's stream aborter) then closed
// the next source's path: the copy ended early (short, or differing file).
// Many chains of real file sources, empty ones at random places, random
// chunk sizes, into the file sink (with and without fsync) and into a
// collector.
TEST_P(copy_test, random_file_chains_with_empty_sources_are_byte_exact) {
  std::mt19937 gen{20261122};
  const size_t chunk_sizes[] = {512, 4096, 65536, 128 * 1024};
  for (int round = 0; round < 16; ++round) {
    auto count = 2 + gen() % 5;
    std::vector<source> parts;
    byte_buffer expected;
    for (size_t i = 0; i < count; ++i) {
      auto chunk = chunk_sizes[gen() % 4];
      auto kind = gen() % 3;
      // Empty, up to a few chunks, or a whole multiple of the chunk size.
      size_t size = kind == 0   ? 0
                    : kind == 1 ? gen() % (3 * chunk + 1)
                                : chunk * (1 + gen() % 3);
      auto bytes = random_bytes(size, static_cast<uint32_t>(gen()));
      auto name = "in-" + std::to_string(round) + "-" + std::to_string(i);
      write_all(path(name), bytes);
      expected.insert(expected.end(), bytes.begin(), bytes.end());
      parts.push_back(file_source(sys(), files_, path(name), chunk));
    }
    if (round % 2 == 0) {
      file_sink_options opts;
      opts.fsync = round % 4 == 0;
      auto out = path("out-" + std::to_string(round));
      report r;
      copy(chain(sys(), parts), file_sink(sys(), files_, out, opts),
           r.callback());
      auto [n, err] = r.wait();
      ASSERT_FALSE(err) << "round " << round << ": " << describe(err);
      ASSERT_EQ(n, expected.size()) << "round " << round;
      ASSERT_TRUE(read_all(out) == expected) << "round " << round;
    } else {
      auto got = std::make_shared<std::promise<std::pair<byte_buffer, caf::error>>>();
      auto fut = got->get_future();
      chain(sys(), parts)(spawn_collect_bytes(
        sys(), [got](byte_buffer b, const caf::error& err) {
          got->set_value({std::move(b), err});
        }));
      ASSERT_EQ(fut.wait_for(120s), std::future_status::ready)
        << "round " << round << ": the chain did not finish";
      auto [bytes, err] = fut.get();
      ASSERT_FALSE(err) << "round " << round << ": " << describe(err);
      ASSERT_EQ(bytes.size(), expected.size()) << "round " << round;
      ASSERT_TRUE(bytes == expected) << "round " << round;
    }
  }
}

TEST_P(copy_test, into_discard_counts_the_bytes) {
  report r;
  copy(repeat_source(sys(), byte_buffer{'a', 'b', 'c'}, 10'000'019, 4000),
       discard(sys()), r.callback());
  auto [n, err] = r.wait();
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(n, 10'000'019u);
}

TEST_P(copy_test, the_request_form_answers_with_the_count) {
  write_all(path("in"), random_bytes(123457, 5));
  auto copier = spawn_copier(sys(), file_source(sys(), files_, path("in")),
                             discard(sys()));
  caf::scoped_actor self{sys()};
  uint64_t n = 0;
  self->request(copier, 60s, copy_atom::value)
    .receive([&](uint64_t x) { n = x; },
             [&](caf::error& err) { ADD_FAILURE() << describe(err); });
  EXPECT_EQ(n, 123457u);
  auto bad = spawn_copier(sys(), file_source(sys(), files_, path("missing")),
                          discard(sys()));
  self->request(bad, 60s, copy_atom::value)
    .receive([&](uint64_t) { ADD_FAILURE() << "copied a missing file"; },
             [&](caf::error& err) {
               EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::not_found))
                 << describe(err);
             });
}

TEST_P(copy_test, missing_source_is_reported_once) {
  report r;
  auto snk = copy(file_source(sys(), files_, path("missing")),
                  file_sink(sys(), files_, path("out")), r.callback());
  auto [n, err] = r.wait();
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::not_found)) << describe(err);
  EXPECT_EQ(n, 0u);
  wait_down(snk);
  EXPECT_EQ(r.calls.load(), 1);
}

TEST_P(copy_test, destination_in_a_missing_directory_stops_the_source) {
  // 1 GiB offered: if the open error did not stop the source, the copy
  // would still be running (and reading) long after `done`.
  report r;
  caf::actor src;
  auto snk = file_sink(sys(), files_, path("no/such/dir/out"))(r.callback());
  src = spawn_repeat_source(sys(), byte_buffer{'x'}, 1ull << 30, snk);
  auto [n, err] = r.wait();
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::not_found)) << describe(err);
  EXPECT_EQ(n, 0u);
  wait_down(src);
  wait_down(snk);
  EXPECT_EQ(r.calls.load(), 1);
}

TEST_P(copy_test, destination_that_is_a_directory) {
  report r;
  auto snk = copy(repeat_source(sys(), byte_buffer{'x'}, 1000),
                  file_sink(sys(), files_, dir_.string()), r.callback());
  auto [n, err] = r.wait();
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::is_directory)) << describe(err);
  wait_down(snk);
  EXPECT_EQ(r.calls.load(), 1);
}

TEST_P(copy_test, unwritable_destination_directory) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root bypasses file permissions";
  fs::create_directories(path("ro"));
  fs::permissions(path("ro"), fs::perms::owner_read | fs::perms::owner_exec);
  report r;
  copy(repeat_source(sys(), byte_buffer{'x'}, 1000),
       file_sink(sys(), files_, path("ro/out")), r.callback());
  auto [n, err] = r.wait();
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::permission_denied))
    << describe(err);
}

TEST_P(copy_test, file_size_limit_is_file_too_large_and_stops_the_source) {
  // RLIMIT_FSIZE makes writes past 1 MiB fail with EFBIG (SIGXFSZ is
  // ignored by the file service). CTest runs each test in its own process.
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit lim = old;
  lim.rlim_cur = 1024 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  report r;
  auto snk = file_sink(sys(), files_, path("big"))(r.callback());
  auto src = spawn_repeat_source(sys(), byte_buffer{'y'}, 1ull << 30, snk, 100000);
  auto [n, err] = r.wait();
  ::setrlimit(RLIMIT_FSIZE, &old);
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::file_too_large)) << describe(err);
  // n counts completed writes; the kernel may have taken part of the one
  // that failed.
  EXPECT_LE(n, 1024u * 1024);
  EXPECT_GE(n, 1024u * 1024 - 100000);
  EXPECT_GE(fs::file_size(path("big")), n);
  EXPECT_LE(fs::file_size(path("big")), 1024u * 1024);
  wait_down(src);
  wait_down(snk);
  EXPECT_EQ(r.calls.load(), 1);
}

TEST_P(copy_test, upstream_error_closes_the_file_and_reports_the_bytes) {
  // The first 5000 bytes arrive, then the chained source fails.
  report r;
  copy(chain(sys(), repeat_source(sys(), byte_buffer{'z'}, 5000, 1000),
             file_source(sys(), files_, path("missing"))),
       file_sink(sys(), files_, path("out")), r.callback());
  auto [n, err] = r.wait();
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::not_found)) << describe(err);
  EXPECT_EQ(n, 5000u);
  EXPECT_EQ(fs::file_size(path("out")), 5000u);
}

TEST_P(copy_test, slow_disk_keeps_memory_bounded) {
  // 256 MiB generated in memory as fast as the sink grants credit, into a
  // disk that stalls: while the copy runs (at least once, at most three
  // times) the driver that completes every write is held for a second. The
  // source makes far more than the bound in a second; the file sink must not
  // take more than it can write, so the source waits.
  constexpr uint64_t total = 256ull * 1024 * 1024;
  auto written = [this] {
    std::error_code ec;
    auto n = fs::file_size(path("out"), ec);
    return ec ? uint64_t{0} : static_cast<uint64_t>(n);
  };
  test::rss_sampler rss;
  report r;
  copy(repeat_source(sys(), byte_buffer{1, 2, 3, 4}, total),
       file_sink(sys(), files_, path("out")), r.callback());
  ASSERT_TRUE(test::wait_until([&] { return written() > 0; }));
  int stalls = 0;
  for (int i = 0; i < 3 && r.calls.load() == 0; ++i) {
    test::driver_stall stall{rt().unit(0)};
    ASSERT_TRUE(stall.holding());
    auto before = written();
    if (before < total)
      ++stalls;
    std::this_thread::sleep_for(1s); // the disk's stall, not a sync point
    stall.release();
    // Writes move again before the next stall.
    EXPECT_TRUE(test::wait_until([&] {
      return written() > before || r.calls.load() > 0;
    }));
  }
  auto [n, err] = r.wait();
  rss.stop();
  EXPECT_GE(stalls, 1) << "the copy ended before the disk stalled";
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(n, total);
  EXPECT_EQ(fs::file_size(path("out")), total);
  EXPECT_LT(rss.growth(), 64u * 1024 * 1024) << "RSS grew by " << rss.growth();
  RecordProperty("rss_growth", static_cast<int>(rss.growth()));
  RecordProperty("stalls", stalls);
}

ACTIO_TEST_ALL_BACKENDS(copy_test);

} // namespace
