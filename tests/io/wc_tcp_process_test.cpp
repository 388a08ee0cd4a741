// actio-wc --tcp HOST:PORT against GNU wc (C locale) on the same bytes: a
// test listener serves a generated corpus; refused connections are
// reported like missing files.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "actio/drivers/select.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

const std::string wc_bin = ACTIO_WC_BIN;

/// Serves `data` to each of `n` connections (one at a time), then closes.
class serving_listener {
public:
  serving_listener(std::string data, int n) : data_(std::move(data)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0
        || ::listen(fd_, 8) != 0
        || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port = ntohs(addr.sin_port);
    thread_ = std::thread{[this, n] {
      for (int i = 0; i < n; ++i) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0)
          return;
        test::send_all(c, reinterpret_cast<const uint8_t*>(data_.data()),
                       data_.size(), 120s);
        ::close(c);
      }
    }};
  }

  ~serving_listener() {
    ::shutdown(fd_, SHUT_RDWR); // unblocks accept
    if (thread_.joinable())
      thread_.join();
    ::close(fd_);
  }

  uint16_t port = 0;

private:
  std::string data_;
  int fd_ = -1;
  std::thread thread_;
};

class wc_tcp_process_test : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path()
           / ("actio-wc-tcp-" + std::to_string(::getpid()) + GetParam());
    fs::create_directories(dir_);
    std::mt19937 gen{5};
    for (int i = 0; i < 3'000'000; ++i) {
      auto r = gen() % 100;
      corpus_ += r < 70 ? static_cast<char>('a' + r % 26)
                 : r < 85 ? ' '
                 : r < 90 ? '\n'
                 : r < 93 ? '\t'
                          : static_cast<char>(gen());
    }
    std::ofstream{dir_ / "corpus", std::ios::binary} << corpus_;
    std::ofstream{dir_ / "small", std::ios::binary} << "a b\nc d e\n";
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  /// Runs a shell command in the corpus directory: combined output with
  /// "actio-wc:" spelled "wc:", plus the exit status.
  std::string run(const std::string& cmd) {
    auto script = "cd '" + dir_.string() + "' && { " + cmd
                  + "; } 2>&1 | sed 's/^actio-wc:/wc:/'; echo \"rc=${PIPESTATUS[0]}\"";
    auto child = test::spawn_process("/bin/bash", {"-c", script});
    auto out = child.read_all(120s);
    child.stop(0, 60s);
    return out;
  }

  std::string mine(const std::string& args) {
    return run(wc_bin + " --backend=" + GetParam() + " " + args);
  }

  fs::path dir_;
  std::string corpus_;
};

/// GNU wc's output for the corpus on standard input, with the "-" input
/// renamed `name` (or the unnamed line given the name).
std::string renamed(std::string gnu, const std::string& name) {
  auto pos = gnu.find(" -\n");
  if (pos != std::string::npos)
    return gnu.replace(pos, 3, " " + name + "\n");
  auto eol = gnu.find('\n');
  return gnu.insert(eol, " " + name);
}

TEST_P(wc_tcp_process_test, counts_what_the_peer_sends_like_gnu_wc) {
  for (auto* flags : {"", "-l", "-w", "-c", "-lw"}) {
    serving_listener srv{corpus_, 1};
    ASSERT_NE(srv.port, 0);
    auto name = "127.0.0.1:" + std::to_string(srv.port);
    auto gnu = run("cat corpus | LC_ALL=C wc " + std::string{flags});
    EXPECT_EQ(mine(std::string{flags} + " --tcp " + name), renamed(gnu, name))
      << "flags: " << flags;
  }
}

TEST_P(wc_tcp_process_test, mixes_with_files_and_totals) {
  serving_listener srv{corpus_, 1};
  ASSERT_NE(srv.port, 0);
  auto name = "127.0.0.1:" + std::to_string(srv.port);
  auto gnu = run("cat corpus | LC_ALL=C wc small - small");
  EXPECT_EQ(mine("small --tcp=" + name + " small"), renamed(gnu, name));
}

TEST_P(wc_tcp_process_test, empty_peer_counts_zero) {
  serving_listener srv{"", 1};
  ASSERT_NE(srv.port, 0);
  auto name = "127.0.0.1:" + std::to_string(srv.port);
  auto gnu = run("printf '' | LC_ALL=C wc");
  EXPECT_EQ(mine("--tcp " + name), renamed(gnu, name));
}

TEST_P(wc_tcp_process_test, refused_port_exits_1_with_the_reason) {
  test::refusing_port refusing;
  ASSERT_NE(refusing.port, 0);
  auto name = "127.0.0.1:" + std::to_string(refusing.port);
  EXPECT_EQ(mine("--tcp " + name),
            "wc: " + name + ": Connection refused\nrc=1\n");
  // The other inputs are still counted.
  auto out = mine("--tcp " + name + " small");
  EXPECT_NE(out.find("wc: " + name + ": Connection refused\n"), std::string::npos)
    << out;
  EXPECT_NE(out.find(" small\n"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=1\n"), std::string::npos) << out;
}

TEST_P(wc_tcp_process_test, help_documents_tcp) {
  auto out = mine("--help");
  EXPECT_NE(out.find("--tcp=HOST:PORT"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
}

} // namespace

INSTANTIATE_TEST_SUITE_P(backends, wc_tcp_process_test,
                         ::testing::ValuesIn(actio::available_backends()),
                         [](const auto& x) { return x.param; });
