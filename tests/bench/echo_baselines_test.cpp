// The echo benchmark's baseline servers (bench/: actio-epoll-echo,
// actio-uring-echo, actio-uv-echo, whichever the build made) as real
// processes on 127.0.0.1: they must echo every byte, in order, or the
// benchmark compares actio with something that is not an echo server.
// actio-echo-bench verifies every byte too, but only when someone runs it;
// these run in CI. The command line itself is tools_process_test's.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

// ACTIO_ECHO_BASELINE_BINS: the built baselines' paths, comma-separated
// (tests/CMakeLists.txt; empty without the benchmarks).
std::vector<std::string> baseline_bins() {
  std::vector<std::string> out;
  std::istringstream in(ACTIO_ECHO_BASELINE_BINS);
  for (std::string path; std::getline(in, path, ',');)
    if (!path.empty())
      out.push_back(path);
  return out;
}

struct baseline_server {
  child_process child;
  std::string first_line;
  uint16_t port = 0;
  explicit baseline_server(const std::string& path)
    : child(spawn_process(path, {"--host", "127.0.0.1", "--port", "0"})),
      first_line(child.read_line(10s)), port(parse_port(first_line)) {
  }
};

// One connection's traffic: `data` out, the same bytes expected back.
struct flow {
  int fd = -1;
  std::vector<uint8_t> data;
  size_t sent = 0;
  std::vector<uint8_t> back;
};

// Drives every flow at once (non-blocking, one poll loop) until each has
// sent all its bytes and received as many back, or `timeout`. Sending and
// receiving together keeps large flows from deadlocking on full buffers.
::testing::AssertionResult echo_all(std::vector<flow>& flows,
                                    clock::duration timeout = 30s) {
  for (auto& f : flows)
    ::fcntl(f.fd, F_SETFL, ::fcntl(f.fd, F_GETFL) | O_NONBLOCK);
  auto deadline = clock::now() + timeout;
  std::vector<uint8_t> buf(64 * 1024);
  for (;;) {
    std::vector<pollfd> pfds;
    std::vector<flow*> owners;
    for (auto& f : flows) {
      if (f.back.size() == f.data.size())
        continue;
      short events = POLLIN;
      if (f.sent < f.data.size())
        events |= POLLOUT;
      pfds.push_back({f.fd, events, 0});
      owners.push_back(&f);
    }
    if (pfds.empty())
      return ::testing::AssertionSuccess();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    if (left.count() <= 0)
      return ::testing::AssertionFailure()
             << pfds.size() << " connection(s) not done within the timeout";
    if (::poll(pfds.data(), pfds.size(), static_cast<int>(left.count())) < 0)
      return ::testing::AssertionFailure() << "poll: " << std::strerror(errno);
    for (size_t i = 0; i < pfds.size(); ++i) {
      flow& f = *owners[i];
      if (pfds[i].revents & POLLOUT) {
        ssize_t n = ::send(f.fd, f.data.data() + f.sent, f.data.size() - f.sent,
                           MSG_NOSIGNAL);
        if (n > 0)
          f.sent += static_cast<size_t>(n);
      }
      if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(f.fd, buf.data(), buf.size(), 0);
        if (n == 0)
          return ::testing::AssertionFailure()
                 << "EOF after " << f.back.size() << " of " << f.data.size()
                 << " bytes";
        if (n > 0)
          f.back.insert(f.back.end(), buf.data(), buf.data() + n);
        else if (errno != EAGAIN && errno != EINTR)
          return ::testing::AssertionFailure() << "recv: " << std::strerror(errno);
        if (f.back.size() > f.sent)
          return ::testing::AssertionFailure() << "more bytes back than were sent";
      }
    }
  }
}

::testing::AssertionResult same_bytes(const flow& f) {
  auto diff = std::mismatch(f.data.begin(), f.data.end(), f.back.begin(),
                            f.back.end());
  if (diff.first == f.data.end() && diff.second == f.back.end())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "echo differs at byte " << (diff.first - f.data.begin()) << " of "
         << f.data.size() << " (got " << f.back.size() << ")";
}

