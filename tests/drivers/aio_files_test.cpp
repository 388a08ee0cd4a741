// The POSIX AIO file engine (drivers/aio/aio_files.hpp) driven directly by
// one actor, so the test decides when the engine's `process()` runs: batch
// submission, cancel of queued and in-flight requests, close and shutdown
// with requests in flight. Each runs twice: with the platform's notifier
// (Linux: a signalfd wake-up that names nothing, so the engine scans every
// request) and with an exact one that names each finished request, the way
// FreeBSD's EVFILT_AIO events do, so the engine's exact-mode path (shared
// with FreeBSD, which is never built here) is exercised on Linux too. Plus
// an end-to-end random-read consistency test through the file service on
// the `aio` backend.

#ifdef ACTIO_HAVE_AIO

#include <fcntl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "actio/actors/config.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/aio/aio_files.hpp"
#include "actio/drivers/aio/aio_notifier.hpp"
#include "actio/drivers/aio/aio_signal.hpp"
#include "actio/io/file_service.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

using e_open = caf::atom_constant<caf::atom("e_open")>;
using e_read = caf::atom_constant<caf::atom("e_read")>;
using e_write = caf::atom_constant<caf::atom("e_write")>;
using e_cancel = caf::atom_constant<caf::atom("e_cancel")>;
using e_submit = caf::atom_constant<caf::atom("e_submit")>;
using e_flush = caf::atom_constant<caf::atom("e_flush")>;
using e_close = caf::atom_constant<caf::atom("e_close")>;
using e_stop = caf::atom_constant<caf::atom("e_stop")>;

uint8_t code_of(const caf::error& err) {
  return err.category() == caf::atom("actio") ? err.code() : 0;
}

/// An exact notifier for Linux: the completion signal's queued instances
/// each carry their request (`ssi_ptr` is the sigevent's value), so every
/// request is named, as by FreeBSD's EVFILT_AIO events. Only sound while one
/// engine owns the signal (a test); the backend's notifier cannot rely on
/// it (another driver's signalfd may take the signal, the queue may
/// overflow).
class exact_test_notifier final : public aio_notifier {
public:
  exact_test_notifier() : sfd_(open_aio_signalfd()) {
    // Signals left by earlier engines name requests that are gone.
    drain_aio_signalfd(sfd_);
  }

  ~exact_test_notifier() override {
    ::close(sfd_);
  }

  void attach(std::function<void()>) override {
    // one engine only: nobody else takes its signals
  }

  int fd() const noexcept override {
    return sfd_;
  }

  bool exact() const noexcept override {
    return true;
  }

  void arm(aiocb& cb, void* cookie) noexcept override {
    cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
    cb.aio_sigevent.sigev_signo = aio_signal();
    cb.aio_sigevent.sigev_value.sival_ptr = cookie;
  }

  bool drain(std::vector<void*>& finished) override {
    bool any = false;
    signalfd_siginfo info[16];
    for (;;) {
      auto n = ::read(sfd_, info, sizeof(info));
      if (n <= 0)
        return any;
      any = true;
      for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(info[0]); ++i)
        finished.push_back(reinterpret_cast<void*>(info[i].ssi_ptr));
    }
  }

  std::optional<std::chrono::milliseconds> rescan_interval() const noexcept override {
    return std::nullopt;
  }

private:
  int sfd_;
};

/// Where an engine's helper threads send their wake-up: the engine actor.
class wake_target {
public:
  void set(caf::actor a) {
    std::lock_guard<std::mutex> guard{mtx_};
    actor_ = std::move(a);
  }

  void poke() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (actor_)
      caf::anon_send(actor_, e_submit::value);
  }

private:
  std::mutex mtx_;
  caf::actor actor_;
};

