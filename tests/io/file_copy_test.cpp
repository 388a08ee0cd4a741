// copy_range through the file service, on every backend: copy_file_range on
// helper threads with its read/write fallback, real files (also across file
// systems), the errors it meets, and close and shutdown while it runs.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/file_copy.hpp"
#include "actio/io/file_service.hpp"
#include "support/file_fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

class file_copy_test : public test::file_service_test {
protected:
  file_copy_test() : file_service_test("file-copy-test") {
  }

  caf::error close(uint64_t f) {
    return call_void(caf::make_message(io::file_close_atom::value, f));
  }

  uint64_t open(const std::string& file, int flags) {
    auto f = call<uint64_t>(io::file_open_atom::value, file, flags, uint32_t{0644});
    EXPECT_TRUE(f) << describe(f.error());
    return f ? *f : 0;
  }

  caf::expected<uint64_t> copy(uint64_t in, uint64_t in_off, uint64_t out,
                               uint64_t out_off, uint64_t len) {
    return call<uint64_t>(io::file_copy_atom::value, in, in_off, out, out_off, len);
  }

  static void write_file(const std::string& file, const std::vector<uint8_t>& data) {
    std::ofstream out{file, std::ios::binary};
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
  }

  static std::vector<uint8_t> read_file(const std::string& file) {
    std::ifstream in{file, std::ios::binary};
    return {std::istreambuf_iterator<char>{in}, {}};
  }
};

uint8_t code_of(const caf::error& err) {
  return err.category() == caf::atom("actio") ? err.code() : 0;
}

TEST_P(file_copy_test, copies_ranges_byte_exact_and_short_only_at_the_end) {
  constexpr size_t size = 3 * 1024 * 1024 + 7;
  auto data = test::random_bytes(size, 31);
  write_file(path("src"), data);
  auto in = open(path("src"), O_RDONLY);
  auto out = open(path("dst"), O_RDWR | O_CREAT | O_TRUNC);
  // The middle of SRC to the start of DST.
  auto n = copy(in, 1000, out, 0, 2 * 1024 * 1024);
  ASSERT_TRUE(n) << describe(n.error());
  EXPECT_EQ(*n, 2u * 1024 * 1024);
  // The rest, past SRC's end: short, to the byte.
  n = copy(in, 1000 + 2 * 1024 * 1024, out, 2 * 1024 * 1024, 4 * 1024 * 1024);
  ASSERT_TRUE(n) << describe(n.error());
  EXPECT_EQ(*n, size - 1000 - 2 * 1024 * 1024);
  // At and after the end: nothing; an empty range: nothing.
  n = copy(in, size, out, 0, 4096);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  n = copy(in, size + 10, out, 0, 4096);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  n = copy(in, 0, out, 0, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(close(in));
  EXPECT_FALSE(close(out));
  auto got = read_file(path("dst"));
  ASSERT_EQ(got.size(), size - 1000);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + 1000));
}

TEST_P(file_copy_test, copies_in_parallel_into_one_file) {
  constexpr size_t chunk = 512 * 1024;
  constexpr size_t chunks = 16;
  auto data = test::random_bytes(chunk * chunks, 32);
  write_file(path("src"), data);
  auto in = open(path("src"), O_RDONLY);
  auto out = open(path("dst"), O_WRONLY | O_CREAT | O_TRUNC);
  caf::scoped_actor self{sys()};
  std::vector<decltype(self->request(files_, 60s, io::file_stat_atom::value, in))> all;
  for (size_t i = chunks; i-- > 0;) // last first: DST grows out of order
    all.push_back(self->request(files_, 60s, io::file_copy_atom::value, in,
                                uint64_t{i * chunk}, out, uint64_t{i * chunk},
                                uint64_t{chunk}));
  for (auto& h : all)
    h.receive([&](uint64_t n) { EXPECT_EQ(n, chunk); },
              [&](caf::error& err) { ADD_FAILURE() << describe(err); });
  EXPECT_FALSE(close(in));
  EXPECT_FALSE(close(out));
  EXPECT_EQ(read_file(path("dst")), data);
}

TEST_P(file_copy_test, copies_across_file_systems) {
  // /dev/shm (tmpfs) to the scratch directory (another file system here):
  // copy_file_range may refuse (EXDEV); the fallback copies.
  std::error_code ec;
  if (!fs::is_directory("/dev/shm", ec))
    GTEST_SKIP() << "no /dev/shm";
  auto shm = "/dev/shm/actio-copy-test-" + std::to_string(::getpid()) + GetParam();
  struct remove_file {
    std::string name;
    ~remove_file() {
      ::unlink(name.c_str());
    }
  } guard{shm};
  auto data = test::random_bytes(1024 * 1024 + 3, 33);
  write_file(shm, data);
  auto in = open(shm, O_RDONLY);
  auto out = open(path("dst"), O_WRONLY | O_CREAT | O_TRUNC);
  auto n = copy(in, 0, out, 0, 8 * 1024 * 1024);
  ASSERT_TRUE(n) << describe(n.error());
  EXPECT_EQ(*n, data.size());
  EXPECT_FALSE(close(in));
  EXPECT_FALSE(close(out));
  EXPECT_EQ(read_file(path("dst")), data);
}

