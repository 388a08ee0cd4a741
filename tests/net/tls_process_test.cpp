// TLS against actio-echo and actio-kv as real processes, driven by clients
// nobody here wrote: `openssl s_client` (verification, a line echoed back,
// TLS 1.1 refused, renegotiation refused, a required client certificate)
// and `redis-cli --tls`. (curl cannot be used: its telnet:// does no TLS,
// and echo and RESP are not HTTP.)

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include <gtest/gtest.h>

#include "support/net_client.hpp"
#include "support/tls_certs.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

/// A child with a pipe to its stdin, and stdout + stderr on `proc.out`.
struct interactive {
  test::child_process proc;
  int in = -1;

  interactive() = default;
  interactive(interactive&& other) noexcept
    : proc(std::move(other.proc)), in(std::exchange(other.in, -1)) {
  }

  ~interactive() {
    close_input();
  }

  void close_input() {
    if (in >= 0)
      ::close(in);
    in = -1;
  }

  bool write(const std::string& s) {
    return ::write(in, s.data(), s.size()) == static_cast<ssize_t>(s.size());
  }

  /// Reads lines until one contains `what` (true) or EOF / the timeout;
  /// everything read is appended to `seen`.
  bool read_until(const std::string& what, std::string& seen,
                  test::clock::duration timeout = 20s) {
    auto deadline = test::clock::now() + timeout;
    while (test::clock::now() < deadline) {
      auto line = proc.read_line(deadline - test::clock::now());
      seen += line + "\n";
      if (line.find(what) != std::string::npos)
        return true;
      if (line.empty() && proc.pid > 0) {
        int st = 0;
        if (::waitpid(proc.pid, &st, WNOHANG) == proc.pid) {
          proc.pid = -1;
          seen += proc.read_all(1s);
          return seen.find(what) != std::string::npos;
        }
      }
    }
    return false;
  }
};

interactive spawn_interactive(const std::vector<std::string>& argv) {
  interactive r;
  int inp[2], outp[2];
  if (::pipe2(inp, O_CLOEXEC) != 0 || ::pipe2(outp, O_CLOEXEC) != 0)
    return r;
  auto pid = ::fork();
  if (pid == 0) {
    ::dup2(inp[0], 0);
    ::dup2(outp[1], 1);
    ::dup2(outp[1], 2);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(inp[0]);
  ::close(outp[1]);
  r.proc.pid = pid;
  r.proc.out = outp[0];
  r.in = inp[1];
  return r;
}

class tls_process : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    certs_ = new test::tls_certs;
  }
  static void TearDownTestSuite() {
    delete certs_;
  }
  void SetUp() override {
    ASSERT_TRUE(certs_->ok());
  }

  /// Starts `bin --port 0 --tls-cert server.pem --tls-key server.key
  /// extra...`; returns its port.
  uint16_t start(const std::string& bin, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--port", "0", "--tls-cert",
                                  certs_->path("server.pem"), "--tls-key",
                                  certs_->path("server.key")};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = test::spawn_process(bin, args);
    auto line = server_.read_line(30s);
    EXPECT_NE(line.find("with TLS"), std::string::npos) << line;
    return test::parse_port(line);
  }

  interactive s_client(uint16_t port, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"openssl", "s_client", "-connect",
                                  "127.0.0.1:" + std::to_string(port),
                                  "-CAfile", certs_->path("ca.pem"),
                                  "-servername", "localhost", "-verify_hostname",
                                  "localhost"};
    args.insert(args.end(), extra.begin(), extra.end());
    return spawn_interactive(args);
  }

  static test::tls_certs* certs_;
  test::child_process server_;
};

test::tls_certs* tls_process::certs_ = nullptr;

TEST_F(tls_process, s_client_verifies_actio_echo_and_gets_its_line_back) {
  auto port = start(ACTIO_ECHO_BIN);
  ASSERT_NE(port, 0);
  auto c = s_client(port);
  std::string seen;
  ASSERT_TRUE(c.read_until("Verify return code: 0 (ok)", seen)) << seen;
  ASSERT_TRUE(c.read_until("---", seen)) << seen; // end of the summary
  ASSERT_TRUE(c.write("hello through s_client\n"));
  EXPECT_TRUE(c.read_until("hello through s_client", seen)) << seen;
  c.close_input(); // s_client sends close_notify and leaves
  EXPECT_EQ(c.proc.stop(0, 20s), 0);
  EXPECT_EQ(server_.stop(SIGTERM, 20s), 0);
}

