// actio-chat-client over TLS against actio-chat --tls-cert ... (real
// processes, certificates made by tests/support/tls_certs.hpp): the good CA
// works end to end, by IP address and by name; a client certificate the
// server requires; another CA, another server name, a plain client on the
// TLS port and a TLS client on a plain port each end with one line on
// stderr and exit status 1, and the server keeps serving.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "examples/chat_peer.hpp"
#include "support/tls_certs.hpp"

using namespace std::chrono_literals;
using namespace actio::test;

namespace {

class chat_client_tls : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    certs_ = new tls_certs;
  }
  static void TearDownTestSuite() {
    delete certs_;
  }
  void SetUp() override {
    ASSERT_TRUE(certs_->ok());
  }

  /// actio-chat on a TLS port, with `extra` options.
  static std::unique_ptr<chat_server> tls_server(
    std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--rate=0", "--tls-cert",
                                  certs_->path("server.pem"), "--tls-key",
                                  certs_->path("server.key")};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<chat_server>(args);
  }

  /// actio-chat-client --port PORT args... with its stdin from `input` (a
  /// file or FIFO) and stderr merged into its stdout.
  static child_process client(uint16_t port, const std::vector<std::string>& args,
                              const std::string& input = "/dev/null") {
    auto cmd = cat(std::string{"exec "}, std::string{ACTIO_CHAT_CLIENT_BIN},
                   " --port ", std::to_string(port));
    for (auto& a : args)
      cmd.append(cat(" '", a, "'"));
    cmd.append(cat(" < '", input, "'"));
    return spawn_process("/bin/sh", {"-c", cmd}, {.merge_stderr = true});
  }

  /// The TLS options that trust ca.pem.
  static std::vector<std::string> good_ca(std::vector<std::string> more = {}) {
    std::vector<std::string> args{"--tls", "--tls-ca", certs_->path("ca.pem")};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  /// Runs a client that must fail: everything it printed; its exit status
  /// goes to `code` (-1 when it did not exit normally).
  static std::string refused(uint16_t port, const std::vector<std::string>& args,
                             int& code) {
    auto c = client(port, args);
    auto out = c.read_all(30s);
    auto status = c.stop(0, 30s);
    code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }

  /// One line, no more: "actio-chat-client: ..." with `what` in it.
  static void expect_one_line(const std::string& out, const std::string& what) {
    EXPECT_EQ(out.rfind("actio-chat-client: ", 0), 0u) << out;
    EXPECT_NE(out.find(what), std::string::npos) << out;
    EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  }

  static tls_certs* certs_;
};

tls_certs* chat_client_tls::certs_ = nullptr;

/// Reads `c`'s lines until one contains `what`.
bool wait_line(child_process& c, const std::string& what,
               clock::duration timeout = 30s) {
  auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    auto line = c.read_line(deadline - clock::now());
    if (line.find(what) != std::string::npos)
      return true;
    if (line.empty())
      return false; // EOF or the time is up
  }
  return false;
}

TEST_F(chat_client_tls, a_message_reaches_another_tls_client) {
  auto srv = tls_server();
  ASSERT_NE(srv->port, 0);
  // bob listens (his stdin a FIFO held open), checking the name localhost.
  temp_fifo fifo;
  ASSERT_FALSE(fifo.path.empty());
  auto bob = client(srv->port,
                    good_ca({"--tls-server-name", "localhost", "--nick", "bob",
                             "--room", "r"}),
                    fifo.path);
  int to_bob = ::open(fifo.path.c_str(), O_WRONLY); // the shell opens it
  ASSERT_GE(to_bob, 0);
  ASSERT_TRUE(wait_line(bob, "* bob joined #r"));
  // alice (the default name: --host 127.0.0.1, an IP SAN) says one line
  // and quits at the end of her input.
  char tmpl[] = "/tmp/actio-chat-in-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  std::string said = "hello over tls\n";
  ASSERT_EQ(::write(fd, said.data(), said.size()),
            static_cast<ssize_t>(said.size()));
  ::close(fd);
  auto alice = client(srv->port, good_ca({"--nick", "alice", "--room", "r"}),
                      tmpl);
  auto alice_out = alice.read_all(30s);
  ::unlink(tmpl);
  EXPECT_NE(alice_out.find("<alice> hello over tls"), std::string::npos)
    << alice_out;
  EXPECT_EQ(alice.stop(0, 30s), 0) << alice_out;
  EXPECT_TRUE(wait_line(bob, "<alice> hello over tls"));
  EXPECT_TRUE(wait_line(bob, "* alice left #r"));
  ::close(to_bob); // bob's input ends: he quits, hears bye, exits 0
  auto bob_rest = bob.read_all(30s);
  EXPECT_EQ(bob.stop(0, 30s), 0) << bob_rest;
}

