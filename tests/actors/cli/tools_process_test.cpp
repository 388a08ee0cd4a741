// Every actio-* program in the build's bin directory against the
// command-line conventions (cli/tool.hpp): --help, --version, an unknown
// option, a bad value, exit statuses 0/1/2, and write errors on stdout.
// The programs are found by listing the directory, so a new tool without a
// case here fails `every_tool_has_a_bad_value_case`.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path bin_dir = fs::path{ACTIO_ECHO_BIN}.parent_path();
const std::string version = ACTIO_PROJECT_VERSION;

/// The tool programs: every actio-* in the bin directory but the tests.
std::vector<std::string> tool_names() {
  std::vector<std::string> names;
  for (auto& entry : fs::directory_iterator{bin_dir}) {
    auto name = entry.path().filename().string();
    if (name.rfind("actio-", 0) == 0 && name != "actio-tests"
        && entry.is_regular_file()
        && ::access(entry.path().c_str(), X_OK) == 0)
      names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// A bad value for one of each tool's options, and the line it must print.
struct bad_value_case {
  std::vector<std::string> args;
  std::string line; // after "NAME: "
};

const std::map<std::string, bad_value_case>& bad_values() {
  static const std::map<std::string, bad_value_case> cases{
    {"actio-echo",
     {{"--port=abc"}, "--port: 'abc' is not a port number (0-65535)"}},
    {"actio-copy",
     {{"--depth", "x", "a", "b"},
      "--depth: 'x' is not a non-negative integer"}},
    {"actio-wc",
     {{"--tcp=localhost:http"},
      "--tcp: 'localhost:http' is not HOST:PORT (port 1-65535)"}},
    {"actio-udp-echo",
     {{"--port", "70000"}, "--port: '70000' is not a port number (0-65535)"}},
    {"actio-chat", {{"--rate=fast"}, "--rate: 'fast' is not a number"}},
    {"actio-kv",
     {{"--port=abc"}, "--port: 'abc' is not a port number (0-65535)"}},
    {"actio-httpd",
     {{"--root", "/tmp", "--port=http"},
      "--port: 'http' is not a port number (0-65535)"}},
    {"actio-chat-client",
     {{"-p", "x", "--nick=n"}, "-p: 'x' is not a port number (0-65535)"}},
    {"actio-file-node",
     {{"--actio.io.drivers=two"},
      "--actio.io.drivers: 'two' is not a non-negative integer"}},
    {"actio-echo-bench",
     {{"--connections=abc"},
      "--connections: 'abc' is not an integer (1-100000)"}},
    {"actio-epoll-echo",
     {{"--port=abc"}, "--port: 'abc' is not a port number (0-65535)"}},
    {"actio-uring-echo",
     {{"--port", "65536"}, "--port: '65536' is not a port number (0-65535)"}},
    {"actio-uv-echo",
     {{"--host=localhost"}, "--host: 'localhost' is not an IPv4 address"}},
    {"actio-tokio-echo", // built only with cargo and librust-tokio-dev
     {{"--port", "http"}, "--port: 'http' is not a port number (0-65535)"}},
    {"actio-chat-bench",
     {{"--clients", "many"}, "--clients: 'many' is not a number (at least 1)"}},
    {"actio-epoll-chat",
     {{"--port=-1"}, "--port: '-1' is not a port number (0-65535)"}},
    {"actio-file-bench",
     {{"--depth=0"}, "--depth: '0' is not an integer (1-4096)"}},
    {"actio-lines-bench",
     {{"--rounds=x"}, "--rounds: 'x' is not an integer (1-1073741824)"}},
    {"actio-micro-bench",
     {{"--benchmark_repetitions=x"},
      "--benchmark_repetitions: 'x' is not an integer (1-1000000)"}},
    {"actio-relay-bench",
     {{"--hops=x"}, "--hops: 'x' is not an integer (1-64)"}},
    {"actio-remote-bench",
     {{"--n=x"}, "--n: 'x' is not an integer (1-1099511627776)"}},
  };
  return cases;
}

struct result {
  int status = -1; // exit status; -1: killed by a signal or timed out
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Runs `tool args...` with stdin from /dev/null and stdout to `stdout_path`
/// (a scratch file unless given, e.g. /dev/full); waits up to 120 s.
result run(const std::string& tool, const std::vector<std::string>& args,
           const std::string& stdout_path = {}) {
  static int serial = 0;
  auto scratch = fs::temp_directory_path()
                 / ("actio-cli-test-" + std::to_string(::getpid()) + "-"
                    + std::to_string(++serial));
  auto out_path = stdout_path.empty() ? scratch.string() + ".out" : stdout_path;
  auto err_path = scratch.string() + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto path = (bin_dir / tool).string();
  std::vector<char*> argv{path.data()};
  std::vector<std::string> copy = args;
  for (auto& a : copy)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(),
                       environ);
  posix_spawn_file_actions_destroy(&actions);
  result res;
  if (rc != 0)
    return res;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &wstatus, 0);
      wstatus = -1;
      break;
    }
    std::this_thread::sleep_for(5ms); // polling the child's exit
  }
  if (wstatus != -1 && WIFEXITED(wstatus))
    res.status = WEXITSTATUS(wstatus);
  if (stdout_path.empty()) {
    res.out = slurp(out_path);
    fs::remove(out_path);
  }
  res.err = slurp(err_path);
  fs::remove(err_path);
  return res;
}

std::string try_line(const std::string& tool) {
  return "Try '" + tool + " --help' for more information.\n";
}

class tools_process_test : public ::testing::TestWithParam<std::string> {};

