// actio::log (drivers/log.hpp): levels, the line formats, the rate limit,
// configuration through actio::config, and a tool process logging to a file.

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actio/actors/config.hpp"
#include "actio/drivers/log.hpp"
#include "actio/drivers/log_limiter.hpp"
#include "support/datagram_peer.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = 0; (pos = text.find(what, pos)) != std::string::npos; ++pos)
    ++n;
  return n;
}

// A fresh directory for log files; back to stderr afterwards.
class log_test : public testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/actio-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    file = dir + "/actio.log";
  }

  void TearDown() override {
    EXPECT_EQ(log::configure({}), "");
    std::remove(file.c_str());
    rmdir(dir.c_str());
  }

  void use(log::level threshold, log::format style = log::format::text) {
    log::settings s;
    s.threshold = threshold;
    s.file = file;
    s.style = style;
    ASSERT_EQ(log::configure(s), "");
  }

  std::string dir;
  std::string file;
};

TEST_F(log_test, the_threshold_filters_lower_levels) {
  use(log::level::warn);
  EXPECT_FALSE(log::enabled(log::level::info));
  EXPECT_TRUE(log::enabled(log::level::warn));
  log::trace("test", "a trace line");
  log::debug("test", "a debug line");
  log::info("test", "an info line");
  log::warn("test", "a warn line");
  log::error("test", "an error line");
  auto text = read_file(file);
  EXPECT_EQ(text.find("trace line"), std::string::npos) << text;
  EXPECT_EQ(text.find("debug line"), std::string::npos) << text;
  EXPECT_EQ(text.find("info line"), std::string::npos) << text;
  EXPECT_NE(text.find("warn test: a warn line"), std::string::npos) << text;
  EXPECT_NE(text.find("error test: an error line"), std::string::npos) << text;
  use(log::level::off);
  log::error("test", "silenced");
  EXPECT_EQ(read_file(file).find("silenced"), std::string::npos);
  use(log::level::trace);
  log::trace("test", "now a trace line");
  EXPECT_NE(read_file(file).find("trace test: now a trace line"),
            std::string::npos);
}

TEST_F(log_test, a_text_line_has_timestamp_level_component_peer_and_message) {
  use(log::level::info);
  log::warn({"listener", "127.0.0.1:7000"}, "rejected {} connection(s) of {}",
            3, std::string{"many"});
  log::info("driver", "two\nlines {} {}", "and", "{}");
  auto lines = lines_of(read_file(file));
  ASSERT_EQ(lines.size(), 2u);
  std::regex stamp{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z )"};
  EXPECT_TRUE(std::regex_search(lines[0], stamp)) << lines[0];
  EXPECT_NE(lines[0].find("Z warn listener peer=127.0.0.1:7000: rejected 3 "
                          "connection(s) of many"),
            std::string::npos)
    << lines[0];
  // One record, one line; a "{}" in an argument stays as it is.
  EXPECT_NE(lines[1].find("Z info driver: two\\nlines and {}"),
            std::string::npos)
    << lines[1];
}

TEST_F(log_test, json_lines_parse_and_carry_the_fields) {
  use(log::level::info, log::format::json);
  log::warn({"udp-echo", "[::1]:5"}, "quote \" backslash \\ tab \t bell \a");
  log::error("driver", "plain");
  auto lines = lines_of(read_file(file));
  ASSERT_EQ(lines.size(), 2u) << read_file(file);
  // Python's json module as the reader nobody here wrote.
  std::string script =
    "import json,sys\n"
    "rs=[json.loads(l) for l in open(sys.argv[1])]\n"
    "assert rs[0]['level']=='warn', rs\n"
    "assert rs[0]['component']=='udp-echo', rs\n"
    "assert rs[0]['peer']=='[::1]:5', rs\n"
    "assert rs[0]['msg']=='quote \" backslash \\\\ tab \\t bell \\x07', rs\n"
    "assert rs[0]['ts'].endswith('Z') and len(rs[0]['ts'])==27, rs\n"
    "assert rs[1]['level']=='error' and 'peer' not in rs[1], rs\n";
  auto child = test::spawn_process("/usr/bin/python3", {"-c", script, file},
                                   test::spawn_options{.merge_stderr = true});
  auto out = child.read_all(30s);
  EXPECT_EQ(child.stop(0, 30s), 0) << out;
}