TEST_F(chat_client_tls, a_required_client_certificate_is_sent) {
  auto srv = tls_server({"--tls-client-ca", certs_->path("ca.pem")});
  ASSERT_NE(srv->port, 0);
  auto with = client(srv->port,
                     good_ca({"--tls-cert", certs_->path("client.pem"),
                              "--tls-key", certs_->path("client.key"),
                              "--nick", "carol", "--room", "r"}));
  auto out = with.read_all(30s);
  EXPECT_NE(out.find("* carol joined #r"), std::string::npos) << out;
  EXPECT_EQ(with.stop(0, 30s), 0) << out;
  int code = 0;
  auto bare = refused(srv->port, good_ca({"--nick", "dave"}), code);
  EXPECT_EQ(code, 1) << bare;
  EXPECT_NE(bare.find("certificate required"), std::string::npos) << bare;
}

TEST_F(chat_client_tls, another_ca_is_refused) {
  auto srv = tls_server();
  ASSERT_NE(srv->port, 0);
  int code = 0;
  auto out = refused(srv->port,
                     {"--tls", "--tls-ca", certs_->path("other-ca.pem"),
                      "--nick", "eve"},
                     code);
  EXPECT_EQ(code, 1);
  expect_one_line(out, "TLS handshake with 127.0.0.1:");
  EXPECT_NE(out.find("certificate verify failed: unable to get local issuer"),
            std::string::npos)
    << out;
}

TEST_F(chat_client_tls, another_server_name_is_refused) {
  auto srv = tls_server();
  ASSERT_NE(srv->port, 0);
  int code = 0;
  auto out = refused(srv->port,
                     good_ca({"--tls-server-name", "wrong.example", "--nick",
                              "eve"}),
                     code);
  EXPECT_EQ(code, 1);
  expect_one_line(out, "certificate verify failed: hostname mismatch");
}

TEST_F(chat_client_tls, a_plain_client_on_the_tls_port_fails_cleanly) {
  auto srv = tls_server();
  ASSERT_NE(srv->port, 0);
  int code = 0;
  auto out = refused(srv->port, {"--nick", "plain"}, code);
  EXPECT_EQ(code, 1);
  expect_one_line(out, "actio-chat-client: ");
  // The server keeps serving TLS clients.
  auto ok = client(srv->port, good_ca({"--nick", "after", "--room", "r"}));
  auto ok_out = ok.read_all(30s);
  EXPECT_NE(ok_out.find("* after joined #r"), std::string::npos) << ok_out;
  EXPECT_EQ(ok.stop(0, 30s), 0) << ok_out;
}

TEST_F(chat_client_tls, a_tls_client_on_a_plain_port_fails_cleanly) {
  chat_server srv{{"--rate=0"}};
  ASSERT_NE(srv.port, 0);
  int code = 0;
  auto out = refused(srv.port, good_ca({"--nick", "tls"}), code);
  EXPECT_EQ(code, 1);
  expect_one_line(out, "TLS handshake with 127.0.0.1:");
}

} // namespace
