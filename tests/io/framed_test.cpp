// Framed connections (io/framed.hpp) over real TCP sockets on every
// backend: line, length-delimited, protobuf and a user-defined codec,
// server and client side; a too-long frame closes only its connection; a
// peer that never reads stops the reading, also when the replies are larger
// than the frames; pause/resume and feed/flush; the default drain.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/framed.hpp"
#include "actio/io/length_delimited.hpp"
#include "actio/io/length_frames.hpp"
#include "actio/io/line_frames.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/tcp_connect.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/unix_connect.hpp"
#include "actio/net/unix_listener.hpp"
#include "actio/proto/chat.pb.h"
#include "actio/proto/protobuf_frames.hpp"
#include "support/collector.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

bool is(const caf::error& err, errc code) {
  return test::is_errc(err, code);
}

/// A user-defined codec: one length byte, then that many bytes; frames
/// travel upper-cased. No `finish`: bytes left at EOF are `truncated`.
struct byte_len_codec {
  using in_frame = std::string;
  using out_frame = std::string;
  io::decoded<std::string> decode(const uint8_t* data, size_t size) {
    io::decoded<std::string> d;
    if (size == 0 || size < 1u + data[0])
      return d;
    d.frame = std::string(reinterpret_cast<const char*>(data + 1), data[0]);
    d.consumed = 1u + data[0];
    return d;
  }
  void encode(const std::string& s, byte_buffer& out) {
    out.push_back(static_cast<uint8_t>(s.size()));
    for (char c : s)
      out.push_back(static_cast<uint8_t>(std::toupper(c)));
  }
};
static_assert(io::codec<byte_len_codec>);
static_assert(!io::codec_with_finish<byte_len_codec>);
static_assert(io::codec_with_finish<io::line_frames>);
static_assert(io::codec_with_finish<io::protobuf_frames<proto::chat::Say>>);

class framed_test : public test::backend_test {
protected:
  /// Serves `factory`; the reason each connection closed lands in `closed_`.
  template <class C>
  uint16_t serve(C codec, io::framed_factory<C> user, io::framed_options opts = {},
                 net::connection_options conn = {}) {
    auto closed = closed_;
    auto srv = net::tcp_listen(
      rt(), {"127.0.0.1", 0},
      io::framed<C>(std::move(codec),
                    [user, closed](io::framed_self<C> self) -> caf::behavior {
                      auto b = user(self);
                      caf::message_handler last{
                        [closed](const connection_closed& c) {
                          closed->push(c.reason);
                        }};
                      return last.or_else(b.as_behavior_impl());
                    },
                    opts),
      conn);
    EXPECT_TRUE(srv) << describe(srv.error());
    if (srv)
      listener_ = srv->actor;
    return srv ? srv->port : 0;
  }

  std::string describe(const caf::error& err) {
    return sys().render(err);
  }



  /// Closing reasons, in order, waited for with a bound.
  std::shared_ptr<test::collector<caf::error>> closed_
    = std::make_shared<test::collector<caf::error>>();
  caf::actor listener_;
};

caf::behavior line_echo(io::framed_self<io::line_frames> self) {
  return {[=](std::string& line) { self.send(line); }};
}

std::string recv_string(int fd, size_t n) {
  std::string s(n, '\0');
  if (!test::recv_exact(fd, reinterpret_cast<uint8_t*>(s.data()), n))
    return "<short>";
  return s;
}

bool send_string(int fd, const std::string& s) {
  return test::send_all(fd, reinterpret_cast<const uint8_t*>(s.data()),
                        s.size());
}

TEST_P(framed_test, line_echo_with_a_framed_client) {
  auto port = serve<io::line_frames>(io::line_frames{1024}, line_echo);
  ASSERT_NE(port, 0);
  auto got = std::make_shared<std::promise<std::vector<std::string>>>();
  constexpr int n = 500;
  auto client = [got](io::framed_self<io::line_frames> self) -> caf::behavior {
    auto lines = std::make_shared<std::vector<std::string>>();
    return {
      [=](const connected& c) {
        if (c.reason)
          return;
        for (int i = 0; i < n; ++i)
          self.send("line " + std::to_string(i) + std::string(i % 37, 'x'));
      },
      [=](std::string& line) {
        lines->push_back(line);
        if (lines->size() == n)
          self.finish();
      },
      [=](const connection_closed&) { got->set_value(*lines); },
    };
  };
  auto conn = net::tcp_connect(rt(), "127.0.0.1", port,
                               io::framed(io::line_frames{1024}, client));
  ASSERT_TRUE(conn);
  auto fut = got->get_future();
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  auto lines = fut.get();
  ASSERT_EQ(lines.size(), size_t{n});
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(lines[i], "line " + std::to_string(i) + std::string(i % 37, 'x'));
  // The server saw the client's EOF after the last line and finished.
  ASSERT_TRUE(closed_->wait(1));
  EXPECT_FALSE(closed_->xs[0]) << describe(closed_->xs[0]);
}

