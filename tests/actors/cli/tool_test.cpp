// actio::cli: the messages, exit statuses and stdout check every tool
// shares (cli/tool.hpp, cli/values.hpp).

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <gtest/gtest.h>

#include "actio/actors/cli/tool.hpp"
#include "actio/actors/cli/values.hpp"

using namespace actio;

namespace {

const cli::tool tool{"actio-demo", "SRC DST", "Demonstrate things."};

TEST(cli_tool, version_is_the_project_version) {
  EXPECT_EQ(cli::version(), ACTIO_PROJECT_VERSION);
}

TEST(cli_tool, usage_line_names_the_operands) {
  EXPECT_EQ(tool.usage_line(), "Usage: actio-demo [OPTION]... SRC DST");
  EXPECT_EQ(cli::tool("actio-x", "", "").usage_line(),
            "Usage: actio-x [OPTION]...");
}

TEST(cli_tool, help_is_usage_summary_options_on_stdout) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(tool.print_help(cli::option_line("--depth=N", "reads in flight")),
            cli::exit_success);
  auto out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out.substr(0, out.find("  -h")),
            "Usage: actio-demo [OPTION]... SRC DST\n"
            "Demonstrate things.\n"
            "\n"
            "Options:\n"
            "  --depth=N                   reads in flight\n");
  EXPECT_NE(out.find("  --version                   print the version"),
            std::string::npos) << out;
}

TEST(cli_tool, version_line) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(tool.print_version(), 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            "actio-demo (Actio) " ACTIO_PROJECT_VERSION "\n");
}

std::string usage_error_of(int (*call)(const cli::tool&)) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(call(tool), cli::exit_usage);
  return testing::internal::GetCapturedStderr();
}

const std::string try_line =
  "Try 'actio-demo --help' for more information.\n";

TEST(cli_tool, usage_errors_are_one_line_and_the_try_line_exit_2) {
  EXPECT_EQ(usage_error_of([](const cli::tool& t) {
              return t.unrecognized_option("--bogus=1");
            }),
            "actio-demo: unrecognized option '--bogus=1'\n" + try_line);
  EXPECT_EQ(usage_error_of([](const cli::tool& t) {
              return t.unrecognized_option("-q");
            }),
            "actio-demo: invalid option -- 'q'\n" + try_line);
  EXPECT_EQ(usage_error_of([](const cli::tool& t) {
              return t.missing_argument("--port");
            }),
            "actio-demo: option '--port' requires an argument\n" + try_line);
  EXPECT_EQ(usage_error_of([](const cli::tool& t) {
              return t.bad_value("--port", "abc", cli::port_expected);
            }),
            "actio-demo: --port: 'abc' is not a port number (0-65535)\n"
              + try_line);
}

TEST(cli_tool, operands_are_counted_coreutils_style) {
  std::vector<std::string> names{"file", "destination file"};
  EXPECT_FALSE(tool.check_operands({"a", "b"}, names));
  testing::internal::CaptureStderr();
  EXPECT_EQ(tool.check_operands({}, names), std::optional<int>{2});
  EXPECT_EQ(tool.check_operands({"a"}, names), std::optional<int>{2});
  EXPECT_EQ(tool.check_operands({"a", "b", "c"}, names), std::optional<int>{2});
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "actio-demo: missing file operand\n" + try_line
              + "actio-demo: missing destination file operand after 'a'\n"
              + try_line + "actio-demo: extra operand 'c'\n" + try_line);
}

TEST(cli_tool, failure_is_one_line_exit_1) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(tool.fail("SRC: not_found"), cli::exit_failure);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "actio-demo: SRC: not_found\n");
}

TEST(cli_tool, long_option_names_wrap_the_text_to_the_next_line) {
  EXPECT_EQ(cli::option_line("--a-very-long-option-name=VALUE", "text"),
            "  --a-very-long-option-name=VALUE\n"
            "                              text\n");
}

// stdout is pointed at /dev/full for the check, then restored.
TEST(cli_tool, check_stdout_reports_a_write_error) {
  std::fflush(stdout);
  int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  int full = ::open("/dev/full", O_WRONLY);
  ASSERT_GE(full, 0);
  ::dup2(full, STDOUT_FILENO);
  ::close(full);
  std::cout << "lost\n";
  testing::internal::CaptureStderr();
  bool ok = cli::check_stdout("actio-demo");
  auto err = testing::internal::GetCapturedStderr();
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::clearerr(stdout);
  std::cout.clear();
  EXPECT_FALSE(ok);
  EXPECT_EQ(err, "actio-demo: write error: No space left on device\n");
  EXPECT_TRUE(cli::check_stdout("actio-demo"));
}

TEST(cli_values, integers_are_whole_and_in_range) {
  EXPECT_EQ(cli::parse_integer("42", 1, 100), 42);
  EXPECT_EQ(cli::parse_integer("-3", -5, 5), -3);
  EXPECT_FALSE(cli::parse_integer("", 0, 100));
  EXPECT_FALSE(cli::parse_integer("4x", 0, 100));
  EXPECT_FALSE(cli::parse_integer(" 4", 0, 100));
  EXPECT_FALSE(cli::parse_integer("101", 0, 100));
  EXPECT_FALSE(cli::parse_integer("99999999999999999999", 0, 100));
  EXPECT_EQ(cli::parse_port("65535"), uint16_t{65535});
  EXPECT_FALSE(cli::parse_port("65536"));
  EXPECT_FALSE(cli::parse_port("-1"));
  EXPECT_EQ(cli::integer_range(1, 4096), "an integer (1-4096)");
}

TEST(cli_values, numbers_are_finite_and_in_range) {
  EXPECT_EQ(cli::parse_number("0.5", 0, 1), 0.5);
  EXPECT_FALSE(cli::parse_number("nan", 0, 1));
  EXPECT_FALSE(cli::parse_number("inf", 0, 1e300));
  EXPECT_FALSE(cli::parse_number("1.5s", 0, 10));
  EXPECT_FALSE(cli::parse_number("11", 0, 10));
  EXPECT_EQ(cli::number_range(0.1, 3600, "seconds"),
            "a number of seconds (0.1-3600)");
}

} // namespace
