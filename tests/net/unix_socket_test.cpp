// Unix stream sockets: the same connection actors over filesystem paths and
// abstract names; stale socket files replaced, live ones and non-sockets
// left alone; file mode; the path removed when the listener ends.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/unix_address.hpp"
#include "actio/net/unix_connect.hpp"
#include "actio/net/unix_listener.hpp"
#include "support/client.hpp"
#include "support/echo.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;
namespace fs = std::filesystem;

namespace {

class unix_socket_test : public test::backend_test {
protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::string leaf = "actio-unix-";
    leaf.append(std::to_string(::getpid())).append("-");
    leaf.append(std::to_string(counter++));
    dir_ = fs::temp_directory_path() / leaf;
    fs::create_directories(dir_);
    backend_test::SetUp();
  }

  void TearDown() override {
    backend_test::TearDown();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const char* name) const {
    return (dir_ / name).string();
  }

  /// A process- and test-unique abstract name.
  std::string abstract_name() const {
    return std::string{"@"}.append(dir_.filename().string());
  }

  std::optional<test::client_outcome> echo_through(const std::string& name,
                                                   byte_buffer data) {
    return test::run_client(
      [&](net::connection_factory f) {
        return net::unix_connect(rt(), name, std::move(f));
      },
      std::move(data));
  }

  fs::path dir_;
};

/// A socket file nobody listens on, as a dead server leaves it: bound, then
/// closed without unlink.
bool make_stale_socket(const std::string& path) {
  auto addr = net::unix_target(path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok = addr && fd >= 0
            && ::bind(fd, reinterpret_cast<const sockaddr*>(&addr->addr),
                      addr->len)
                 == 0;
  if (fd >= 0)
    ::close(fd);
  return ok;
}

TEST_P(unix_socket_test, path_echo_is_byte_exact) {
  auto p = path("echo.sock");
  auto srv = net::unix_listen(rt(), {p}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto data = test::random_bytes(2 * 1024 * 1024, 31);
  auto out = echo_through(p, data);
  ASSERT_TRUE(out);
  ASSERT_FALSE(out->reason) << describe(out->reason);
  EXPECT_EQ(out->echoed, data);
  EXPECT_EQ(out->peer, std::string{"unix:"}.append(p));
}

TEST_P(unix_socket_test, abstract_name_echo_is_byte_exact) {
  auto name = abstract_name();
  auto srv = net::unix_listen(rt(), {name}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto data = test::random_bytes(512 * 1024, 32);
  auto out = echo_through(name, data);
  ASSERT_TRUE(out);
  ASSERT_FALSE(out->reason) << describe(out->reason);
  EXPECT_EQ(out->echoed, data);
  EXPECT_EQ(out->peer, std::string{"unix:"}.append(name));
  EXPECT_TRUE(fs::is_empty(dir_)) << "an abstract name made a file";
}

TEST_P(unix_socket_test, stale_socket_file_is_replaced) {
  auto p = path("stale.sock");
  ASSERT_TRUE(make_stale_socket(p));
  ASSERT_TRUE(fs::is_socket(p));
  // Nobody listens: a client is refused.
  auto refused = echo_through(p, {});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason.code(),
            static_cast<uint8_t>(errc::connection_refused))
    << describe(refused->reason);
  auto srv = net::unix_listen(rt(), {p}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  auto data = test::random_bytes(4096, 33);
  auto out = echo_through(p, data);
  ASSERT_TRUE(out);
  ASSERT_FALSE(out->reason) << describe(out->reason);
  EXPECT_EQ(out->echoed, data);
}

TEST_P(unix_socket_test, live_listeners_path_is_address_in_use_and_kept) {
  auto p = path("live.sock");
  auto first = net::unix_listen(rt(), {p}, test::echo_behavior);
  ASSERT_TRUE(first) << describe(first.error());
  auto second = net::unix_listen(rt(), {p}, test::echo_behavior);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), static_cast<uint8_t>(errc::address_in_use))
    << describe(second.error());
  // The first one still serves its path.
  auto data = test::random_bytes(1000, 34);
  auto out = echo_through(p, data);
  ASSERT_TRUE(out);
  ASSERT_FALSE(out->reason) << describe(out->reason);
  EXPECT_EQ(out->echoed, data);
}

TEST_P(unix_socket_test, abstract_name_in_use_is_address_in_use) {
  auto name = abstract_name();
  auto first = net::unix_listen(rt(), {name}, test::echo_behavior);
  ASSERT_TRUE(first) << describe(first.error());
  auto second = net::unix_listen(rt(), {name}, test::echo_behavior);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), static_cast<uint8_t>(errc::address_in_use))
    << describe(second.error());
}

TEST_P(unix_socket_test, regular_file_and_directory_are_never_removed) {
  auto file = path("data.txt");
  std::ofstream{file} << "precious";
  auto a = net::unix_listen(rt(), {file}, test::echo_behavior);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), static_cast<uint8_t>(errc::address_in_use))
    << describe(a.error());
  std::ifstream in{file};
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
  auto dir = path("subdir");
  fs::create_directory(dir);
  auto b = net::unix_listen(rt(), {dir}, test::echo_behavior);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), static_cast<uint8_t>(errc::address_in_use))
    << describe(b.error());
  EXPECT_TRUE(fs::is_directory(dir));
}

TEST_P(unix_socket_test, mode_is_applied) {
  auto p = path("mode.sock");
  net::unix_listen_options opts{p};
  opts.mode = 0600;
  auto srv = net::unix_listen(rt(), opts, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  struct stat st{};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  opts.path = path("mode2.sock");
  opts.mode = 0666;
  auto srv2 = net::unix_listen(rt(), opts, test::echo_behavior);
  ASSERT_TRUE(srv2) << describe(srv2.error());
  ASSERT_EQ(::stat(opts.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}

TEST_P(unix_socket_test, listener_removes_its_path_when_closed) {
  auto p = path("gone.sock");
  auto srv = net::unix_listen(rt(), {p}, test::echo_behavior);
  ASSERT_TRUE(srv) << describe(srv.error());
  ASSERT_TRUE(fs::exists(p));
  caf::anon_send(srv->actor, net::close_atom::value);
  EXPECT_TRUE(test::wait_until([&] { return !fs::exists(p); }));
}

TEST_P(unix_socket_test, bad_names_and_missing_paths_are_typed_errors) {
  auto long_name = path(std::string(200, 'x').c_str());
  auto a = net::unix_listen(rt(), {long_name}, test::echo_behavior);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), static_cast<uint8_t>(errc::invalid_argument));
  auto b = net::unix_connect(rt(), "", test::echo_behavior);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), static_cast<uint8_t>(errc::invalid_argument));
  net::unix_listen_options bad_mode{path("m.sock")};
  bad_mode.mode = 010000;
  auto c = net::unix_listen(rt(), bad_mode, test::echo_behavior);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), static_cast<uint8_t>(errc::invalid_argument));
  auto missing = echo_through(path("nobody.sock"), {});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->reason.code(), static_cast<uint8_t>(errc::not_found))
    << describe(missing->reason);
}

ACTIO_TEST_ALL_BACKENDS(unix_socket_test);

} // namespace