TEST_P(framed_test, lines_strip_cr_and_a_last_line_without_newline_arrives) {
  auto port = serve<io::line_frames>(io::line_frames{1024}, line_echo);
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_string(fd, "a\r\n\nbc\r\nlast"));
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(recv_string(fd, 11), "a\n\nbc\nlast\n");
  EXPECT_TRUE(test::wait_eof(fd));
  ::close(fd);
}

TEST_P(framed_test, length_frames_round_trip) {
  auto port = serve<io::length_frames>(
    io::length_frames{2 * 1024 * 1024},
    [](io::framed_self<io::length_frames> self) -> caf::behavior {
      return {[=](byte_buffer& f) { self.send(f); }};
    });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  std::vector<byte_buffer> payloads{{}, test::random_bytes(1, 1),
                                    test::random_bytes(1024 * 1024, 2),
                                    test::random_bytes(77, 3)};
  byte_buffer wire;
  for (auto& p : payloads)
    ASSERT_FALSE(io::append_frame(p.data(), p.size(), wire));
  ASSERT_TRUE(test::send_all(fd, wire.data(), wire.size()));
  byte_buffer back(wire.size());
  ASSERT_TRUE(test::recv_exact(fd, back.data(), back.size()));
  EXPECT_EQ(back, wire);
  ::close(fd);
}

TEST_P(framed_test, protobuf_frames_round_trip) {
  using codec = io::protobuf_frames<proto::chat::Say>;
  auto port = serve<codec>(codec{}, [](io::framed_self<codec> self) -> caf::behavior {
    return {[=](proto::message<proto::chat::Say>& m) {
      m->set_text(m->text() + "!");
      self.send(m);
    }};
  });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  byte_buffer wire;
  codec enc;
  for (int i = 0; i < 100; ++i) {
    proto::chat::Say say;
    say.set_text("hello " + std::to_string(i));
    ASSERT_FALSE(enc.encode(say, wire));
  }
  ASSERT_TRUE(test::send_all(fd, wire.data(), wire.size()));
  codec dec;
  int seen = 0;
  byte_buffer buf;
  while (seen < 100) {
    uint8_t chunk[4096];
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    ASSERT_GT(n, 0);
    buf.insert(buf.end(), chunk, chunk + n);
    for (;;) {
      auto d = dec.decode(buf.data(), buf.size());
      ASSERT_FALSE(d.error);
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(d.consumed));
      if (!d.frame)
        break;
      EXPECT_EQ(d.frame->value.text(), "hello " + std::to_string(seen) + "!");
      ++seen;
    }
  }
  // Garbage that is a valid frame but no Say: malformed, connection closed.
  byte_buffer bad;
  byte_buffer junk{0xff, 0xff, 0xff};
  ASSERT_FALSE(io::append_frame(junk.data(), junk.size(), bad));
  ASSERT_TRUE(test::send_all(fd, bad.data(), bad.size()));
  EXPECT_TRUE(test::wait_eof(fd));
  ASSERT_TRUE(closed_->wait(1));
  EXPECT_TRUE(is(closed_->xs[0], errc::malformed)) << describe(closed_->xs[0]);
  ::close(fd);
}

TEST_P(framed_test, user_defined_codec_and_truncated_input_at_eof) {
  auto port = serve<byte_len_codec>(
    byte_len_codec{}, [](io::framed_self<byte_len_codec> self) -> caf::behavior {
      return {[=](std::string& s) { self.send(s); }};
    });
  int fd = test::connect_tcp(port);
  ASSERT_GE(fd, 0);
  std::string wire("\x03" "abc" "\x00" "\x02" "xy", 8); // "abc", "", "xy"
  ASSERT_TRUE(send_string(fd, wire));
  EXPECT_EQ(recv_string(fd, 8), std::string("\x03" "ABC" "\x00" "\x02" "XY", 8));
  ASSERT_TRUE(send_string(fd, "\x05" "ab")); // 2 of 5 bytes, then EOF
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(test::wait_eof(fd));
  ASSERT_TRUE(closed_->wait(1));
  EXPECT_TRUE(is(closed_->xs[0], errc::truncated)) << describe(closed_->xs[0]);
  ::close(fd);
}

