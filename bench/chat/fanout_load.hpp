#pragma once

// The chat fan-out load: many text-protocol clients on non-blocking sockets
// in one epoll loop (one thread, no CAF), all in a few rooms, some of them
// sending. See chat_bench.cpp for the whole benchmark.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fanout {

struct endpoint {
  std::string host;
  uint16_t port = 0;
};

struct load_settings {
  size_t clients = 1000;     ///< spread round-robin over the endpoints
  size_t rooms = 1;          ///< client i joins room (i / endpoints) % rooms
  size_t senders = 10;       ///< clients 0..senders-1 send
  size_t window = 32;        ///< messages not yet delivered to every member
  size_t size = 64;          ///< bytes of message text (>= the header)
  double duration = 5;       ///< seconds of sending
  double join_timeout = 120; ///< connect + join + probes, seconds
  double drain_timeout = 30; ///< after sending: until all delivered
  size_t connect_batch = 64; ///< connects in progress at once
  std::string nick_prefix = "c";
  /// Called with true right before the measured time, false right after.
  std::function<void(bool)> mark;
};

struct load_result {
  bool ok = false;
  std::string error;          ///< why not ok
  double join_seconds = 0;    ///< connect + join + probes
  int probe_rounds = 0;       ///< probe rounds until every client heard all
  double seconds = 0;         ///< measured sending time
  uint64_t sent = 0;          ///< messages sent in the measured time
  uint64_t completed = 0;     ///< of those: delivered to every member
  uint64_t deliveries = 0;    ///< lines received in the measured time
  uint64_t expected = 0;      ///< deliveries all sent messages should make
  uint64_t delivered = 0;     ///< deliveries of them, incl. the drain
  uint64_t order_errors = 0;  ///< a sender's messages out of order / twice
  uint64_t error_lines = 0;   ///< "! ..." lines received
  std::vector<uint32_t> latency_us; ///< send -> receipt, measured time
};

/// Connects, joins, probes until every client hears every endpoint, then
/// sends for `duration` seconds and drains. Closes every client at the end.
load_result run_load(const std::vector<endpoint>& targets,
                     const load_settings& s);

} // namespace fanout