TEST_F(log_test, repeated_warnings_of_one_kind_are_rate_limited) {
  use(log::level::info);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i)
    log::warn_limited("log_test flood", {"test", "peer" + std::to_string(i)},
                      "flood {}", i);
  log::warn_limited("log_test other", "test", "another kind");
  auto windows = static_cast<size_t>((std::chrono::steady_clock::now() - start)
                                     / log_limiter::default_interval)
                 + 1;
  auto text = read_file(file);
  auto lines = count(text, ": flood ");
  EXPECT_GE(lines, log_limiter::default_burst) << text;
  EXPECT_LE(lines, log_limiter::default_burst * windows) << text;
  EXPECT_EQ(count(text, "another kind"), 1u) << text;
  // Filtered lines are not counted against the limit.
  use(log::level::error);
  log::warn_limited("log_test filtered", "test", "dropped");
  use(log::level::info);
  log::warn_limited("log_test filtered", "test", "kept");
  text = read_file(file);
  EXPECT_NE(text.find("test: kept\n"), std::string::npos) << text;
}

TEST_F(log_test, a_file_that_cannot_be_opened_changes_nothing) {
  use(log::level::debug);
  log::settings bad;
  bad.file = dir; // a directory: not a file to append to
  auto err = log::configure(bad);
  EXPECT_NE(err.find("cannot open log file"), std::string::npos) << err;
  EXPECT_EQ(log::current().file, file);
  EXPECT_EQ(log::current().threshold, log::level::debug);
  log::debug("test", "still here");
  EXPECT_NE(read_file(file).find("still here"), std::string::npos);
}

int parse_tool_args(config& cfg, std::vector<std::string> args,
                    std::string& err) {
  args.insert(args.begin(), "actio-demo");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  cli::tool tool{"actio-demo", "", "Demonstrate things."};
  testing::internal::CaptureStderr();
  auto status = cfg.parse_args(tool, static_cast<int>(argv.size()), argv.data());
  err = testing::internal::GetCapturedStderr();
  return status ? *status : -1;
}

TEST_F(log_test, config_options_set_level_file_and_format) {
  config cfg;
  std::string err;
  EXPECT_EQ(parse_tool_args(cfg,
                            {"--actio.log.level", "debug", "--actio.log.file",
                             file, "--actio.log.format=json"},
                            err),
            -1)
    << err;
  auto now = log::current();
  EXPECT_EQ(now.threshold, log::level::debug);
  EXPECT_EQ(now.file, file);
  EXPECT_EQ(now.style, log::format::json);
  log::debug("test", "configured");
  EXPECT_NE(read_file(file).find(R"("level":"debug","component":"test")"),
            std::string::npos);
  config bad_level;
  EXPECT_EQ(parse_tool_args(bad_level, {"--actio.log.level=loud"}, err), 2);
  EXPECT_NE(err.find("actio-demo: --actio.log.level: 'loud' is not one of"),
            std::string::npos)
    << err;
  config bad_format;
  EXPECT_EQ(parse_tool_args(bad_format, {"--actio.log.format=xml"}, err), 2);
  EXPECT_NE(err.find("'xml' is not text or json"), std::string::npos) << err;
  config bad_file;
  EXPECT_EQ(parse_tool_args(bad_file,
                            {"--actio.log.file=" + dir},
                            err),
            2);
  EXPECT_NE(err.find("cannot open log file"), std::string::npos) << err;
  // The plain parse_args reports it as an error.
  config plain;
  std::string arg = "--actio.log.level=loud";
  char* argv[] = {arg.data(), arg.data()};
  EXPECT_TRUE(plain.parse_args(2, argv));
}

TEST_F(log_test, a_tool_writes_its_warnings_to_the_log_file_and_none_to_stderr) {
  test::spawn_options so;
  so.merge_stderr = true; // stdout and stderr in one pipe
  auto child = test::spawn_process(ACTIO_UDP_ECHO_BIN,
                                   {"--port", "0", "--max-datagram", "16",
                                    "--actio.log.file=" + file,
                                    "--actio.log.format", "json"},
                                   so);
  auto line = child.read_line();
  test::udp_client client{line};
  ASSERT_TRUE(client.ok()) << line;
  ASSERT_TRUE(client.lock_step_echoes(3, 16));
  ASSERT_EQ(child.stop(SIGTERM, 30s), 0);
  auto rest = child.read_all(30s);
  // Its own output only: no warning went to stdout or stderr.
  EXPECT_EQ(rest,
            "actio-udp-echo: SIGTERM, draining (up to 0 s; signal again to "
            "exit now)\nactio-udp-echo: drained 0 connection(s), 0 closed at "
            "the deadline\n");
  auto logged = read_file(file);
  EXPECT_EQ(count(logged, R"("msg":"datagram truncated to 16 bytes")"), 3u)
    << logged;
  EXPECT_NE(logged.find(R"("component":"udp-echo","peer":"127.0.0.1:)"),
            std::string::npos)
    << logged;
}

} // namespace