TEST_P(framed_test, too_long_line_closes_only_that_connection) {
  auto port = serve<io::line_frames>(io::line_frames{16}, line_echo);
  int good = test::connect_tcp(port);
  int bad = test::connect_tcp(port);
  ASSERT_GE(good, 0);
  ASSERT_GE(bad, 0);
  ASSERT_TRUE(send_string(good, "one\n"));
  EXPECT_EQ(recv_string(good, 4), "one\n");
  ASSERT_TRUE(send_string(bad, std::string(100, 'z')));
  EXPECT_TRUE(test::wait_eof(bad));
  ASSERT_TRUE(closed_->wait(1));
  EXPECT_TRUE(is(closed_->xs[0], errc::too_long)) << describe(closed_->xs[0]);
  ASSERT_TRUE(send_string(good, "two\n"));
  EXPECT_EQ(recv_string(good, 4), "two\n");
  ::close(good);
  ::close(bad);
}

TEST_P(framed_test, peer_that_never_reads_stops_the_reading) {
  auto handled = std::make_shared<std::atomic<size_t>>(0);
  net::connection_options conn;
  conn.socket.send_buffer = 64 * 1024;
  auto port = serve<io::line_frames>(
    io::line_frames{1024},
    [handled](io::framed_self<io::line_frames> self) -> caf::behavior {
      return {[=](std::string& line) {
        *handled += line.size() + 1;
        self.send(line);
      }};
    },
    {}, conn);
  // The client never reads, with a small receive buffer (no autotuning).
  int fd = test::connect_tcp(port, 64 * 1024);
  ASSERT_GE(fd, 0);
  std::string line(1023, 'p');
  line += '\n';
  std::string block;
  for (int i = 0; i < 1024; ++i)
    block += line; // 1 MiB
  size_t sent = 0;
  bool stalled = false;
  for (int i = 0; i < 64 && !stalled; ++i) {
    if (!test::send_all(fd, reinterpret_cast<const uint8_t*>(block.data()),
                        block.size(), 3s))
      stalled = true;
    else
      sent += block.size();
  }
  EXPECT_TRUE(stalled) << "64 MiB went in: nothing pushed back";
  auto seen = handled->load();
  // Reading stopped: what the server handled is bounded by the framed
  // limits and the kernel buffers, not by what the client offered.
  EXPECT_LT(seen, size_t{8} * 1024 * 1024) << sent;
  RecordProperty("offered_before_stall", std::to_string(sent));
  RecordProperty("handled_by_server", std::to_string(seen));
  bool late = test::wait_until([&] { return handled->load() > 0; }, 5s);
  RecordProperty("handled_5s_later", std::to_string(handled->load()) + (late ? "" : " never"));
  // Another connection is served meanwhile.
  int other = test::connect_tcp(port);
  ASSERT_TRUE(send_string(other, "still here\n"));
  EXPECT_EQ(recv_string(other, 11), "still here\n");
  EXPECT_LT(handled->load() - seen, size_t{64 * 1024});
  ::close(other);
  ::close(fd);
}

TEST_P(framed_test, replies_larger_than_the_frames_stop_the_decoding) {
  // Each 2-byte line is answered with 64 KiB (a GET of a large value) and
  // the client never reads: decoding must stop once max_bytes_in_flight
  // (256 KiB) of replies wait, not go through all lines already read.
  auto handled = std::make_shared<std::atomic<size_t>>(0);
  net::connection_options conn;
  conn.socket.send_buffer = 64 * 1024;
  auto port = serve<io::line_frames>(
    io::line_frames{1024},
    [handled](io::framed_self<io::line_frames> self) -> caf::behavior {
      return {[=](std::string&) {
        ++*handled;
        self.send(std::string(64 * 1024, 'r'));
      }};
    },
    {}, conn);
  int fd = test::connect_tcp(port, 64 * 1024); // never reads
  ASSERT_GE(fd, 0);
  std::string lines;
  for (int i = 0; i < 10000; ++i)
    lines += "x\n"; // 20,000 bytes: within one read window
  ASSERT_TRUE(send_string(fd, lines));
  ASSERT_TRUE(test::wait_until([&] { return handled->load() > 0; }, 10s));
  // Unbounded, all 10,000 would be handled within milliseconds (625 MiB
  // of replies queued); bounded, a few dozen fit the kernel buffers.
  EXPECT_FALSE(test::wait_until([&] { return handled->load() >= 200; }, 3s))
    << handled->load() << " lines handled";
  RecordProperty("handled", std::to_string(handled->load()));
  ::close(fd);
}

