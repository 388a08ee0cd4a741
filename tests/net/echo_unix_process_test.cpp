// actio-echo --unix PATH as a user runs it: a real process serving a Unix
// stream socket, replacing a stale socket file, removing its path on exit.

#include <csignal>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;
namespace fs = std::filesystem;

namespace {

const std::string echo_bin = ACTIO_ECHO_BIN;

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (fd >= 0
      && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0)
    return fd;
  if (fd >= 0)
    ::close(fd);
  return -1;
}

TEST(echo_unix_process, serves_a_unix_socket_and_removes_it_on_exit) {
  std::string dir = fs::temp_directory_path().string();
  dir.append("/actio-echo-unix-").append(std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = dir;
  path.append("/echo.sock");
  // A stale socket file from an earlier run: replaced, not an error.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  auto child = test::spawn_process(echo_bin, {"--unix", path});
  ASSERT_GT(child.pid, 0);
  auto line = child.read_line();
  EXPECT_NE(line.find("listening on unix:" + path), std::string::npos) << line;
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  auto data = test::random_bytes(256 * 1024, 41);
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(test::send_all(fd, data.data(), data.size()));
  ASSERT_TRUE(test::recv_exact(fd, back.data(), back.size()));
  EXPECT_EQ(back, data);
  ::close(fd);
  auto status = child.stop(SIGTERM, 30s);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(path)) << "the socket file outlived the server";
  fs::remove_all(dir);
}

TEST(echo_unix_process, refuses_a_path_that_is_a_regular_file) {
  std::string path = fs::temp_directory_path().string();
  path.append("/actio-echo-unix-file-").append(std::to_string(::getpid()));
  { std::ofstream{path} << "keep me"; }
  auto child = test::spawn_process(echo_bin, {"--unix", path});
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(child.read_line(), ""); // never says it is listening
  auto status = child.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::is_regular_file(path));
  fs::remove(path);
}

} // namespace