TEST_F(tls_process, tls_1_1_is_refused) {
  auto port = start(ACTIO_ECHO_BIN);
  ASSERT_NE(port, 0);
  // Debian's OpenSSL 3 offers TLS 1.1 only at security level 0.
  auto c = s_client(port, {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  c.close_input();
  std::string seen;
  c.read_until("(the end)", seen, 10s); // reads all until it exits
  if (seen.find("no protocols available") != std::string::npos)
    GTEST_SKIP() << "this openssl cannot offer TLS 1.1: " << seen;
  EXPECT_NE(seen.find("protocol version"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Cipher is (NONE)"), std::string::npos) << seen;
  // The server goes on.
  auto ok = s_client(port);
  std::string seen2;
  EXPECT_TRUE(ok.read_until("Verify return code: 0 (ok)", seen2)) << seen2;
}

TEST_F(tls_process, renegotiation_is_refused) {
  auto port = start(ACTIO_ECHO_BIN);
  ASSERT_NE(port, 0);
  auto c = s_client(port, {"-tls1_2"}); // TLS 1.3 has no renegotiation
  std::string seen;
  ASSERT_TRUE(c.read_until("Verify return code: 0 (ok)", seen)) << seen;
  ASSERT_TRUE(c.read_until("---", seen)) << seen;
  ASSERT_TRUE(c.write("R\n")); // s_client: renegotiate
  EXPECT_TRUE(c.read_until("no renegotiation", seen)) << seen;
  // Only that connection is affected.
  auto ok = s_client(port);
  std::string seen2;
  ASSERT_TRUE(ok.read_until("---", seen2)) << seen2;
  ASSERT_TRUE(ok.read_until("---", seen2)) << seen2;
  ASSERT_TRUE(ok.write("still served\n"));
  EXPECT_TRUE(ok.read_until("still served", seen2)) << seen2;
}

TEST_F(tls_process, a_required_client_certificate_is_enforced) {
  auto port = start(ACTIO_ECHO_BIN, {"--tls-client-ca", certs_->path("ca.pem")});
  ASSERT_NE(port, 0);
  auto bare = s_client(port);
  std::string seen;
  ASSERT_TRUE(bare.write("no cert\n"));
  EXPECT_TRUE(bare.read_until("certificate required", seen)) << seen;
  auto with = s_client(port, {"-cert", certs_->path("client.pem"), "-key",
                              certs_->path("client.key")});
  std::string seen2;
  ASSERT_TRUE(with.read_until("Verify return code: 0 (ok)", seen2)) << seen2;
  ASSERT_TRUE(with.read_until("---", seen2)) << seen2;
  ASSERT_TRUE(with.write("with cert\n"));
  EXPECT_TRUE(with.read_until("with cert", seen2)) << seen2;
}

TEST_F(tls_process, redis_cli_talks_tls_to_actio_kv) {
  auto port = start(ACTIO_KV_BIN);
  ASSERT_NE(port, 0);
  auto cli = [&](std::vector<std::string> cmd) {
    std::vector<std::string> args{"-h", "127.0.0.1", "-p", std::to_string(port),
                                  "--tls", "--cacert", certs_->path("ca.pem"),
                                  "--sni", "localhost"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    auto c = test::spawn_process("/usr/bin/redis-cli", args,
                                 {.merge_stderr = true});
    auto out = c.read_all(30s);
    c.stop(0, 30s);
    return out;
  };
  if (::access("/usr/bin/redis-cli", X_OK) != 0)
    GTEST_SKIP() << "redis-cli (redis-tools) is not installed";
  EXPECT_EQ(cli({"ping"}), "PONG\n");
  EXPECT_EQ(cli({"set", "k", "over tls"}), "OK\n");
  EXPECT_EQ(cli({"get", "k"}), "over tls\n");
  EXPECT_EQ(server_.stop(SIGTERM, 20s), 0);
}

TEST_F(tls_process, bad_certificate_files_fail_at_startup_naming_the_file) {
  auto child = test::spawn_process(
    ACTIO_ECHO_BIN, {"--port", "0", "--tls-cert", certs_->path("nope.pem"),
                     "--tls-key", certs_->path("server.key")},
    {.merge_stderr = true});
  auto out = child.read_all(30s);
  EXPECT_NE(out.find("nope.pem"), std::string::npos) << out;
  auto status = child.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  auto usage = test::spawn_process(
    ACTIO_ECHO_BIN, {"--port", "0", "--tls-cert", certs_->path("server.pem")});
  status = usage.stop(0, 30s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

} // namespace
