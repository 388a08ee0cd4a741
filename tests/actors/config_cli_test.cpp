// config::parse_args(tool, ...): CAF options with the messages of every
// actio-* tool, checked option by option before CAF sees them.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actio/actors/config.hpp"

using namespace actio;

namespace {

struct demo_config : config {
  uint16_t port = 7000;
  uint64_t depth = 8;
  double timeout = 5;
  bool secure = false;
  std::string host = "127.0.0.1";
  demo_config() {
    opt_group{custom_options_, "global"}
      .add(port, "port,p", "port to listen on")
      .add(depth, "depth", "reads in flight")
      .add(timeout, "timeout", "seconds to wait")
      .add(secure, "secure", "use TLS")
      .add(host, "host", "address");
  }
};

const cli::tool tool{"actio-demo", "[FILE]...", "Demonstrate things."};

struct outcome {
  std::optional<int> status;
  std::string err;
};

outcome parse(demo_config& cfg, std::vector<std::string> args) {
  args.insert(args.begin(), "actio-demo");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  testing::internal::CaptureStderr();
  auto status = cfg.parse_args(tool, static_cast<int>(argv.size()),
                               argv.data());
  return {status, testing::internal::GetCapturedStderr()};
}

const std::string try_line =
  "Try 'actio-demo --help' for more information.\n";

TEST(config_cli, values_in_every_spelling_land_in_the_options) {
  demo_config cfg;
  auto res = parse(cfg, {"-p", "81", "--depth", "3", "a", "--timeout=0.5",
                         "--secure", "--host", "::1", "--", "--b"});
  ASSERT_FALSE(res.status) << res.err;
  EXPECT_EQ(cfg.port, 81);
  EXPECT_EQ(cfg.depth, 3u);
  EXPECT_EQ(cfg.timeout, 0.5);
  EXPECT_TRUE(cfg.secure);
  EXPECT_EQ(cfg.host, "::1");
  EXPECT_EQ(cfg.remainder, (std::vector<std::string>{"a", "--b"}));
  demo_config joined;
  res = parse(joined, {"-p82", "--actio.io.drivers=2"});
  ASSERT_FALSE(res.status) << res.err;
  EXPECT_EQ(joined.port, 82);
  EXPECT_EQ(caf::get_or(joined.content, "actio.io.drivers", size_t{0}), 2u);
}

TEST(config_cli, a_bad_value_names_the_option_and_what_it_expects) {
  struct bad {
    std::vector<std::string> args;
    std::string line;
  };
  for (auto& [args, line] : std::vector<bad>{
         {{"--port=abc"}, "--port: 'abc' is not a port number (0-65535)"},
         {{"--port", "65536"}, "--port: '65536' is not a port number (0-65535)"},
         {{"-p", "x"}, "-p: 'x' is not a port number (0-65535)"},
         {{"--depth=-1"}, "--depth: '-1' is not a non-negative integer"},
         {{"--timeout=soon"}, "--timeout: 'soon' is not a number"},
         {{"--secure=maybe"}, "--secure: 'maybe' is not a boolean (true or false)"},
         {{"--actio.io.drivers=two"},
          "--actio.io.drivers: 'two' is not a non-negative integer"},
       }) {
    demo_config cfg;
    auto res = parse(cfg, args);
    EXPECT_EQ(res.status, std::optional<int>{cli::exit_usage}) << line;
    EXPECT_EQ(res.err, "actio-demo: " + line + "\n" + try_line);
  }
}

TEST(config_cli, unknown_and_incomplete_options_are_usage_errors) {
  struct bad {
    std::vector<std::string> args;
    std::string line;
  };
  for (auto& [args, line] : std::vector<bad>{
         {{"--bogus"}, "unrecognized option '--bogus'"},
         {{"a", "--bogus=1"}, "unrecognized option '--bogus=1'"},
         {{"-x"}, "invalid option -- 'x'"},
         {{"--port"}, "option '--port' requires an argument"},
         {{"-p"}, "option '-p' requires an argument"},
       }) {
    demo_config cfg;
    auto res = parse(cfg, args);
    EXPECT_EQ(res.status, std::optional<int>{cli::exit_usage}) << line;
    EXPECT_EQ(res.err, "actio-demo: " + line + "\n" + try_line);
  }
}

TEST(config_cli, help_lists_the_options_on_stdout_and_stops_with_0) {
  demo_config cfg;
  testing::internal::CaptureStdout();
  auto res = parse(cfg, {"--port=1", "--help"});
  auto out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(res.status, std::optional<int>{0});
  EXPECT_EQ(res.err, "");
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "Usage: actio-demo [OPTION]... [FILE]...");
  for (auto line : {"  -p, --port=PORT             port to listen on\n",
                    "  --depth=N                   reads in flight\n",
                    "  --secure                    use TLS\n",
                    "  --actio.io.backend=TEXT"})
    EXPECT_NE(out.find(line), std::string::npos) << line << " in\n" << out;
}

TEST(config_cli, version_stops_with_0) {
  demo_config cfg;
  testing::internal::CaptureStdout();
  auto res = parse(cfg, {"--version"});
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            "actio-demo (Actio) " ACTIO_PROJECT_VERSION "\n");
  EXPECT_EQ(res.status, std::optional<int>{0});
}

} // namespace
