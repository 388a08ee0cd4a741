// actio-copy as a user runs it: real files, FIFOs, devices and /proc files,
// real child processes; what cp refuses (same file, directory source), what
// it does (copy into a directory, source's mode bits, read to the end) and
// the errors a copy meets (missing source, file size limit, no space).

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "actio/drivers/select.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

const std::string copy_bin = ACTIO_COPY_BIN;

class copy_process_test : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path()
           / ("actio-copy-test-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::create_directories(dir_);
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const {
    return (dir_ / name).string();
  }

  /// Runs actio-copy; returns (wait status, combined output).
  std::pair<int, std::string> run(std::vector<std::string> args,
                                   test::spawn_options opts = {}) {
    args.push_back("--backend=" + GetParam());
    opts.merge_stderr = true;
    auto child = test::spawn_process(copy_bin, args, opts);
    auto out = child.read_all(120s);
    return {child.stop(0, 60s), out};
  }

  void write_file(const std::string& name, const std::vector<uint8_t>& data) {
    std::ofstream out{path(name), std::ios::binary};
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
  }

  std::vector<uint8_t> read_file(const std::string& name) {
    return read_path(path(name));
  }

  static std::vector<uint8_t> read_path(const std::string& file) {
    std::ifstream in{file, std::ios::binary};
    return {std::istreambuf_iterator<char>{in}, {}};
  }

  static unsigned mode_of(const std::string& file) {
    struct stat st {};
    return ::stat(file.c_str(), &st) == 0 ? st.st_mode & 07777 : ~0u;
  }

  /// N of "; N bytes written" in an error message; -1 if absent.
  static uintmax_t bytes_written(const std::string& out) {
    auto end = out.find(" bytes written");
    auto start = out.rfind("; ", end);
    if (end == std::string::npos || start == std::string::npos)
      return static_cast<uintmax_t>(-1);
    return std::stoull(out.substr(start + 2, end - start - 2));
  }

  /// Expects exit status 1, `text` in the output and SRC unchanged.
  void expect_refused(std::pair<int, std::string> result,
                      const std::string& text,
                      const std::vector<uint8_t>& src_data) {
    auto& [status, out] = result;
    ASSERT_TRUE(WIFEXITED(status)) << out;
    EXPECT_EQ(WEXITSTATUS(status), 1) << out;
    EXPECT_NE(out.find(text), std::string::npos) << out;
    EXPECT_EQ(read_file("src"), src_data);
  }

  fs::path dir_;
};

TEST_P(copy_process_test, copies_byte_exact_with_a_summary_line) {
  // Not a multiple of the chunk size, so the last chunk is short.
  auto data = test::random_bytes(5 * 1024 * 1024 + 123, 17);
  write_file("src", data);
  auto [status, out] = run({path("src"), path("dst"), "--chunk=65536",
                            "--depth=4"});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(read_file("dst"), data);
  EXPECT_NE(out.find("copied " + std::to_string(data.size()) + " bytes"),
            std::string::npos)
    << out;
  EXPECT_NE(out.find("via " + GetParam()), std::string::npos) << out;
}

TEST_P(copy_process_test, empty_file_copies) {
  write_file("empty", {});
  auto [status, out] = run({path("empty"), path("dst")});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_TRUE(fs::exists(path("dst")));
  EXPECT_EQ(fs::file_size(path("dst")), 0u);
}

TEST_P(copy_process_test, missing_source_fails_clearly) {
  auto [status, out] = run({path("nope"), path("dst")});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find("open " + path("nope") + ": No such file or directory"),
            std::string::npos)
    << out;
}

TEST_P(copy_process_test, directory_target_gets_a_copy_inside) {
  // cp SRC DIR writes DIR/SRC's name.
  auto data = test::random_bytes(300 * 1000, 1);
  write_file("src", data);
  fs::create_directory(path("into"));
  auto [status, out] = run({path("src"), path("into")});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(read_file("into/src"), data);
}

TEST_P(copy_process_test, directory_where_the_copy_would_go_fails_clearly) {
  write_file("src", test::random_bytes(1000, 1));
  fs::create_directories(path("into/src"));
  auto [status, out] = run({path("src"), path("into")});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find("Is a directory"), std::string::npos) << out;
  EXPECT_TRUE(fs::is_directory(path("into/src")));
}