/// An actor owning one engine; only `e_submit` / `e_flush` / `e_stop` run
/// the engine's loop, so requests sent before them form one batch.
caf::behavior engine_actor(caf::event_based_actor* self,
                           std::shared_ptr<aio_files> eng) {
  return {
    [=](e_open, const std::string& path, int flags) -> caf::result<uint64_t> {
      auto rp = self->make_response_promise();
      eng->open_file(path, flags, 0644, rp);
      eng->process();
      return rp;
    },
    [=](e_read, uint64_t file, uint64_t off, uint64_t len,
        uint64_t id) -> caf::result<byte_buffer> {
      auto rp = self->make_response_promise();
      eng->read_at(file, off, len, id, rp);
      return rp;
    },
    [=](e_write, uint64_t file, uint64_t off,
        byte_buffer& buf) -> caf::result<uint64_t> {
      auto rp = self->make_response_promise();
      eng->write_at(file, off, std::move(buf), 0, rp);
      return rp;
    },
    [=](e_cancel, uint64_t id) { return eng->cancel(id); },
    [=](e_submit) { eng->process(); },
    [=](e_flush) {
      // Polls the engine until nothing is in flight (bounded).
      // (notified(): what a driver does when the notifier's fd is readable.)
      auto deadline = std::chrono::steady_clock::now() + 60s;
      for (;;) {
        eng->notified();
        if (!eng->process() && eng->in_flight() == 0)
          break;
        if (std::chrono::steady_clock::now() >= deadline)
          break;
        std::this_thread::sleep_for(1ms);
      }
    },
    [=](e_close, uint64_t file) -> caf::result<void> {
      auto rp = self->make_response_promise();
      eng->close_file(file, rp);
      eng->process();
      return rp;
    },
    [=](e_stop) {
      eng->shutdown();
      return eng->open_files();
    },
  };
}

/// Parameter: the notifier is exact (names requests) or not (platform's).
class aio_files_test : public ::testing::TestWithParam<bool> {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path()
           / ("actio-aio-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    data_ = test::random_bytes(size, 11);
    auto fd = ::open(path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, data_.data(), data_.size()),
              static_cast<ssize_t>(data_.size()));
    ::close(fd);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    std::unique_ptr<aio_notifier> notifier;
    if (GetParam()) {
      notifier = std::make_unique<exact_test_notifier>();
    } else {
      auto platform = make_aio_notifier();
      ASSERT_TRUE(platform) << describe(platform.error());
      notifier = std::move(*platform);
    }
    ASSERT_EQ(notifier->exact(), GetParam());
    // open/close finish on helper threads: their wake-up makes the engine
    // actor run the loop (as a driver would).
    auto target = std::make_shared<wake_target>();
    eng_ = std::make_shared<aio_files>(aio_options{}, std::move(notifier),
                                       [target] { target->poke(); });
    actor_ = sys_->spawn(engine_actor, eng_);
    target->set(actor_);
  }

  void TearDown() override {
    caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
    actor_ = nullptr;
    sys_.reset();
    eng_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path() const {
    return (dir_ / "data").string();
  }

  uint64_t open_file() {
    caf::scoped_actor self{*sys_};
    uint64_t f = 0;
    self->request(actor_, 60s, e_open::value, path(), int{O_RDWR})
      .receive([&](uint64_t x) { f = x; },
               [&](caf::error& err) { ADD_FAILURE() << describe(err); });
    return f;
  }

  static constexpr size_t size = 4u * 1024 * 1024;
  fs::path dir_;
  byte_buffer data_;
  config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::shared_ptr<aio_files> eng_;
  caf::actor actor_;
};

using read_handle = decltype(std::declval<caf::scoped_actor&>()->request(
  std::declval<caf::actor&>(), 60s, e_submit::value));

TEST_P(aio_files_test, reads_of_one_turn_go_out_in_one_lio_listio) {
  auto f = open_file();
  caf::scoped_actor self{*sys_};
  constexpr size_t n = 48;
  constexpr size_t chunk = size / n;
  std::vector<read_handle> reads;
  for (size_t i = 0; i < n; ++i)
    reads.push_back(self->request(actor_, 60s, e_read::value, f,
                                  uint64_t{i * chunk}, uint64_t{chunk},
                                  uint64_t{i + 1}));
  auto before = aio_stats();
  self->request(actor_, 60s, e_flush::value).receive([] {}, [](caf::error&) {});
  auto after = aio_stats();
  EXPECT_EQ(after.batches - before.batches, 1u);
  EXPECT_EQ(after.submitted - before.submitted, n);
  EXPECT_GE(after.largest_batch, n);
  for (size_t i = 0; i < n; ++i)
    reads[i].receive(
      [&](byte_buffer& got) {
        ASSERT_EQ(got.size(), chunk);
        EXPECT_TRUE(std::equal(got.begin(), got.end(),
                               data_.begin() + static_cast<long>(i * chunk)));
      },
      [&](caf::error& err) { ADD_FAILURE() << describe(err); });
}

