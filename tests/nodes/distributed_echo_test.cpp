// Distributed actio-echo: a front-end process forwarding lines to worker
// node processes through CAF's middleman. Real processes, 127.0.0.1,
// ports from the OS.

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "nodes/node_support.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

/// `count` lines of random printable text (with some '\r' and empty lines).
std::vector<std::string> make_lines(size_t count, uint32_t seed) {
  std::mt19937 gen{seed};
  std::uniform_int_distribution<int> len{0, 120};
  std::uniform_int_distribution<int> ch{32, 126};
  std::vector<std::string> lines;
  for (size_t i = 0; i < count; ++i) {
    std::string line;
    auto n = len(gen);
    for (int k = 0; k < n; ++k)
      line.push_back(static_cast<char>(ch(gen)));
    if (i % 17 == 3)
      line.push_back('\r');
    line.push_back('\n');
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string join(const std::vector<std::string>& lines, size_t from,
                 size_t to) {
  std::string result;
  for (auto i = from; i < to; ++i)
    result.append(lines[i]);
  return result;
}

struct front_end {
  test::child_process proc;
  uint16_t port = 0;
};

front_end start_front_end(const std::vector<uint16_t>& workers,
                          const std::vector<std::string>& extra = {},
                          test::spawn_options opts = {}) {
  std::string list;
  for (auto p : workers) {
    if (!list.empty())
      list.push_back(',');
    list.append("127.0.0.1:" + std::to_string(p));
  }
  std::vector<std::string> args{"--port", "0", "--workers", list};
  args.insert(args.end(), extra.begin(), extra.end());
  front_end fe;
  fe.proc = test::spawn_process(ACTIO_ECHO_BIN, args, opts);
  fe.port = test::parse_port(fe.proc.read_line(30s));
  return fe;
}

bool send_text(int fd, const std::string& text) {
  return test::send_all(fd, reinterpret_cast<const uint8_t*>(text.data()),
                        text.size(), 30s);
}

TEST(distributed_echo, two_workers_echo_many_lines_byte_exact) {
  auto w1 = test::start_worker();
  auto w2 = test::start_worker();
  ASSERT_NE(w1.port, 0);
  ASSERT_NE(w2.port, 0);
  auto fe = start_front_end({w1.port, w2.port});
  ASSERT_NE(fe.port, 0);
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  // Two clients at once, 3000 lines each, plus a last line without newline.
  std::vector<int> fds{test::connect_tcp(fe.port), test::connect_tcp(fe.port)};
  for (size_t c = 0; c < fds.size(); ++c) {
    ASSERT_GE(fds[c], 0);
    auto lines = make_lines(3000, static_cast<uint32_t>(c + 1));
    lines.back().pop_back(); // no trailing newline
    auto text = join(lines, 0, lines.size());
    ASSERT_TRUE(send_text(fds[c], text));
    ::shutdown(fds[c], SHUT_WR);
  }
  for (size_t c = 0; c < fds.size(); ++c) {
    auto lines = make_lines(3000, static_cast<uint32_t>(c + 1));
    lines.back().pop_back();
    auto text = join(lines, 0, lines.size());
    EXPECT_EQ(test::read_exact(fds[c], text.size()), text);
    EXPECT_TRUE(test::wait_eof(fds[c], 30s)); // then the front-end closes
    ::close(fds[c]);
  }
  EXPECT_EQ(fe.proc.stop(SIGTERM), 0);
  EXPECT_EQ(w1.proc.stop(SIGTERM), 0);
  EXPECT_EQ(w2.proc.stop(SIGTERM), 0);
}

TEST(distributed_echo, kill_9_of_a_worker_mid_stream_loses_no_line) {
  auto w1 = test::start_worker();
  auto w2 = test::start_worker();
  ASSERT_NE(w1.port, 0);
  ASSERT_NE(w2.port, 0);
  auto fe = start_front_end({w1.port, w2.port});
  ASSERT_NE(fe.port, 0);
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  auto fd = test::connect_tcp(fe.port);
  ASSERT_GE(fd, 0);
  auto lines = make_lines(6000, 7);
  // Half the lines go out; once the first 100 came back, worker 1 dies
  // with lines still owed; then the rest go out.
  ASSERT_TRUE(send_text(fd, join(lines, 0, 3000)));
  auto first = join(lines, 0, 100);
  ASSERT_EQ(test::read_exact(fd, first.size()), first);
  ASSERT_EQ(::kill(w1.proc.pid, SIGKILL), 0);
  ASSERT_TRUE(send_text(fd, join(lines, 3000, 6000)));
  auto rest = join(lines, 100, 6000);
  EXPECT_EQ(test::read_exact(fd, rest.size()), rest);
  // The front-end noticed.
  EXPECT_TRUE(test::read_until(fe.proc, "127.0.0.1:" + std::to_string(w1.port)));
  // And a new line still works, on the surviving worker.
  EXPECT_EQ(test::round_trip(fd, "after the kill\n"), "after the kill\n");
  ::close(fd);
  auto status = w1.proc.stop(0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(fe.proc.stop(SIGTERM), 0);
  EXPECT_EQ(w2.proc.stop(SIGTERM), 0);
}

TEST(distributed_echo, no_worker_left_gives_an_error_line_and_a_returning_worker_is_used_again) {
  auto w = test::start_worker();
  ASSERT_NE(w.port, 0);
  auto port = w.port;
  auto fe = start_front_end({port});
  ASSERT_NE(fe.port, 0);
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  auto fd = test::connect_tcp(fe.port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(test::round_trip(fd, "one\n"), "one\n");
  ASSERT_EQ(::kill(w.proc.pid, SIGKILL), 0);
  w.proc.stop(0);
  ASSERT_TRUE(test::read_until(fe.proc, " down"));
  // No worker: an error line in place of the echo; the front-end stays up.
  std::string line = "two\n";
  ASSERT_TRUE(send_text(fd, line));
  std::string reply;
  char c = 0;
  while (reply.size() < 200
         && test::recv_exact(fd, reinterpret_cast<uint8_t*>(&c), 1, 30s)) {
    reply.push_back(c);
    if (c == '\n')
      break;
  }
  EXPECT_EQ(reply.rfind("error: ", 0), 0u) << reply;
  EXPECT_NE(reply.find("no echo worker"), std::string::npos) << reply;
  // The worker returns on the same port and is used again.
  test::worker_node again;
  again.proc = test::spawn_process(
    ACTIO_ECHO_BIN, {"--worker", "--node-port", std::to_string(port)});
  ASSERT_EQ(test::parse_port(again.proc.read_line(30s)), port);
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  EXPECT_EQ(test::round_trip(fd, "three\n"), "three\n");
  // Another client too.
  auto fd2 = test::connect_tcp(fe.port);
  EXPECT_EQ(test::round_trip(fd2, "four\n"), "four\n");
  ::close(fd2);
  ::close(fd);
  EXPECT_EQ(fe.proc.stop(SIGTERM), 0);
  EXPECT_EQ(again.proc.stop(SIGTERM), 0);
}

TEST(distributed_echo, a_silent_worker_is_noticed_by_heartbeats_and_its_lines_retried) {
  // SIGSTOP keeps the worker's sockets open: only missing heartbeats tell.
  // No leak check in these three processes: after a link was timed out and
  // made again, CAF 0.17.6's middleman can stop with a connection still in
  // its BASP handshake (the resumed worker times out its side too) and then
  // leaves that scribe, or a basp_broker and its scribe in a reference
  // cycle, behind at exit (LeakSanitizer, ~1 run in 20 under ASan). That is
  // CAF's own exit-time cleanup; the exit statuses are still checked, and
  // the other distributed_echo tests run the same program with leak checks.
  test::spawn_options caf_exit_leak{.no_leak_check = true};
  auto w1 = test::start_worker({}, caf_exit_leak);
  auto w2 = test::start_worker({}, caf_exit_leak);
  ASSERT_NE(w1.port, 0);
  ASSERT_NE(w2.port, 0);
  auto fe = start_front_end({w1.port, w2.port},
                            {"--actio.node.heartbeat-interval=100ms",
                             "--actio.node.connection-timeout=3s"},
                            caf_exit_leak);
  ASSERT_NE(fe.port, 0);
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  auto fd = test::connect_tcp(fe.port);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::kill(w1.proc.pid, SIGSTOP), 0);
  // Round-robin sends some of these to the stopped worker; they come back
  // once the front-end gave up on it and asked the other one.
  auto lines = make_lines(200, 11);
  auto text = join(lines, 0, lines.size());
  ASSERT_TRUE(send_text(fd, text));
  EXPECT_EQ(test::read_exact(fd, text.size()), text);
  EXPECT_TRUE(test::read_until(fe.proc, "127.0.0.1:" + std::to_string(w1.port)
                                          + " down"));
  ::close(fd);
  ::kill(w1.proc.pid, SIGCONT);
  // Stop once the link is back, not while it is being re-made.
  EXPECT_TRUE(test::read_until(fe.proc, "127.0.0.1:" + std::to_string(w1.port)
                                          + " up"));
  EXPECT_EQ(fe.proc.stop(SIGTERM), 0);
  EXPECT_EQ(w2.proc.stop(SIGTERM), 0);
}

TEST(distributed_echo, bad_worker_list_is_refused_with_a_clear_exit) {
  auto child = test::spawn_process(
    ACTIO_ECHO_BIN, {"--port", "0", "--workers", "127.0.0.1"},
    {.merge_stderr = true});
  EXPECT_NE(child.read_line().find("HOST:PORT"), std::string::npos);
  auto status = child.stop(0);
  ASSERT_TRUE(test::exited_normally(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(distributed_echo, sigterm_drains_a_front_end_client_with_a_clean_eof) {
  // Like the local echo: on SIGTERM the front-end's client connection
  // answers what it took, then finishes (the client sees EOF long before
  // the 60 s drain deadline) and the process exits 0 with it counted as
  // drained, none closed at the deadline.
  auto w = test::start_worker();
  ASSERT_NE(w.port, 0);
  auto fe = start_front_end({w.port}, {"--drain-timeout=60"});
  ASSERT_NE(fe.port, 0);
  ASSERT_TRUE(test::read_until(fe.proc, " up"));
  auto fd = test::connect_tcp(fe.port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(test::round_trip(fd, "before the signal\n"), "before the signal\n");
  ASSERT_EQ(::kill(fe.proc.pid, SIGTERM), 0);
  EXPECT_TRUE(test::wait_eof(fd, 30s)) << "no clean EOF on drain";
  ::close(fd);
  auto status = fe.proc.stop(0, 30s);
  ASSERT_TRUE(test::exited_normally(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(fe.proc.read_all(10s).find("drained 1 connection(s), 0 closed"),
            std::string::npos);
  EXPECT_EQ(w.proc.stop(SIGTERM), 0);
}

} // namespace
