// actio-copy as a user runs it: real files, real child processes, and the
// errors a copy meets (missing source, directory target, file size limit).

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "actio/drivers/driver.hpp"
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
    std::ifstream in{path(name), std::ios::binary};
    return {std::istreambuf_iterator<char>{in}, {}};
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

TEST_P(copy_process_test, directory_target_fails_clearly) {
  write_file("src", test::random_bytes(1000, 1));
  auto [status, out] = run({path("src"), dir_.string()});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find("Is a directory"), std::string::npos) << out;
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
}

INSTANTIATE_TEST_SUITE_P(backends, copy_process_test,
                         ::testing::ValuesIn(actio::available_backends()),
                         [](const auto& info) { return info.param; });

} // namespace