TEST_P(aio_files_test, cancel_of_queued_and_in_flight_reads_answers_each_once) {
  auto f = open_file();
  caf::scoped_actor self{*sys_};
  constexpr uint64_t n = 64;
  constexpr uint64_t chunk = size / 8;
  std::vector<read_handle> reads;
  for (uint64_t i = 0; i < n; ++i)
    reads.push_back(self->request(actor_, 60s, e_read::value, f,
                                  (i % 8) * chunk, chunk, i + 1));
  // Odd ones cancelled while still queued in the engine: cancelled for sure.
  for (uint64_t i = 1; i < n; i += 2)
    self->request(actor_, 60s, e_cancel::value, i + 1)
      .receive([](bool found) { EXPECT_TRUE(found); },
               [](caf::error& err) { ADD_FAILURE() << describe(err); });
  self->request(actor_, 60s, e_submit::value).receive([] {}, [](caf::error&) {});
  // Even ones are in flight now (or done): cancelled or their data.
  for (uint64_t i = 0; i < n; i += 2)
    self->request(actor_, 60s, e_cancel::value, i + 1)
      .receive([](bool) {}, [](caf::error& err) { ADD_FAILURE() << describe(err); });
  self->request(actor_, 60s, e_flush::value).receive([] {}, [](caf::error&) {});
  int ok = 0;
  int cancelled = 0;
  for (uint64_t i = 0; i < n; ++i)
    reads[i].receive(
      [&](byte_buffer& got) {
        ++ok;
        EXPECT_EQ(i % 2, 0u) << "a read cancelled while queued ran";
        ASSERT_EQ(got.size(), chunk);
        EXPECT_TRUE(std::equal(got.begin(), got.end(),
                               data_.begin() + static_cast<long>((i % 8) * chunk)));
      },
      [&](caf::error& err) {
        EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::cancelled))
          << describe(err);
        ++cancelled;
      });
  EXPECT_EQ(ok + cancelled, static_cast<int>(n));
  EXPECT_GE(cancelled, static_cast<int>(n / 2));
  caf::scoped_actor probe{*sys_};
  probe->request(actor_, 60s, e_close::value, f)
    .receive([] {}, [](caf::error& err) { ADD_FAILURE() << describe(err); });
}

TEST_P(aio_files_test, close_and_shutdown_with_requests_in_flight_are_safe) {
  auto f = open_file();
  caf::scoped_actor self{*sys_};
  constexpr uint64_t n = 64;
  std::vector<read_handle> reads;
  for (uint64_t i = 0; i < n; ++i)
    reads.push_back(self->request(actor_, 60s, e_read::value, f, uint64_t{0},
                                  uint64_t{size}, i + 1));
  std::vector<decltype(self->request(actor_, 60s, e_write::value, f,
                                     uint64_t{0}, byte_buffer{}))> writes;
  for (uint64_t i = 0; i < 8; ++i)
    writes.push_back(self->request(actor_, 60s, e_write::value, f,
                                   uint64_t{size + i * 65536},
                                   byte_buffer(65536, uint8_t(i))));
  self->request(actor_, 60s, e_submit::value).receive([] {}, [](caf::error&) {});
  // Close waits for the in-flight requests, later requests fail as closed;
  // queued-behind-close ones stay answered by shutdown.
  auto close = self->request(actor_, 60s, e_close::value, f);
  auto late = self->request(actor_, 60s, e_read::value, f, uint64_t{0},
                            uint64_t{16}, uint64_t{999});
  size_t left = 99;
  self->request(actor_, 60s, e_stop::value)
    .receive([&](size_t open) { left = open; },
             [](caf::error& err) { ADD_FAILURE() << describe(err); });
  EXPECT_EQ(left, 0u);
  int answered = 0;
  for (auto& r : reads)
    r.receive(
      [&](byte_buffer& got) {
        ++answered;
        EXPECT_EQ(got.size(), size);
      },
      [&](caf::error& err) {
        ++answered;
        EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::cancelled))
          << describe(err);
      });
  EXPECT_EQ(answered, static_cast<int>(n));
  for (auto& w : writes)
    w.receive([](uint64_t x) { EXPECT_EQ(x, 65536u); },
              [](caf::error& err) {
                EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::cancelled))
                  << describe(err);
              });
  close.receive([] {}, [](caf::error& err) { ADD_FAILURE() << describe(err); });
  late.receive([](byte_buffer&) { ADD_FAILURE() << "read after close ran"; },
               [](caf::error& err) {
                 EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::closed));
               });
}