TEST_P(file_copy_test, closed_files_and_read_only_targets_are_typed_errors) {
  write_file(path("src"), test::random_bytes(4096, 34));
  auto in = open(path("src"), O_RDONLY);
  auto ro = open(path("src"), O_RDONLY);
  // Into a file opened read-only: the OS error, naming both paths.
  auto n = copy(in, 0, ro, 0, 4096);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().category(), caf::atom("actio")) << describe(n.error());
  auto text = describe(n.error());
  EXPECT_NE(text.find("copy_range " + path("src") + " -> " + path("src")),
            std::string::npos)
    << text;
  // A closed and a never-opened id on either side.
  EXPECT_FALSE(close(ro));
  n = copy(in, 0, ro, 0, 4096);
  ASSERT_FALSE(n);
  EXPECT_EQ(code_of(n.error()), static_cast<uint8_t>(errc::closed))
    << describe(n.error());
  n = copy(uint64_t{123456789}, 0, in, 0, 4096);
  ASSERT_FALSE(n);
  EXPECT_EQ(code_of(n.error()), static_cast<uint8_t>(errc::closed))
    << describe(n.error());
  // The service goes on.
  auto size = call<uint64_t>(io::file_stat_atom::value, in);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 4096u);
  EXPECT_FALSE(close(in));
}

TEST_P(file_copy_test, closing_both_files_while_copying_is_safe) {
  constexpr size_t size = 8 * 1024 * 1024;
  auto data = test::random_bytes(size, 35);
  write_file(path("src"), data);
  auto before = test::count_fds();
  auto in = open(path("src"), O_RDONLY);
  auto out = open(path("dst"), O_WRONLY | O_CREAT | O_TRUNC);
  caf::scoped_actor self{sys()};
  // The copy, then both closes, in one go: the closes may well come first.
  auto copying = self->request(files_, 60s, io::file_copy_atom::value, in,
                               uint64_t{0}, out, uint64_t{0}, uint64_t{size});
  auto closing_in = self->request(files_, 60s, io::file_close_atom::value, in);
  auto closing_out = self->request(files_, 60s, io::file_close_atom::value, out);
  copying.receive([&](uint64_t n) { EXPECT_EQ(n, size); },
                  [&](caf::error& err) { ADD_FAILURE() << describe(err); });
  closing_in.receive([] {}, [&](caf::error& err) { ADD_FAILURE() << describe(err); });
  closing_out.receive([] {}, [&](caf::error& err) { ADD_FAILURE() << describe(err); });
  // The copy kept descriptors of its own: all of DST arrived, and every
  // descriptor is gone once the copy answered.
  EXPECT_EQ(read_file(path("dst")), data);
  EXPECT_TRUE(test::wait_until([&] { return test::count_fds() == before; }))
    << test::count_fds() << " descriptors, " << before << " before";
}

TEST_P(file_copy_test, service_exit_answers_every_copy_once) {
  constexpr size_t size = 4 * 1024 * 1024;
  write_file(path("src"), test::random_bytes(size, 36));
  auto in = open(path("src"), O_RDONLY);
  auto out = open(path("dst"), O_WRONLY | O_CREAT | O_TRUNC);
  struct tally {
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
  };
  auto t = std::make_shared<tally>();
  constexpr int n = 32;
  auto files = files_;
  // (An argument besides `self`: CAF 0.17 dereferences a null tuple for a
  // function actor without one, which UBSan reports.)
  sys().spawn([=](caf::event_based_actor* self, int count) {
    for (int i = 0; i < count; ++i)
      self->request(files, caf::infinite, io::file_copy_atom::value, in,
                    uint64_t{0}, out, uint64_t{0}, uint64_t{size})
        .then([=](uint64_t) { ++t->ok; }, [=](caf::error&) { ++t->failed; });
    // Right behind them: the service stops with copies queued and running.
    self->send_exit(files, caf::exit_reason::user_shutdown);
  }, n);
  ASSERT_TRUE(test::wait_until([&] { return t->ok + t->failed == n; }))
    << "ok " << t->ok << ", failed " << t->failed;
  RecordProperty("copies_cancelled", t->failed.load());
}

TEST(file_copy_bytes, falls_back_for_files_copy_file_range_refuses) {
  // /proc files report size 0: copy_file_range copies nothing; the fallback
  // reads them to their end.
  int in = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(in, 0);
  auto out_path = fs::temp_directory_path()
                  / ("actio-copy-bytes-" + std::to_string(::getpid()));
  int out = ::open(out_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(out, 0);
  int err = -1;
  bool kernel = true;
  auto n = io::copy_file_bytes(in, 0, out, 0, 1 << 20, err, &kernel);
  EXPECT_EQ(err, 0);
  EXPECT_GT(n, 0u);
  EXPECT_FALSE(kernel);
  EXPECT_EQ(fs::file_size(out_path), n);
  // A regular file to a regular file on one file system: in the kernel.
  n = io::copy_file_bytes(out, 0, out, n, n, err, &kernel);
  EXPECT_EQ(err, 0);
  EXPECT_GT(n, 0u);
  // Errors: a bad descriptor is reported, not crashed on.
  n = io::copy_file_bytes(-1, 0, out, 0, 10, err, &kernel);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(err, EBADF);
  ::close(in);
  ::close(out);
  fs::remove(out_path);
}

} // namespace

ACTIO_TEST_ALL_BACKENDS(file_copy_test);