TEST(tools_list, finds_the_examples_and_every_tool_has_a_bad_value_case) {
  auto names = tool_names();
  for (auto example : {"actio-echo", "actio-copy", "actio-wc", "actio-udp-echo",
                       "actio-chat", "actio-chat-client", "actio-file-node",
                       "actio-kv", "actio-httpd"})
    EXPECT_NE(std::find(names.begin(), names.end(), example), names.end())
      << example << " not in " << bin_dir;
  for (auto& name : names)
    EXPECT_EQ(bad_values().count(name), 1u)
      << name << ": no bad-value case in this test";
}

TEST_P(tools_process_test, help_prints_the_usage_line_on_stdout_and_exits_0) {
  auto tool = GetParam();
  auto res = run(tool, {"--help"});
  EXPECT_EQ(res.status, 0) << res.err;
  auto usage = "Usage: " + tool + " [OPTION]...";
  EXPECT_EQ(res.out.substr(0, usage.size()), usage) << res.out;
  EXPECT_NE(res.out.find("--version"), std::string::npos) << res.out;
  EXPECT_EQ(res.err, "");
}

TEST_P(tools_process_test, version_prints_the_project_version_and_exits_0) {
  auto tool = GetParam();
  auto res = run(tool, {"--version"});
  EXPECT_EQ(res.status, 0) << res.err;
  EXPECT_EQ(res.out, tool + " (Actio) " + version + "\n");
  EXPECT_EQ(res.err, "");
}

TEST_P(tools_process_test, unknown_option_is_a_usage_error_exit_2) {
  auto tool = GetParam();
  auto res = run(tool, {"--bogus"});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, tool + ": unrecognized option '--bogus'\n" + try_line(tool));
  EXPECT_EQ(res.out, "");
}

TEST_P(tools_process_test, bad_value_names_the_option_and_exits_2) {
  auto tool = GetParam();
  auto it = bad_values().find(tool);
  ASSERT_NE(it, bad_values().end()) << "no case for " << tool;
  auto res = run(tool, it->second.args);
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, tool + ": " + it->second.line + "\n" + try_line(tool));
  EXPECT_EQ(res.out, "");
}

TEST_P(tools_process_test, help_and_version_into_a_full_disk_exit_1) {
  auto tool = GetParam();
  for (auto arg : {"--help", "--version"}) {
    auto res = run(tool, {arg}, "/dev/full");
    EXPECT_EQ(res.status, 1) << arg;
    EXPECT_EQ(res.err, tool + ": write error: No space left on device\n") << arg;
  }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  auto name = info.param.substr(6); // without "actio-"
  for (auto& c : name)
    if (c == '-')
      c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(all, tools_process_test,
                         ::testing::ValuesIn(tool_names()), param_name);

// -- tool-specific ------------------------------------------------------------

TEST(tools_operands, copy_without_destination_names_the_missing_operand) {
  auto res = run("actio-copy", {"a"});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, "actio-copy: missing destination file operand after 'a'\n"
                       + try_line("actio-copy"));
  res = run("actio-copy", {});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, "actio-copy: missing file operand\n" + try_line("actio-copy"));
  res = run("actio-copy", {"a", "b", "c"});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, "actio-copy: extra operand 'c'\n" + try_line("actio-copy"));
}

TEST(tools_operands, copy_help_names_src_and_dst) {
  auto res = run("actio-copy", {"--help"});
  EXPECT_EQ(res.status, 0);
  EXPECT_EQ(res.out.substr(0, res.out.find('\n')),
            "Usage: actio-copy [OPTION]... SRC DST");
}

TEST(tools_operands, short_option_value_and_missing_argument) {
  // "-x": coreutils' wording for an unknown short option.
  auto res = run("actio-echo", {"-x"});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, "actio-echo: invalid option -- 'x'\n" + try_line("actio-echo"));
  res = run("actio-echo", {"--port"});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, "actio-echo: option '--port' requires an argument\n"
                       + try_line("actio-echo"));
  res = run("actio-echo", {"--drain-timeout", "soon"});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, "actio-echo: --drain-timeout: 'soon' is not a number\n"
                       + try_line("actio-echo"));
}

TEST(tools_stdout, wc_into_a_full_disk_is_a_write_error_exit_1) {
  auto file = fs::temp_directory_path()
              / ("actio-cli-wc-" + std::to_string(::getpid()));
  std::ofstream{file} << "one two\nthree\n";
  auto res = run("actio-wc", {file.string()}, "/dev/full");
  fs::remove(file);
  EXPECT_EQ(res.status, 1);
  EXPECT_EQ(res.err, "actio-wc: write error: No space left on device\n");
}

TEST(tools_stdout, copy_summary_into_a_full_disk_is_a_write_error_exit_1) {
  auto src = fs::temp_directory_path()
             / ("actio-cli-copy-" + std::to_string(::getpid()));
  auto dst = src.string() + ".copy";
  std::ofstream{src} << "some bytes\n";
  auto res = run("actio-copy", {src.string(), dst}, "/dev/full");
  EXPECT_EQ(slurp(dst), "some bytes\n"); // the copy itself succeeded
  fs::remove(src);
  fs::remove(dst);
  EXPECT_EQ(res.status, 1);
  EXPECT_EQ(res.err, "actio-copy: write error: No space left on device\n");
}

} // namespace

TEST(tools_operands, httpd_needs_an_existing_root_directory) {
  auto res = run("actio-httpd", {"--port", "0"});
  EXPECT_EQ(res.status, 2);
  EXPECT_EQ(res.err, "actio-httpd: --root DIR is required\n" + try_line("actio-httpd"));
  res = run("actio-httpd", {"--port", "0", "--root", "/nonexistent/actio-root"});
  EXPECT_EQ(res.status, 1);
  EXPECT_NE(res.err.find("/nonexistent/actio-root"), std::string::npos) << res.err;
}
