#pragma once

/// A driver's counters for metrics (actors/metrics.hpp): requests by kind,
/// kernel completions by kind, bytes, accept pauses.
///
/// Written by the driver's own thread only, read by any thread (a scrape).
/// Each is a single-writer relaxed atomic: the writer does a relaxed load,
/// an add and a relaxed store (no locked instruction, the same code as a
/// plain `uint64_t` counter on x86-64 and arm64), and a reader on another
/// thread gets a value without a data race and without sending the driver
/// a message (which would wake a driver blocked in the kernel for every
/// scrape). A reader may see a value a few operations old; totals only grow.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace actio {

/// One counter with a single writer (see the file comment).
class tally {
public:
  void add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  uint64_t get() const noexcept {
    return v_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<uint64_t> v_{0};
};

/// What an actor asked a driver to do (`driver` API calls).
enum class driver_request : uint8_t {
  accept,   ///< start_accept
  connect,  ///< connect
  read,     ///< grant (read credit)
  write,    ///< send
  shutdown, ///< shutdown_write
  send_to,  ///< send_to (datagram)
  timer,    ///< start_timer
  close,    ///< close
};
inline constexpr size_t driver_request_kinds = 8;

/// What the kernel completed for a driver.
enum class driver_completion : uint8_t {
  accept,    ///< a connection accepted
  read,      ///< a stream receive that returned bytes
  write,     ///< a stream send that took bytes
  recv_from, ///< a datagram received
  send_to,   ///< a datagram sent
};
inline constexpr size_t driver_completion_kinds = 5;

/// "accept", "connect", ...
const char* to_string(driver_request k) noexcept;
const char* to_string(driver_completion k) noexcept;

struct driver_counters {
  std::array<tally, driver_request_kinds> requests;
  std::array<tally, driver_completion_kinds> completions;
  tally bytes_read;    ///< stream and datagram payload received
  tally bytes_written; ///< stream and datagram payload sent
  /// Accept waits after EMFILE and friends (detail/accept_backoff.hpp).
  tally accept_pauses;

  void request(driver_request k) noexcept {
    requests[static_cast<size_t>(k)].add();
  }

  void completed(driver_completion k) noexcept {
    completions[static_cast<size_t>(k)].add();
  }

  void read(size_t n) noexcept {
    completed(driver_completion::read);
    bytes_read.add(n);
  }

  void written(size_t n) noexcept {
    completed(driver_completion::write);
    bytes_written.add(n);
  }

  void datagram_read(size_t n) noexcept {
    completed(driver_completion::recv_from);
    bytes_read.add(n);
  }

  void datagram_written(size_t n) noexcept {
    completed(driver_completion::send_to);
    bytes_written.add(n);
  }
};

} // namespace actio
