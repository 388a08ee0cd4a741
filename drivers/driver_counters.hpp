#pragma once

/// A driver's counters for metrics (actors/metrics.hpp): requests by kind,
/// kernel completions by kind, bytes, accept pauses, and file operations
/// by kind (requested, completed, failed).
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

/// What the kernel completed for a driver.
enum class driver_completion : uint8_t {
  accept,    ///< a connection accepted
  read,      ///< a stream receive that returned bytes
  write,     ///< a stream send that took bytes
  recv_from, ///< a datagram received
  send_to,   ///< a datagram sent
};

/// A file operation (drivers/file_backend.hpp), as the file service
/// (io/file_service.hpp) hands it to its driver.
enum class file_op_kind : uint8_t {
  open,     ///< open_file
  read_at,  ///< read_at
  write_at, ///< write_at
  fsync,    ///< sync_file
  stat,     ///< stat_file
  close,    ///< close_file
  copy_range, ///< copy between two open files (io/file_copy.hpp)
  read_batch, ///< read_batch: many reads of one file in one request
};

/// The label of each kind, indexed by the enum: the one list of names.
inline constexpr std::array<const char*, 8> driver_request_names{
  "accept", "connect", "read", "write", "shutdown", "send_to", "timer", "close"};
inline constexpr std::array<const char*, 5> driver_completion_names{
  "accept", "read", "write", "recv_from", "send_to"};
inline constexpr std::array<const char*, 8> file_op_names{
  "open", "read_at", "write_at", "fsync", "stat", "close", "copy_range",
  "read_batch"};

inline constexpr size_t driver_request_kinds = driver_request_names.size();
inline constexpr size_t driver_completion_kinds = driver_completion_names.size();
inline constexpr size_t file_op_kinds = file_op_names.size();

/// "accept", "connect", ...
const char* to_string(driver_request k) noexcept;
const char* to_string(driver_completion k) noexcept;
const char* to_string(file_op_kind k) noexcept;

/// One tally per kind of `Kind` (an enum whose values are 0..N-1).
template <class Kind, size_t N>
class tallies_by_kind {
public:
  static constexpr size_t size() noexcept {
    return N;
  }

  void add(Kind k, uint64_t n = 1) noexcept {
    t_[static_cast<size_t>(k)].add(n);
  }

  uint64_t get(Kind k) const noexcept {
    return t_[static_cast<size_t>(k)].get();
  }

  uint64_t operator[](size_t i) const noexcept {
    return t_[i].get();
  }

private:
  std::array<tally, N> t_;
};

struct driver_counters {
  tallies_by_kind<driver_request, driver_request_kinds> requests;
  tallies_by_kind<driver_completion, driver_completion_kinds> completions;
  tally bytes_read;    ///< stream and datagram payload received
  tally bytes_written; ///< stream and datagram payload sent
  /// Accept waits after EMFILE and friends (detail/accept_backoff.hpp).
  tally accept_pauses;

  /// File operations the file service handed to the driver, by kind.
  tallies_by_kind<file_op_kind, file_op_kinds> file_requests;
  /// Of those, the ones answered (value or error) and the ones answered
  /// with an error; counted only after `count_file_outcomes` (a metrics
  /// endpoint: following each answer costs the file service a message to
  /// itself).
  tallies_by_kind<file_op_kind, file_op_kinds> file_completions;
  tallies_by_kind<file_op_kind, file_op_kinds> file_errors;

  /// Whether answers are followed (see `file_completions`).
  bool file_outcomes_counted() const noexcept {
    return file_outcomes_.load(std::memory_order_relaxed);
  }

  /// Starts following answers (any thread; for good).
  void count_file_outcomes() noexcept {
    file_outcomes_.store(true, std::memory_order_relaxed);
  }

  void request(driver_request k) noexcept {
    requests.add(k);
  }

  void completed(driver_completion k) noexcept {
    completions.add(k);
  }

  void read(size_t n) noexcept {
    transferred(driver_completion::read, bytes_read, n);
  }

  void written(size_t n) noexcept {
    transferred(driver_completion::write, bytes_written, n);
  }

  void datagram_read(size_t n) noexcept {
    transferred(driver_completion::recv_from, bytes_read, n);
  }

  void datagram_written(size_t n) noexcept {
    transferred(driver_completion::send_to, bytes_written, n);
  }

private:
  void transferred(driver_completion k, tally& bytes, size_t n) noexcept {
    completed(k);
    bytes.add(n);
  }

  std::atomic<bool> file_outcomes_{false};
};

} // namespace actio
