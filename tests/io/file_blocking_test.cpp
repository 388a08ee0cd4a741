// File operations the kernel keeps waiting, on every backend: opening a
// FIFO for reading blocks until a writer appears (open(2); io_uring's
// openat is the exception, see `waits_for_writer`), a read of an empty FIFO
// until data arrives. Such a call must stall neither the driver (its
// sockets, its other files) nor the file service, and must still get exactly
// one answer: its result, or errc::cancelled on cancel and shutdown. The
// FIFO makes the wait deterministic: nothing completes until the test opens
// the other end.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

uint8_t code_of(const caf::error& err) {
  return err.category() == caf::atom("actio") ? err.code() : 0;
}

/// Descriptors of this process that refer to `path` (/proc/self/fd).
size_t fds_on(const std::string& path) {
  size_t n = 0;
  auto* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr)
    return 0;
  while (auto* entry = ::readdir(dir)) {
    std::string link = std::string{"/proc/self/fd/"} + entry->d_name;
    char target[4096];
    auto len = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (len > 0 && std::string(target, static_cast<size_t>(len)) == path)
      ++n;
  }
  ::closedir(dir);
  return n;
}

/// Every answer one request got, recorded from the actor that sent it.
struct answers {
  std::atomic<bool> accepted{false}; ///< the service has taken the request
  std::atomic<int> count{0};
  std::atomic<uint64_t> file{0};
  std::atomic<uint8_t> code{0};
  std::mutex mtx;
  std::string text;  ///< the error, rendered
  byte_buffer bytes; ///< a read's data
};

class file_blocking_test : public test::backend_test {
protected:
  /// Whether an open of a FIFO for reading waits for a writer. io_uring's
  /// openat tries a non-blocking open first (O_NONBLOCK added, then taken
  /// off the file again), which opens a FIFO's read end at once: on `uring`
  /// the open completes without a writer (seen on Linux 6.18).
  bool waits_for_writer() const {
    return GetParam() != "uring";
  }

