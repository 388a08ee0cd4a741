// Framed connections (io/framed.hpp) serving frames asynchronously, over
// real TCP sockets on every backend: a decode error reaches the behaviour
// after the frames before it (handled: the behaviour answers and ends;
// unhandled: the connection closes with it); `pause()` holds frames and
// the peer's EOF until `resume()`, in order; `send` takes any type the
// codec encodes; the byte counters.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/framed.hpp"
#include "actio/io/line_frames.hpp"
#include "actio/net/tcp_listener.hpp"
#include "support/collector.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

bool is(const caf::error& err, errc code) {
  return test::is_errc(err, code);
}

/// Lines, plus numbers sent as "#<n>" lines: a second `encode` overload.
struct numbered_lines : io::line_frames {
  using io::line_frames::line_frames;
  using io::line_frames::encode;
  caf::error encode(int n, byte_buffer& out) const {
    std::string line = "#"; // (append: GCC 12's -Wrestrict misfires on +)
    line.append(std::to_string(n));
    return encode(line, out);
  }
};
static_assert(io::codec_with_finish<numbered_lines>);
static_assert(io::encodes<numbered_lines, int>);
static_assert(!io::encodes<io::line_frames, int>);

using self_t = io::framed_self<numbered_lines>;

class framed_flow_test : public test::backend_test {
protected:
  /// Serves `user`; each connection's closing reason lands in `closed_`.
  uint16_t serve(size_t max_line, io::framed_factory<numbered_lines> user) {
    auto st = state_;
    auto srv = net::tcp_listen(
      rt(), {"127.0.0.1", 0},
      io::framed(numbered_lines{max_line},
                 [user, st](self_t self) -> caf::behavior {
                   caf::message_handler last{
                     [st](const connection_closed& c) { st->push(c.reason); }};
                   return last.or_else(user(self).as_behavior_impl());
                 }));
    EXPECT_TRUE(srv) << sys().render(srv.error());
    return srv ? srv->port : 0;
  }



  /// Closing reasons, in order, waited for with a bound.
  std::shared_ptr<test::collector<caf::error>> state_
    = std::make_shared<test::collector<caf::error>>();
};

bool send_string(int fd, const std::string& s) {
  return test::send_all(fd, reinterpret_cast<const uint8_t*>(s.data()),
                        s.size());
}

/// Everything until the server's EOF (bounded).
std::string read_to_eof(int fd) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      return out;
    out.append(buf, static_cast<size_t>(n));
  }
  return out + "<no EOF>";
}

TEST_P(framed_flow_test, a_handled_decode_error_comes_after_the_frames_before_it) {
  auto port = serve(8, [](self_t self) -> caf::behavior {
    return {
      [=](std::string& line) { self.send(line); },
      [=](const io::decode_failed& f) {
        self.send(is(f.reason, errc::too_long) ? "too long" : "other");
        self.finish();
      },
    };
  });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  // One write: two lines, one too long, one after it that is never read.
  std::string in = "ab\ncd\n";
  in.append(30, 'x').append("\nef\n");
  ASSERT_TRUE(send_string(fd, in));
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(read_to_eof(fd), "ab\ncd\ntoo long\n");
  ASSERT_TRUE(state_->wait(1));
  EXPECT_FALSE(state_->xs[0]) << sys().render(state_->xs[0]); // finished
  ::close(fd);
}

// Unhandled, the error closes the connection at once (what was sent and
// not written yet is dropped), but only after the behaviour had every line
// before it.
TEST_P(framed_flow_test, an_unhandled_decode_error_closes_after_the_frames_before_it) {
  auto lines = std::make_shared<std::vector<std::string>>();
  auto port = serve(8, [lines](self_t self) -> caf::behavior {
    return {[=](std::string& line) {
      lines->push_back(line);
      self.send(line);
    }};
  });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  std::string in = "ab\ncd\n";
  in.append(30, 'x').append("\n");
  ASSERT_TRUE(send_string(fd, in));
  auto out = read_to_eof(fd);
  EXPECT_EQ(std::string("ab\ncd\n").rfind(out, 0), 0u) << out; // a prefix
  ASSERT_TRUE(state_->wait(1));
  EXPECT_TRUE(is(state_->xs[0], errc::too_long)) << sys().render(state_->xs[0]);
  EXPECT_EQ(*lines, (std::vector<std::string>{"ab", "cd"}));
  ::close(fd);
}

// Each line is answered after a timer (an asynchronous answer): paused
// meanwhile, the next lines and the peer's EOF wait, in order; `send` of an
// int goes through the codec's second `encode`; the byte counters.
TEST_P(framed_flow_test, pause_holds_frames_and_eof_until_resume) {
  auto port = serve(64, [](self_t self) -> caf::behavior {
    auto waiting = std::make_shared<std::vector<std::string>>();
    auto count = std::make_shared<int>(0);
    return {
      [=](std::string& line) {
        EXPECT_TRUE(waiting->empty()) << "a line while paused: " << line;
        waiting->push_back(line);
        self.pause();
        self.connection()->start_timer(20ms);
      },
      [=](const timer_expired&) {
        self.send(waiting->front());
        self.send(++*count);
        waiting->clear();
        self.resume();
      },
      [=](const read_closed&) {
        EXPECT_TRUE(waiting->empty()) << "EOF while paused";
        std::string rx = "rx ", tx = "tx ";
        self.send(rx.append(std::to_string(self.bytes_received())));
        self.send(tx.append(std::to_string(self.bytes_sent())));
        self.finish();
      },
    };
  });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_string(fd, "one\ntwo\nthree\n")); // 14 bytes
  ::shutdown(fd, SHUT_WR);
  // 4+3 + 4+3 + 6+3 + 6 bytes sent before "tx": 29.
  EXPECT_EQ(read_to_eof(fd), "one\n#1\ntwo\n#2\nthree\n#3\nrx 14\ntx 29\n");
  ASSERT_TRUE(state_->wait(1));
  EXPECT_FALSE(state_->xs[0]) << sys().render(state_->xs[0]);
  ::close(fd);
}

} // namespace

ACTIO_TEST_ALL_BACKENDS(framed_flow_test);
