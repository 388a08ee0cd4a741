#pragma once

/// What the remote file service (proto/remote_file_service.hpp) counts for
/// `/metrics`, by operation: requests, error answers, bytes read and
/// written. Made without a registry it counts nothing.
///
/// | series | type |
/// |---|---|
/// | `actio_remote_file_requests_total{op}` | counter |
/// | `actio_remote_file_errors_total{op}` | counter |
/// | `actio_remote_file_read_bytes_total` | counter |
/// | `actio_remote_file_written_bytes_total` | counter |
///
/// `op` is open, read_at, write_at, stat, close or other (a request that
/// does not parse, or names no operation).

#include <array>
#include <cstddef>
#include <cstdint>

#include "actio/actors/metrics.hpp"
#include "actio/proto/io.pb.h"

namespace actio::io::detail {

class remote_file_counters {
public:
  /// The index of requests that name no operation.
  static constexpr size_t other_op = 5;

  remote_file_counters() = default;
  explicit remote_file_counters(metrics::registry* reg);

  /// The index of an operation: 0..4, or `other_op`.
  static size_t op_index(proto::io::Request::OpCase op) noexcept;

  void request(size_t op) noexcept {
    add(requests_[op], 1);
  }
  void failed(size_t op) noexcept {
    add(errors_[op], 1);
  }
  /// A request that does not parse: a request and an error of "other".
  void malformed() noexcept {
    request(other_op);
    failed(other_op);
  }
  void read(uint64_t bytes) noexcept {
    add(read_bytes_, bytes);
  }
  void written(uint64_t bytes) noexcept {
    add(written_bytes_, bytes);
  }

private:
  static void add(metrics::counter* c, uint64_t n) noexcept {
    if (c != nullptr)
      c->add(n);
  }
  std::array<metrics::counter*, other_op + 1> requests_{}; // null: none
  std::array<metrics::counter*, other_op + 1> errors_{};
  metrics::counter* read_bytes_ = nullptr;
  metrics::counter* written_bytes_ = nullptr;
};

} // namespace actio::io::detail