// A read of an empty FIFO runs in glibc's AIO thread and cannot be
// cancelled. Shutdown waits while requests make progress, then answers it
// (cancelled) and parks its aiocb, buffer and descriptor until it ends:
// once data arrives, the reaper lets go of all of it.
TEST_P(aio_files_test, a_read_stuck_at_shutdown_is_answered_and_parked) {
  auto fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  caf::scoped_actor self{*sys_};
  uint64_t f = 0;
  self->request(actor_, 60s, e_open::value, fifo, int{O_RDWR})
    .receive([&](uint64_t x) { f = x; },
             [&](caf::error& err) { FAIL() << describe(err); });
  auto read = self->request(actor_, 60s, e_read::value, f, stream_offset,
                            uint64_t{16}, uint64_t{1});
  self->request(actor_, 60s, e_submit::value).receive([] {}, [](caf::error&) {});
  self->request(actor_, 60s, e_stop::value)
    .receive([](size_t open) { EXPECT_EQ(open, 0u); },
             [](caf::error& err) { ADD_FAILURE() << describe(err); });
  std::string text;
  read.receive([](byte_buffer&) { ADD_FAILURE() << "read data from nowhere"; },
               [&](caf::error& err) {
                 EXPECT_EQ(code_of(err), static_cast<uint8_t>(errc::cancelled))
                   << describe(err);
                 text = describe(err);
               });
  // Parked if glibc's thread had taken it (almost always), else cancelled
  // before it ran.
  bool parked = text.find("still running") != std::string::npos;
  RecordProperty("parked", parked ? "yes" : "no");
  if (parked) {
    EXPECT_GE(aio_stats().parked, 1u);
  }
  int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (w >= 0) { // only while the parked request holds a read end
    EXPECT_TRUE(parked);
    ASSERT_EQ(::write(w, "x", 1), 1);
    ::close(w);
  }
  EXPECT_TRUE(test::wait_until([] { return aio_stats().parked == 0; }));
}

INSTANTIATE_TEST_SUITE_P(notifiers, aio_files_test, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& x) {
                           return std::string{x.param ? "exact" : "scan"};
                         });

// End to end: the file service on the aio backend, a large file, random
// reads of random sizes with many in flight, byte-exact.
TEST(aio_backend_test, large_file_random_reads_are_byte_exact) {
  auto backends = available_backends();
  ASSERT_NE(std::find(backends.begin(), backends.end(), "aio"), backends.end());
  auto dir = fs::temp_directory_path()
             / ("actio-aio-rand-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto name = (dir / "big").string();
  constexpr size_t total = 48u * 1024 * 1024;
  auto data = test::random_bytes(total, 99);
  {
    auto fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, data.data(), total), static_cast<ssize_t>(total));
    ::close(fd);
  }
  config cfg;
  caf::put(cfg.content, "actio.io.backend", "aio");
  caf::put(cfg.content, "actio.io.aio-fds-per-file", size_t{3});
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  ASSERT_TRUE(rt) << sys.render(rt.error());
  EXPECT_EQ((*rt)->backend_name(), "aio");
  auto files = io::spawn_file_service(**rt);
  {
    caf::scoped_actor self{sys};
    uint64_t f = 0;
    self->request(files, 60s, io::file_open_atom::value, name, int{O_RDONLY},
                  uint32_t{0})
      .receive([&](uint64_t x) { f = x; },
               [&](caf::error& err) { FAIL() << describe(err); });
    std::mt19937_64 gen{5};
    std::uniform_int_distribution<size_t> off_dist{0, total - 1};
    std::uniform_int_distribution<size_t> len_dist{1, 128 * 1024};
    auto before = aio_stats();
    for (int round = 0; round < 24; ++round) {
      std::vector<std::pair<size_t, size_t>> reqs;
      std::vector<read_handle> batch;
      for (int j = 0; j < 64; ++j) {
        auto off = off_dist(gen);
        auto len = len_dist(gen);
        reqs.emplace_back(off, len);
        batch.push_back(self->request(files, 60s, io::file_read_atom::value, f,
                                      uint64_t{off}, uint64_t{len}));
      }
      for (size_t j = 0; j < batch.size(); ++j)
        batch[j].receive(
          [&](byte_buffer& got) {
            auto [off, len] = reqs[j];
            auto want = std::min(len, total - off);
            ASSERT_EQ(got.size(), want) << "at " << off;
            ASSERT_TRUE(std::equal(got.begin(), got.end(),
                                   data.begin() + static_cast<long>(off)));
          },
          [&](caf::error& err) { FAIL() << describe(err); });
    }
    auto after = aio_stats();
    EXPECT_GE(after.submitted - before.submitted, 24u * 64);
    self->request(files, 60s, io::file_close_atom::value, f)
      .receive([] {}, [&](caf::error& err) { FAIL() << describe(err); });
  }
  files = nullptr;
  (*rt)->shutdown();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

} // namespace

#endif // ACTIO_HAVE_AIO