TEST_P(framed_test, pause_holds_the_frames_until_resume) {
  // One frame queued at a time (max_frames 1): the behaviour pauses on a
  // line, asks another actor, and on its answer feeds two frames, flushes
  // and resumes. So it never has two questions out, and the answers come
  // back complete and in order.
  auto peak = std::make_shared<std::atomic<int>>(0);
  auto out = std::make_shared<std::atomic<int>>(0);
  // (An argument: CAF 0.17 spawning an argument-less function actor binds
  // a null shared_ptr, which UBSan reports.)
  auto upper = sys().spawn([](int) -> caf::behavior {
    return {[](std::string s) {
      for (auto& c : s)
        c = static_cast<char>(std::toupper(c));
      return s;
    }};
  }, 0);
  io::framed_options opts;
  opts.max_frames = 1;
  auto port = serve<io::line_frames>(
    io::line_frames{1024},
    [=](io::framed_self<io::line_frames> self) -> caf::behavior {
      return {[=](std::string& line) {
        self.pause();
        int n = ++*out;
        if (n > peak->load())
          *peak = n;
        self.connection()
          ->request(upper, caf::infinite, line)
          .then([=](std::string& up) {
            --*out;
            self.feed(line);
            self.feed(up);
            self.flush();
            self.resume();
          });
      }};
    },
    opts);
  int fd = test::connect_tcp(port);
  std::string req, want;
  for (int i = 0; i < 100; ++i) {
    auto line = "line " + std::to_string(i) + " abc";
    req += line + "\n";
    want += line + "\n";
    for (auto& c : line)
      c = static_cast<char>(std::toupper(c));
    want += line + "\n";
  }
  ASSERT_TRUE(send_string(fd, req)); // in one write
  EXPECT_EQ(recv_string(fd, want.size()), want);
  EXPECT_EQ(peak->load(), 1) << "a frame arrived while paused";
  ::shutdown(fd, SHUT_WR); // EOF waits for resume(), then the default finish
  EXPECT_TRUE(test::wait_eof(fd, 10s));
  ::close(fd);
  caf::anon_send_exit(upper, caf::exit_reason::user_shutdown);
}

TEST_P(framed_test, draining_default_finishes_the_connection) {
  auto port = serve<io::line_frames>(io::line_frames{1024}, line_echo);
  int fd = test::connect_tcp(port);
  ASSERT_TRUE(send_string(fd, "before\n"));
  EXPECT_EQ(recv_string(fd, 7), "before\n");
  caf::scoped_actor self{sys()};
  std::optional<net::drain_result> result;
  self->send(listener_, net::drain_atom::value, caf::timespan{20s});
  // The server flushes, shuts its write side down (EOF here) and reads on.
  EXPECT_TRUE(test::wait_eof(fd, 10s));
  ::close(fd); // our EOF: the server closes, the drain completes
  self->receive([&](net::drain_result& r) { result = r; },
                [&](caf::error& err) { FAIL() << describe(err); },
                caf::after(30s) >> [&] { FAIL() << "no drain result"; });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->drained, 1u);
  EXPECT_EQ(result->forced, 0u);
}

TEST_P(framed_test, other_actors_send_frames_with_a_reply) {
  auto port = serve<io::line_frames>(io::line_frames{1024}, line_echo);
  auto echoed = std::make_shared<std::promise<std::string>>();
  auto conn = net::tcp_connect(
    rt(), "127.0.0.1", port,
    io::framed(io::line_frames{1024},
               [echoed](io::framed_self<io::line_frames>) -> caf::behavior {
                 return {[=](std::string& line) { echoed->set_value(line); }};
               }));
  ASSERT_TRUE(conn);
  caf::scoped_actor self{sys()};
  bool acked = false;
  self->request(*conn, 30s, io::send_frame_atom::value, std::string{"hi there"})
    .receive([&] { acked = true; },
             [&](caf::error& err) { FAIL() << describe(err); });
  EXPECT_TRUE(acked);
  auto fut = echoed->get_future();
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), "hi there");
  // A line with a newline cannot be encoded: an error, and the connection closes.
  caf::error err;
  self->request(*conn, 30s, io::send_frame_atom::value, std::string{"a\nb"})
    .receive([&] {}, [&](caf::error& e) { err = e; });
  EXPECT_TRUE(err);
}

TEST_P(framed_test, unix_socket_server_and_client) {
  auto name = "@actio-framed-" + std::to_string(::getpid()) + "-" + GetParam();
  auto srv = net::unix_listen(rt(), {name}, io::framed(io::line_frames{64}, line_echo));
  ASSERT_TRUE(srv) << describe(srv.error());
  auto got = std::make_shared<std::promise<std::string>>();
  auto conn = net::unix_connect(
    rt(), name,
    io::framed(io::line_frames{64},
               [got](io::framed_self<io::line_frames> self) -> caf::behavior {
                 return {
                   [=](const connected& c) {
                     if (!c.reason)
                       self.send("over unix");
                   },
                   [=](std::string& line) {
                     got->set_value(line);
                     self.close();
                   },
                 };
               }));
  ASSERT_TRUE(conn);
  auto fut = got->get_future();
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), "over unix");
  caf::anon_send(srv->actor, net::close_atom::value);
}

ACTIO_TEST_ALL_BACKENDS(framed_test);

} // namespace
