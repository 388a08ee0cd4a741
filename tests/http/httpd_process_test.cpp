// actio-httpd as real clients use it: curl and Python's http.client against
// the program on 127.0.0.1, serving a scratch directory: /hello, files
// byte-exact, Range (206/416), If-Modified-Since (304), HEAD, 100-continue,
// keep-alive reuse, path escapes (`..`, `%2e%2e`, a symlink out of the
// root) refused, and a graceful stop. Skipped, saying why, without curl.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "http/http_client.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

class httpd_process : public ::testing::Test {
protected:
  void SetUp() override {
    if (::access("/usr/bin/curl", X_OK) != 0)
      GTEST_SKIP() << "curl not installed (Debian package curl; ./actio deps installs it)";
    base_ = fs::temp_directory_path() / ("actio-httpd-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    spit(root_ / "index.html", "<h1>index</h1>\n");
    spit(root_ / "sub" / "page.txt", "inside\n");
    auto bytes = random_bytes(1 << 20, 7);
    data_.assign(bytes.begin(), bytes.end());
    spit(root_ / "data.bin", data_);
    spit(base_ / "secret.txt", "outside\n");
    fs::create_symlink(base_ / "secret.txt", root_ / "out-link");
    fs::create_symlink("sub/page.txt", root_ / "in-link");
    child_ = std::make_unique<child_process>(spawn_process(
      ACTIO_HTTPD_BIN, {"--port", "0", "--root", root_.string()}));
    port_ = parse_port(child_->read_line(30s));
    ASSERT_NE(port_, 0);
    url_ = "http://127.0.0.1:" + std::to_string(port_);
  }

  void TearDown() override {
    if (child_) {
      EXPECT_EQ(child_->stop(SIGTERM, 30s), 0) << "actio-httpd's wait status";
    }
    if (!base_.empty())
      fs::remove_all(base_);
  }

  std::string run(const std::string& bin, const std::vector<std::string>& args,
                  bool merge = false) {
    return http_client::run_program(bin, args, merge);
  }

  /// curl ARGS -w '%{http_code}' into `file`: the status.
  std::string curl(std::vector<std::string> args, const fs::path& file) {
    std::vector<std::string> all = {"-sS", "-o", file.string(), "-w", "%{http_code}"};
    all.insert(all.end(), args.begin(), args.end());
    return run("/usr/bin/curl", all);
  }

  fs::path base_, root_;
  std::string data_;
  std::unique_ptr<child_process> child_;
  uint16_t port_ = 0;
  std::string url_;
};

} // namespace

TEST_F(httpd_process, curl_hello_is_exactly_13_bytes_of_text_plain) {
  auto out = base_ / "hello";
  auto w = run("/usr/bin/curl", {"-sS", "-o", out.string(), "-w",
                                 "%{http_code} %{content_type} %{size_download}",
                                 url_ + "/hello"});
  EXPECT_EQ(w, "200 text/plain 13");
  EXPECT_EQ(slurp(out), "Hello, World!");
}

TEST_F(httpd_process, curl_files_ranges_and_conditional_gets) {
  auto out = base_ / "out";
  EXPECT_EQ(curl({url_ + "/data.bin"}, out), "200");
  EXPECT_TRUE(slurp(out) == data_) << "data.bin differs";
  EXPECT_EQ(curl({url_ + "/"}, out), "200");
  EXPECT_EQ(slurp(out), "<h1>index</h1>\n");
  EXPECT_EQ(curl({url_ + "/in-link"}, out), "200");
  EXPECT_EQ(slurp(out), "inside\n");
  EXPECT_EQ(curl({"-r", "1000-1999", url_ + "/data.bin"}, out), "206");
  EXPECT_TRUE(slurp(out) == data_.substr(1000, 1000));
  EXPECT_EQ(curl({"-r", "-10", url_ + "/data.bin"}, out), "206");
  EXPECT_TRUE(slurp(out) == data_.substr(data_.size() - 10));
  EXPECT_EQ(curl({"-r", "2000000-", url_ + "/data.bin"}, out), "416");
  // If-Modified-Since with the Last-Modified it was given: 304.
  auto head = run("/usr/bin/curl", {"-sS", "-I", url_ + "/sub/page.txt"});
  auto at = head.find("Last-Modified: ");
  ASSERT_NE(at, std::string::npos) << head;
  auto lm = head.substr(at + 15, head.find('\r', at) - at - 15);
  EXPECT_NE(head.find("Content-Length: 7\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_EQ(curl({"-H", "If-Modified-Since: " + lm, url_ + "/sub/page.txt"}, out),
            "304");
  EXPECT_EQ(curl({"-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT",
                  url_ + "/sub/page.txt"},
                 out),
            "200");
}

TEST_F(httpd_process, curl_path_escapes_are_refused) {
  auto out = base_ / "out";
  EXPECT_EQ(curl({"--path-as-is", url_ + "/../secret.txt"}, out), "403");
  EXPECT_EQ(curl({"--path-as-is", url_ + "/sub/../../secret.txt"}, out), "403");
  EXPECT_EQ(curl({"--path-as-is", url_ + "/%2e%2e/secret.txt"}, out), "403");
  EXPECT_EQ(curl({"--path-as-is", url_ + "/sub/%2E%2E%2f%2e%2e%2fsecret.txt"}, out),
            "403");
  EXPECT_EQ(curl({url_ + "/out-link"}, out), "403");
  EXPECT_EQ(curl({url_ + "/missing"}, out), "404");
  EXPECT_EQ(curl({url_ + "/a%00b"}, out), "400");
  EXPECT_EQ(slurp(out).find("outside"), std::string::npos);
}

TEST_F(httpd_process, curl_keep_alive_reuse_and_100_continue) {
  // Two URLs on one command line: the second reuses the connection.
  auto w = run("/usr/bin/curl", {"-sS", "-o", "/dev/null", "-o", "/dev/null", "-w",
                                 "%{num_connects};", url_ + "/hello", url_ + "/hello"});
  EXPECT_EQ(w, "1;0;");
  auto body = base_ / "body";
  spit(body, std::string(100000, 'b'));
  auto v = run("/usr/bin/curl", {"-sv", "-o", "/dev/null", "-H", "Expect: 100-continue",
                                 "--data-binary", "@" + body.string(), url_ + "/hello"},
               true);
  EXPECT_NE(v.find("HTTP/1.1 100 Continue"), std::string::npos) << v;
  EXPECT_NE(v.find("HTTP/1.1 200 OK"), std::string::npos) << v;
}

TEST_F(httpd_process, python_http_client) {
  auto script = R"(
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=20)
out = []
for p in ['/hello', '/hello', '/sub/page.txt']:
    c.request('GET', p)
    r = c.getresponse()
    out.append('%d %r' % (r.status, r.read()))
c.request('HEAD', '/data.bin')
r = c.getresponse()
out.append('%d %s %r' % (r.status, r.getheader('Content-Length'), r.read()))
c.request('GET', '/data.bin', headers={'Range': 'bytes=0-3'})
r = c.getresponse()
out.append('%d %s %d' % (r.status, r.getheader('Content-Range'), len(r.read())))
c.request('POST', '/hello', body=b'x' * 2000000)
r = c.getresponse()
out.append('%d %s' % (r.status, r.getheader('Connection')))
print('|'.join(out))
)";
  auto out = run("/usr/bin/python3", {"-c", script, std::to_string(port_)});
  EXPECT_EQ(out, "200 b'Hello, World!'|200 b'Hello, World!'|200 b'inside\\n'|"
                 "200 1048576 b''|206 bytes 0-3/1048576 4|413 close\n");
}
