// Backpressure both ways, with a client that does not read:
// - the server sends (`/flood`: 256 × 64 KiB at once to the connection):
//   past `max_send_queue` (1 MiB here) sends are refused with
//   write_queue_full instead of buffered (later ones are accepted again as
//   the queue drains); what was accepted arrives whole and in order once
//   the client reads;
// - the client sends (96 MiB of messages to the echo): the server stops
//   reading it well before all of it, another connection is served
//   meanwhile, and every echo arrives, in order, once the client reads.

#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "http/ws_fixture.hpp"

using namespace actio;
using namespace actio::test;

namespace {

class websocket_backpressure_test : public websocket_test {
protected:
  void configure(http::server_options& o) override {
    o.framed.max_send_queue = 1024 * 1024;
  }
};

ACTIO_TEST_ALL_BACKENDS(websocket_backpressure_test);

uint32_t index_of(const std::string& payload) {
  uint32_t i = ~0u;
  if (payload.size() >= 4)
    std::memcpy(&i, payload.data(), 4);
  return i;
}

} // namespace

TEST_P(websocket_backpressure_test, server_sends_past_the_queue_are_refused) {
  auto c = open("/flood", 64 * 1024);
  ASSERT_TRUE(wait_until([&] { return counts_->refused.load() > 0; }, 30s))
    << "nothing refused: the server buffers without bound";
  // Accepted: what the refusals left; at most the queue plus the socket
  // buffers (generously 8 MiB) were taken, the rest refused.
  auto other = open();
  EXPECT_TRUE(ws::echoes(*other, "served meanwhile"));
  uint32_t next = 0;
  int received = 0;
  auto deadline = clock::now() + 60s;
  while (clock::now() < deadline) {
    if (counts_->written + counts_->refused + counts_->other == flood_count
        && received == counts_->written.load())
      break;
    auto f = ws::read_frame(*c, 100ms);
    if (f.op < 0)
      continue;
    ASSERT_EQ(f.op, 0x2);
    ASSERT_EQ(f.payload.size(), flood_size);
    auto i = index_of(f.payload);
    ASSERT_GE(i, next) << "out of order";
    ASSERT_EQ(f.payload, flood_message(i)) << "message " << i << " corrupted";
    next = i + 1;
    ++received;
  }
  EXPECT_EQ(counts_->other.load(), 0);
  EXPECT_EQ(counts_->written + counts_->refused, flood_count);
  EXPECT_GT(counts_->refused.load(), 0);
  EXPECT_LE(counts_->written.load() * flood_size, 8u * 1024 * 1024 + flood_size);
  EXPECT_EQ(received, counts_->written.load());
  ASSERT_TRUE(c->send(ws::frame(0x89, "still open"))); // (the flooder does not echo)
  auto pong = ws::read_frame(*c);
  EXPECT_EQ(pong.op, 0xA);
  EXPECT_EQ(pong.payload, "still open");
}

TEST_P(websocket_backpressure_test, a_client_that_never_reads_is_no_longer_read) {
  constexpr uint32_t count = 1536; // × flood_size: 96 MiB
  auto c = open("/ws", 64 * 1024);
  int small = 64 * 1024;
  ::setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  std::atomic<uint64_t> sent{0};
  std::atomic<bool> send_ok{true};
  std::thread writer([&] {
    for (uint32_t i = 0; i < count && send_ok; ++i) {
      auto bytes = ws::binary(flood_message(i));
      if (!send_all(c->fd, reinterpret_cast<const uint8_t*>(bytes.data()),
                    bytes.size(), 120s))
        send_ok = false;
      sent += bytes.size();
    }
  });
  // Wait until the writer is stuck (the sampling sleeps, it does not
  // synchronise anything): the server stopped reading.
  uint64_t last = 0;
  wait_until(
    [&] {
      auto now = sent.load();
      bool still = now == last && now > 0;
      last = now;
      if (!still)
        std::this_thread::sleep_for(200ms);
      return still;
    },
    60s);
  // Taken before the stop: the kernel's socket buffers (autotuned, up to
  // ~10 MiB), io_uring's provided buffers (16 MiB), the framed connection's
  // frames (max_frames + max_in_flight messages, ~5 MiB): not half of it.
  EXPECT_LT(sent.load(), 48u * 1024 * 1024) << "the server read on without bound";
  auto other = open();
  EXPECT_TRUE(ws::echoes(*other, "served meanwhile"));
  uint32_t got = 0;
  auto deadline = clock::now() + 120s;
  while (got < count && clock::now() < deadline) {
    auto f = ws::read_frame(*c, deadline - clock::now());
    if (f.op != 0x2 || f.payload != flood_message(got)) {
      ADD_FAILURE() << "echo " << got << ": op " << f.op << ", index "
                    << index_of(f.payload);
      break;
    }
    ++got;
  }
  if (got < count)
    ::shutdown(c->fd, SHUT_RDWR); // (unblocks the writer)
  writer.join();
  EXPECT_TRUE(send_ok);
  EXPECT_EQ(got, count);
}
