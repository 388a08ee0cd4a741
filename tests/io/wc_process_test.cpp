// actio-wc against GNU wc (C locale) on generated corpora with the edge
// cases (empty, no trailing newline, only newlines, CRLF, very long lines,
// every byte value), several flag sets, standard input and missing files.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "actio/drivers/select.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

const std::string wc_bin = ACTIO_WC_BIN;

class wc_process_test : public ::testing::TestWithParam<std::string> {
protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("actio-wc-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto put = [](const std::string& name, const std::string& data) {
      std::ofstream{dir_ / name, std::ios::binary} << data;
    };
    put("empty", "");
    put("no_newline", "one two three");
    put("only_newlines", std::string(1000, '\n'));
    put("crlf", "a b\r\nc d e\r\n\r\nlast\r\n");
    put("long_line", std::string(3 * 1024 * 1024, 'x') + "\n" + std::string(70000, 'y'));
    std::string all;
    for (int i = 0; i < 256 * 8; ++i)
      all += static_cast<char>(i % 256);
    put("all_bytes", all);
    std::mt19937 gen{9};
    std::string text;
    for (int i = 0; i < 2'000'000; ++i) {
      auto r = gen() % 100;
      text += r < 70 ? static_cast<char>('a' + r % 26)
              : r < 85 ? ' '
              : r < 90 ? '\n'
              : r < 93 ? '\t'
              : static_cast<char>(gen()); // any byte
    }
    put("mixed", text);
    // Sizes around the file source's chunk (128 KiB) and multiples of it,
    // for the -l / -c fast path: newline last, or a partial last line.
    for (size_t size : {size_t{128 * 1024}, size_t{128 * 1024 + 1},
                        size_t{1024 * 1024 - 1}, size_t{1024 * 1024 + 33}}) {
      std::string body;
      for (size_t i = 0; body.size() < size; ++i) {
        body.append(i % 151, static_cast<char>('a' + i % 26));
        body.append(i % 5 != 0 ? "\n" : "\r\n");
      }
      body.resize(size);
      body.back() = size % 2 == 0 ? '\n' : 'z';
      put("size_" + std::to_string(size), body);
    }
    fs::create_directories(dir_ / "a_directory");
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  /// Runs a shell command in the corpus directory; returns its combined
  /// output with "actio-wc:" spelled "wc:", plus the exit status.
  static std::string run(const std::string& cmd) {
    auto script = "cd '" + dir_.string() + "' && { " + cmd
                  + "; } 2>&1 | sed 's/^actio-wc:/wc:/'; echo \"rc=${PIPESTATUS[0]}\"";
    auto child = test::spawn_process("/bin/bash", {"-c", script});
    auto out = child.read_all(120s);
    child.stop(0, 60s);
    return out;
  }

  void expect_same(const std::string& args) {
    auto mine = run(wc_bin + " --backend=" + GetParam() + " " + args);
    auto gnu = run("LC_ALL=C wc " + args);
    EXPECT_EQ(mine, gnu) << "args: " << args;
  }

  void expect_same_stdin(const std::string& feed, const std::string& args) {
    auto mine = run(feed + " | " + wc_bin + " --backend=" + GetParam() + " " + args);
    auto gnu = run(feed + " | LC_ALL=C wc " + args);
    EXPECT_EQ(mine, gnu) << "feed: " << feed << ", args: " << args;
  }

  static fs::path dir_;
};

fs::path wc_process_test::dir_;

const char* corpora[] = {"empty", "no_newline", "only_newlines", "crlf",
                         "long_line", "all_bytes", "mixed"};

TEST_P(wc_process_test, each_corpus_alone_matches_gnu_wc) {
  for (auto* file : corpora)
    for (auto* flags : {"", "-l", "-w", "-c", "-lw", "-wc", "-lc"})
      expect_same(std::string{flags} + " " + file);
}

TEST_P(wc_process_test, line_and_byte_fast_path_at_chunk_boundaries_matches_gnu_wc) {
  const char* sized = " size_131072 size_131073 size_1048575 size_1048609";
  for (auto* flags : {"-l", "-c", "-lc", "-cl", "-lw", ""}) {
    expect_same(std::string{flags} + sized);
    expect_same(std::string{flags} + " size_131073");
    expect_same(std::string{flags} + " empty no_newline only_newlines");
  }
  expect_same_stdin("cat size_1048609", "-l");
  expect_same_stdin("cat size_131072 no_newline", "-lc");
}

TEST_P(wc_process_test, several_files_with_total_match_gnu_wc) {
  std::string all;
  for (auto* file : corpora)
    all += std::string{" "} + file;
  for (auto* flags : {"", "-l", "-w", "-c", "-lwc"})
    expect_same(std::string{flags} + all);
}

TEST_P(wc_process_test, standard_input_matches_gnu_wc) {
  expect_same_stdin("cat mixed", "");
  expect_same_stdin("cat crlf", "-l");
  expect_same_stdin("printf 'x y\\nz'", "-w");
  expect_same_stdin("cat empty", "");
  expect_same("- < mixed");
  expect_same("< long_line");
}

TEST_P(wc_process_test, missing_file_and_directory_are_reported_others_counted) {
  expect_same("mixed no_such_file crlf");
  expect_same("-l no_such_file");
  expect_same("a_directory crlf");
}

INSTANTIATE_TEST_SUITE_P(backends, wc_process_test,
                         ::testing::ValuesIn(actio::available_backends()),
                         [](const auto& info) { return info.param; });

} // namespace