  void SetUp() override {
    test::backend_test::SetUp();
    dir_ = fs::temp_directory_path()
           / ("actio-file-blocking-" + std::to_string(::getpid()) + "-"
              + GetParam());
    fs::create_directories(dir_);
    fifo_ = (dir_ / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
    files_ = io::spawn_file_service(rt());
  }

  void TearDown() override {
    // Release any helper thread still blocked on the FIFO (the test failed
    // before it opened the other end): a reader blocked in open counts.
    int w = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK);
    for (auto a : actors_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    actors_.clear();
    files_ = nullptr;
    test::backend_test::TearDown();
    if (w >= 0)
      ::close(w);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const {
    return (dir_ / name).string();
  }

  template <class T, class... Ts>
  caf::expected<T> call(Ts&&... xs) {
    caf::scoped_actor self{sys()};
    caf::expected<T> result = caf::make_error(caf::sec::request_timeout);
    self->request(files_, 60s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::error call_void(caf::message msg) {
    caf::scoped_actor self{sys()};
    caf::error result = caf::make_error(caf::sec::request_timeout);
    self->request(files_, 60s, std::move(msg))
      .receive([&]() { result = caf::none; },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Sends `(open_atom, path, flags, 0)` from an actor of its own that
  /// records every answer in the result. `accepted` turns true once the
  /// service handled the open (handed it to the driver): messages of one
  /// sender arrive in order, so the answer to a cancel of an unknown tag
  /// sent right after it says so.
  std::shared_ptr<answers> open_async(const std::string& name, int flags) {
    auto out = std::make_shared<answers>();
    auto files = files_;
    actors_.push_back(sys().spawn(
      [files, out](caf::event_based_actor* self, std::string name, int flags) {
        self
          ->request(files, caf::infinite, io::file_open_atom::value, name, flags,
                    uint32_t{0})
          .then(
            [out](uint64_t f) {
              out->file = f;
              ++out->count;
            },
            [out](caf::error& err) {
              {
                std::lock_guard<std::mutex> guard{out->mtx};
                out->text = describe(err);
              }
              out->code = code_of(err);
              ++out->count;
            });
        confirm(self, files, out);
      },
      name, flags));
    EXPECT_TRUE(test::wait_until([&] { return out->accepted.load(); }));
    return out;
  }

  /// See `open_async`.
  static void confirm(caf::event_based_actor* self, const caf::actor& files,
                      std::shared_ptr<answers> out) {
    self->request(files, caf::infinite, io::file_cancel_atom::value, ~uint64_t{0})
      .then([out](bool) { out->accepted = true; },
            [out](caf::error&) { out->accepted = true; });
  }

  /// One complete round of ordinary work on the same driver: a regular
  /// file written, read back, sized and closed.
  void regular_file_round(const std::string& name) {
    auto data = test::random_bytes(256 * 1024, 17);
    auto f = call<uint64_t>(io::file_open_atom::value, path(name),
                            int{O_RDWR | O_CREAT | O_TRUNC}, uint32_t{0644});
    ASSERT_TRUE(f) << describe(f.error());
    auto w = call<uint64_t>(io::file_write_atom::value, *f, uint64_t{0}, data);
    ASSERT_TRUE(w) << describe(w.error());
    EXPECT_EQ(*w, data.size());
    auto r = call<byte_buffer>(io::file_read_atom::value, *f, uint64_t{0},
                               uint64_t{data.size()});
    ASSERT_TRUE(r) << describe(r.error());
    EXPECT_EQ(*r, data);
    auto st = call<uint64_t>(io::file_stat_atom::value, *f);
    ASSERT_TRUE(st) << describe(st.error());
    EXPECT_EQ(*st, data.size());
    EXPECT_FALSE(call_void(caf::make_message(io::file_close_atom::value, *f)));
  }

  /// A writer for the FIFO, once a reader (also one blocked in open) is
  /// there; -1 if none came.
  int open_writer() {
    int w = -1;
    test::wait_until([&] {
      w = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK);
      return w >= 0;
    });
    return w;
  }

  fs::path dir_;
  std::string fifo_;
  caf::actor files_;
  std::vector<caf::actor> actors_;
};

// Opening a FIFO for reading waits in the kernel until a writer opens it.
// Meanwhile the same driver echoes on a socket and serves a regular file
// from start to end; then the writer comes and the open completes, once.
TEST_P(file_blocking_test, fifo_open_waits_for_a_writer_and_stalls_nothing) {
  auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, test::echo_behavior);
  ASSERT_TRUE(srv) << sys().render(srv.error());
  auto pending = open_async(fifo_, O_RDONLY);
  // Sockets on the same driver.
  int sock = test::connect_tcp(srv->port);
  ASSERT_GE(sock, 0);
  auto out = test::random_bytes(64 * 1024, 5);
  std::vector<uint8_t> in(out.size());
  ASSERT_TRUE(test::send_all(sock, out.data(), out.size()));
  ASSERT_TRUE(test::recv_exact(sock, in.data(), in.size()));
  EXPECT_EQ(in, out);
  ::close(sock);
  // Files on the same driver and file service, twice over.
  regular_file_round("a");
  regular_file_round("b");
  // Nobody opened the FIFO for writing: the open cannot have completed.
  if (waits_for_writer()) {
    EXPECT_EQ(pending->count.load(), 0) << pending->text;
  }
  int w = open_writer();
  ASSERT_GE(w, 0) << "the FIFO open never reached the kernel";
  ASSERT_TRUE(test::wait_until([&] { return pending->count.load() > 0; }));
  ASSERT_EQ(pending->code.load(), 0) << pending->text;
  auto f = pending->file.load();
  ASSERT_NE(f, 0u);
  // It is a working handle on the FIFO.
  ASSERT_EQ(::write(w, "ping", 4), 4);
  auto got = call<byte_buffer>(io::file_read_atom::value, f, stream_offset,
                               uint64_t{4});
  ASSERT_TRUE(got) << describe(got.error());
  EXPECT_EQ(std::string(got->begin(), got->end()), "ping");
  EXPECT_FALSE(call_void(caf::make_message(io::file_close_atom::value, f)));
  ::close(w);
  EXPECT_EQ(pending->count.load(), 1);
}

// The runtime shuts down while the FIFO open waits in the kernel: the open
// is answered once, with an error (errc::cancelled where a helper thread
// holds the call), and the descriptor the call gets once it returns is
// closed, not leaked.
TEST_P(file_blocking_test, shutdown_with_a_fifo_open_pending_answers_once) {
  auto pending = open_async(fifo_, O_RDONLY);
  regular_file_round("a");
  if (!waits_for_writer())
    GTEST_SKIP() << "io_uring's openat opens a FIFO without waiting";
  EXPECT_EQ(pending->count.load(), 0) << pending->text;
  rt().shutdown();
  ASSERT_TRUE(test::wait_until([&] { return pending->count.load() > 0; }));
  EXPECT_EQ(pending->file.load(), 0u) << "opened without a writer";
  EXPECT_EQ(pending->code.load(), static_cast<uint8_t>(errc::cancelled))
    << pending->text;
  RecordProperty("answer", pending->text);
  // A call still blocked in open(2) completes now and drops what it got.
  int w = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK);
  EXPECT_TRUE(test::wait_until([&] { return fds_on(fifo_) == (w >= 0 ? 1u : 0u); }))
    << fds_on(fifo_) << " descriptors on the FIFO";
  if (w >= 0)
    ::close(w);
  EXPECT_EQ(pending->count.load(), 1);
}

// A tagged read of an empty FIFO waits; a cancel answers it with
// errc::cancelled, exactly once, and data written afterwards does not
// reach it. A read already inside read(2) on a helper thread or in glibc's
// AIO thread cannot be taken back (it completes with its data), so 8 untagged
// reads of the same FIFO go first: they hold every worker of epoll's file
// pool (2) and every descriptor glibc's AIO runs on (4), and the tagged read
// waits behind them on every backend (io_uring takes it back from the
// kernel anyway). The data written afterwards completes the 8, each once.
TEST_P(file_blocking_test, cancelled_fifo_read_is_answered_once) {
  auto f = call<uint64_t>(io::file_open_atom::value, fifo_, int{O_RDWR},
                          uint32_t{0});
  ASSERT_TRUE(f) << describe(f.error());
  constexpr int blockers = 8;
  auto out = std::make_shared<answers>();
  auto held = std::make_shared<std::atomic<int>>(0);
  auto found = std::make_shared<std::atomic<int>>(-1);
  auto files = files_;
  // The tag is the sender's: the same actor reads and cancels.
  actors_.push_back(sys().spawn(
    [files, out, held, found](caf::event_based_actor* self, uint64_t file) {
      for (int i = 0; i < blockers; ++i)
        self
          ->request(files, caf::infinite, io::file_read_atom::value, file,
                    stream_offset, uint64_t{1})
          .then([held](byte_buffer& b) { held->fetch_add(b.size() == 1 ? 1 : 100); },
                [held](caf::error&) { held->fetch_add(100); });
      self
        ->request(files, caf::infinite, io::file_read_atom::value, file,
                  stream_offset, uint64_t{16}, uint64_t{7})
        .then(
          [out](byte_buffer& bytes) {
            {
              std::lock_guard<std::mutex> guard{out->mtx};
              out->bytes = std::move(bytes);
            }
            ++out->count;
          },
          [out](caf::error& err) {
            {
              std::lock_guard<std::mutex> guard{out->mtx};
              out->text = describe(err);
            }
            out->code = code_of(err);
            ++out->count;
          });
      self->request(files, caf::infinite, io::file_cancel_atom::value, uint64_t{7})
        .then([found](bool x) { *found = x ? 1 : 0; },
              [found](caf::error&) { *found = 2; });
    },
    *f));
  ASSERT_TRUE(test::wait_until([&] { return found->load() >= 0; }));
  EXPECT_EQ(found->load(), 1);
  // Answered before any data exists: cancelled, nothing else.
  ASSERT_TRUE(test::wait_until([&] { return out->count.load() > 0; }));
  {
    std::lock_guard<std::mutex> guard{out->mtx};
    EXPECT_EQ(out->code.load(), static_cast<uint8_t>(errc::cancelled))
      << out->text << " / " << out->bytes.size() << " bytes";
    EXPECT_NE(out->text.find("cancelled"), std::string::npos) << out->text;
  }
  EXPECT_EQ(held->load(), 0);
  int w = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(w, 0);
  std::string bytes(blockers, 'x');
  ASSERT_EQ(::write(w, bytes.data(), bytes.size()), blockers);
  EXPECT_TRUE(test::wait_until([&] { return held->load() == blockers; }))
    << held->load();
  EXPECT_FALSE(call_void(caf::make_message(io::file_close_atom::value, *f)));
  ::close(w);
  EXPECT_EQ(out->count.load(), 1);
  EXPECT_EQ(held->load(), blockers);
}

// The runtime shuts down while a read of an empty FIFO waits in the kernel
// and a close of that file waits for the read. io_uring cancels the read; a
// helper thread's read(2) and a running POSIX AIO request cannot be taken
// back: the read is answered (errc::cancelled) and left running, the close
// is answered without closing the descriptor under it, and once data
// arrives the call ends and whatever it held (the aio backend's parked
// aiocb, buffer and descriptor) is let go.
TEST_P(file_blocking_test, shutdown_with_a_fifo_read_pending_answers_once) {
  auto f = call<uint64_t>(io::file_open_atom::value, fifo_, int{O_RDWR},
                          uint32_t{0});
  ASSERT_TRUE(f) << describe(f.error());
  auto out = std::make_shared<answers>();
  auto closed = std::make_shared<answers>();
  auto files = files_;
  actors_.push_back(sys().spawn(
    [files, out, closed](caf::event_based_actor* self, uint64_t file) {
      self
        ->request(files, caf::infinite, io::file_read_atom::value, file,
                  stream_offset, uint64_t{16})
        .then(
          [out](byte_buffer& bytes) {
            {
              std::lock_guard<std::mutex> guard{out->mtx};
              out->bytes = std::move(bytes);
            }
            ++out->count;
          },
          [out](caf::error& err) {
            {
              std::lock_guard<std::mutex> guard{out->mtx};
              out->text = describe(err);
            }
            out->code = code_of(err);
            ++out->count;
          });
      self->request(files, caf::infinite, io::file_close_atom::value, file)
        .then([closed]() { ++closed->count; },
              [closed](caf::error& err) {
                {
                  std::lock_guard<std::mutex> guard{closed->mtx};
                  closed->text = describe(err);
                }
                closed->code = code_of(err);
                ++closed->count;
              });
      confirm(self, files, out);
    },
    *f));
  ASSERT_TRUE(test::wait_until([&] { return out->accepted.load(); }));
  EXPECT_EQ(out->count.load(), 0);
  EXPECT_EQ(closed->count.load(), 0); // waits for the read
  rt().shutdown();
  ASSERT_TRUE(test::wait_until([&] { return out->count.load() > 0; }));
  EXPECT_EQ(out->code.load(), static_cast<uint8_t>(errc::cancelled))
    << out->text;
  ASSERT_TRUE(test::wait_until([&] { return closed->count.load() > 0; }));
  EXPECT_EQ(closed->code.load(), 0) << closed->text;
  // Wake whatever still sits in read(2); then no descriptor on the FIFO is
  // left but ours.
  int w = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK);
  if (w >= 0) {
    ASSERT_EQ(::write(w, "x", 1), 1);
  }
  EXPECT_TRUE(test::wait_until([&] { return fds_on(fifo_) == (w >= 0 ? 1u : 0u); }))
    << fds_on(fifo_) << " descriptors on the FIFO";
  if (w >= 0)
    ::close(w);
  EXPECT_EQ(out->count.load(), 1);
  EXPECT_EQ(closed->count.load(), 1);
}

ACTIO_TEST_ALL_BACKENDS(file_blocking_test);

} // namespace