TEST_P(copy_process_test, directory_source_is_refused_and_nothing_created) {
  fs::create_directory(path("tree"));
  auto [status, out] = run({path("tree"), path("dst")});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(path("dst")));
}

// -- the same file: refused before DST is opened, SRC intact ------------------

TEST_P(copy_process_test, same_path_is_refused) {
  auto data = test::random_bytes(100 * 1000, 3);
  write_file("src", data);
  auto quoted = std::string{"'"} + path("src") + "'";
  expect_refused(run({path("src"), path("src")}),
                 quoted + " and " + quoted + " are the same file", data);
}

TEST_P(copy_process_test, hard_link_to_the_source_is_refused) {
  auto data = test::random_bytes(100 * 1000, 4);
  write_file("src", data);
  fs::create_hard_link(path("src"), path("link"));
  expect_refused(run({path("src"), path("link")}), "are the same file", data);
  expect_refused(run({path("link"), path("src")}), "are the same file", data);
}

TEST_P(copy_process_test, symlink_to_the_source_is_refused_either_way) {
  auto data = test::random_bytes(100 * 1000, 5);
  write_file("src", data);
  fs::create_symlink(path("src"), path("sym"));
  expect_refused(run({path("src"), path("sym")}), "are the same file", data);
  expect_refused(run({path("sym"), path("src")}), "are the same file", data);
  EXPECT_TRUE(fs::is_symlink(path("sym")));
}

TEST_P(copy_process_test, directory_holding_the_source_is_refused) {
  // actio-copy DIR/src DIR would write DIR/src: the source itself.
  auto data = test::random_bytes(100 * 1000, 6);
  write_file("src", data);
  expect_refused(run({path("src"), dir_.string()}), "are the same file", data);
}

TEST_P(copy_process_test, dangling_symlink_target_is_not_written_through) {
  write_file("src", test::random_bytes(1000, 7));
  fs::create_symlink(path("elsewhere"), path("dangling"));
  auto [status, out] = run({path("src"), path("dangling")});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("dangling symlink"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(path("elsewhere")));
}

// -- sources of unknown size: read to their end -------------------------------

TEST_P(copy_process_test, fifo_is_read_to_its_end) {
  auto fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  // Several chunks, the last short, written in pieces smaller than a chunk.
  auto data = test::random_bytes(3 * 65536 + 777, 8);
  std::string writer_error;
  std::thread writer{[&] {
    // Polls for the reader (ENXIO until actio-copy opened the FIFO), then
    // writes and closes: the reader's EOF.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    int fd = -1;
    while ((fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
      if (errno != ENXIO || std::chrono::steady_clock::now() > deadline) {
        writer_error = std::string{"open: "} + std::strerror(errno);
        return;
      }
      std::this_thread::sleep_for(5ms);
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    for (size_t off = 0; off < data.size();) {
      auto n = ::write(fd, data.data() + off,
                       std::min<size_t>(10000, data.size() - off));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        writer_error = std::string{"write: "} + std::strerror(errno);
        break;
      }
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  }};
  auto [status, out] = run({fifo, path("dst"), "--chunk=65536"});
  writer.join();
  EXPECT_EQ(writer_error, "");
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(read_file("dst"), data);
  EXPECT_NE(out.find("copied " + std::to_string(data.size()) + " bytes"),
            std::string::npos)
    << out;
}

TEST_P(copy_process_test, proc_file_is_read_to_its_end) {
  // stat says 0 bytes; the content is there all the same.
  auto expected = read_path("/proc/version");
  ASSERT_FALSE(expected.empty());
  auto [status, out] = run({"/proc/version", path("dst")});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(read_file("dst"), expected);
}

TEST_P(copy_process_test, endless_device_copies_until_the_size_limit) {
  // /dev/zero never ends: like cp, the copy goes on until DST refuses, here
  // at RLIMIT_FSIZE. Depth 1 makes the count of written bytes exact.
  auto [status, out] = run({"/dev/zero", path("dst"), "--depth=1"},
                           test::spawn_options{.fsize = 1024 * 1024});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("File too large; 1048576 bytes written, partial file "
                     "left at "
                     + path("dst")),
            std::string::npos)
    << out;
  EXPECT_EQ(read_file("dst"), std::vector<uint8_t>(1024 * 1024, 0));
}

// -- destinations -------------------------------------------------------------

TEST_P(copy_process_test, dev_null_takes_a_copy) {
  write_file("src", test::random_bytes(200 * 1000, 9));
  for (auto extra : {"--depth=8", "--sync"}) {
    auto [status, out] = run({path("src"), "/dev/null", extra});
    ASSERT_TRUE(WIFEXITED(status)) << out;
    EXPECT_EQ(WEXITSTATUS(status), 0) << extra << ": " << out;
    EXPECT_NE(out.find("copied 200000 bytes"), std::string::npos) << out;
  }
}

TEST_P(copy_process_test, sync_option_copies_byte_exact) {
  auto data = test::random_bytes(2 * 1024 * 1024 + 5, 10);
  write_file("src", data);
  auto [status, out] = run({path("src"), path("dst"), "--sync"});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(read_file("dst"), data);
}

TEST_P(copy_process_test, new_file_gets_the_source_mode_under_the_umask) {
  write_file("src", test::random_bytes(1000, 11));
  ::chmod(path("src").c_str(), 0751);
  auto [status, out] = run({path("src"), path("a")},
                           test::spawn_options{.umask = 0});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(mode_of(path("a")), 0751u);
  ::chmod(path("src").c_str(), 0777);
  std::tie(status, out) = run({path("src"), path("b")},
                              test::spawn_options{.umask = 027});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(mode_of(path("b")), 0750u);
}

TEST_P(copy_process_test, existing_destination_keeps_its_mode) {
  auto data = test::random_bytes(1000, 12);
  write_file("src", data);
  ::chmod(path("src").c_str(), 0755);
  write_file("dst", test::random_bytes(5000, 13));
  ::chmod(path("dst").c_str(), 0600);
  auto [status, out] = run({path("src"), path("dst")},
                           test::spawn_options{.umask = 0});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(read_file("dst"), data);
  EXPECT_EQ(mode_of(path("dst")), 0600u);
}

// -- no space -----------------------------------------------------------------

TEST_P(copy_process_test, full_device_says_what_was_written) {
  write_file("src", test::random_bytes(100 * 1000, 14));
  auto [status, out] = run({path("src"), "/dev/full"});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("no_space"), std::string::npos) << out;
  EXPECT_NE(out.find("No space left on device; 0 bytes written"),
            std::string::npos)
    << out;
}