class echo_baseline : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    ASSERT_NE(srv.port, 0) << "no listening line, got: " << srv.first_line;
  }
  void TearDown() override {
    EXPECT_TRUE(exits_with(srv.child, SIGTERM, 0)) << GetParam();
  }
  baseline_server srv{GetParam()};
};

TEST_P(echo_baseline, announces_name_and_address_like_the_bench_expects) {
  auto name = std::filesystem::path{GetParam()}.filename().string();
  EXPECT_EQ(srv.first_line.rfind(name + ": listening on 127.0.0.1:", 0), 0u)
    << srv.first_line;
}

// 64 connections, each 256 KiB of its own random bytes, all in flight at
// once: more than the socket buffers hold, so short writes and the servers'
// pending-output paths are taken.
TEST_P(echo_baseline, many_connections_echo_random_bytes_exactly) {
  std::vector<flow> flows(64);
  for (size_t i = 0; i < flows.size(); ++i) {
    flows[i].fd = connect_tcp(srv.port);
    ASSERT_GE(flows[i].fd, 0) << "connect " << i;
    flows[i].data = random_bytes(256 * 1024, static_cast<uint32_t>(i + 1));
  }
  EXPECT_TRUE(echo_all(flows));
  for (auto& f : flows) {
    EXPECT_TRUE(same_bytes(f));
    ::close(f.fd);
  }
}

// A peer that sends without reading until nothing more goes out (64 MiB is
// more than the loopback socket buffers hold both ways): the server must
// hold back (not lose, not reorder) what it cannot send, and keep serving
// another connection meanwhile; then everything comes back in order.
TEST_P(echo_baseline, a_peer_that_does_not_read_loses_nothing_and_blocks_no_one) {
  flow hog;
  hog.fd = connect_tcp(srv.port);
  ASSERT_GE(hog.fd, 0);
  hog.data = random_bytes(64 << 20, 7);
  ::fcntl(hog.fd, F_SETFL, ::fcntl(hog.fd, F_GETFL) | O_NONBLOCK);
  auto deadline = clock::now() + 1s; // until both directions are stuck
  while (hog.sent < hog.data.size() && clock::now() < deadline) {
    ssize_t n = ::send(hog.fd, hog.data.data() + hog.sent,
                       hog.data.size() - hog.sent, MSG_NOSIGNAL);
    if (n > 0) {
      hog.sent += static_cast<size_t>(n);
      deadline = clock::now() + 1s;
    } else {
      pollfd p{hog.fd, POLLOUT, 0};
      ::poll(&p, 1, 50);
    }
  }
  EXPECT_LT(hog.sent, hog.data.size()) << "all went out with nothing read";

  int other = connect_tcp(srv.port);
  ASSERT_GE(other, 0);
  EXPECT_TRUE(echoes_random(other, 3, 10s)) << "the other connection";
  ::close(other);

  std::vector<flow> flows{std::move(hog)};
  EXPECT_TRUE(echo_all(flows));
  EXPECT_TRUE(same_bytes(flows[0]));
  ::close(flows[0].fd);
}

// EOF from the peer: what it sent is still echoed, then the server closes.
TEST_P(echo_baseline, echoes_what_came_before_eof_then_closes) {
  int fd = connect_tcp(srv.port);
  ASSERT_GE(fd, 0);
  auto data = random_bytes(100 * 1000, 11);
  ASSERT_TRUE(send_all(fd, data.data(), data.size()));
  ::shutdown(fd, SHUT_WR);
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(recv_exact(fd, back.data(), back.size()));
  EXPECT_EQ(back, data);
  EXPECT_TRUE(wait_eof(fd, 10s));
  ::close(fd);
}

// Many short connections: descriptors are reused and must find fresh state.
TEST_P(echo_baseline, short_connections_one_after_another) {
  for (uint32_t i = 0; i < 200; ++i) {
    int fd = connect_tcp(srv.port);
    ASSERT_GE(fd, 0) << "connect " << i;
    ASSERT_TRUE(echoes_random(fd, i, 10s)) << "connection " << i;
    ::close(fd);
  }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  auto name = std::filesystem::path{info.param}.filename().string();
  name = name.substr(6); // without "actio-"
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(built, echo_baseline, ::testing::ValuesIn(baseline_bins()),
                         param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(echo_baseline);

} // namespace