TEST_P(copy_process_test, full_file_system_leaves_a_partial_file_and_says_so) {
  // A 1 MiB tmpfs (needs the right to mount; root in CI).
  auto small = path("small");
  fs::create_directory(small);
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
  struct unmount {
    std::string dir;
    ~unmount() {
      ::umount2(dir.c_str(), MNT_DETACH);
    }
  } guard{small};
  auto data = test::random_bytes(3 * 1024 * 1024, 15);
  write_file("src", data);
  auto dst = small + "/dst";
  auto [status, out] = run({path("src"), dst, "--chunk=65536"});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("No space left on device;"), std::string::npos) << out;
  EXPECT_NE(out.find("bytes written, partial file left at " + dst),
            std::string::npos)
    << out;
  ASSERT_TRUE(fs::exists(dst));
  EXPECT_EQ(fs::file_size(dst), bytes_written(out)) << out;
  EXPECT_LT(fs::file_size(dst), data.size());
}

TEST_P(copy_process_test, file_size_limit_is_an_error_not_a_signal) {
  // RLIMIT_FSIZE of 1 MiB in the child: the write past it must come back
  // as EFBIG (errc::file_too_large), not kill the process with SIGXFSZ.
  write_file("src", test::random_bytes(4 * 1024 * 1024, 2));
  auto [status, out] = run({path("src"), path("dst")},
                           test::spawn_options{.fsize = 1024 * 1024});
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                                 << ": " << out;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find("file_too_large"), std::string::npos) << out;
  EXPECT_NE(out.find("File too large"), std::string::npos) << out;
  // Reads and writes overlap: the write at 1 MiB may fail before the one at
  // 0 was sent. Whatever DST holds, the message says how much.
  EXPECT_NE(out.find("partial file left at " + path("dst")), std::string::npos)
    << out;
  EXPECT_EQ(fs::file_size(path("dst")), bytes_written(out)) << out;
  EXPECT_LE(fs::file_size(path("dst")), 1024u * 1024u);
}

INSTANTIATE_TEST_SUITE_P(backends, copy_process_test,
                         ::testing::ValuesIn(actio::available_backends()),
                         [](const auto& info) { return info.param; });

} // namespace
