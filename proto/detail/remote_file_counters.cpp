#include "actio/proto/detail/remote_file_counters.hpp"

namespace actio::io::detail {

remote_file_counters::remote_file_counters(metrics::registry* reg) {
  if (reg == nullptr)
    return;
  static constexpr const char* ops[] = {"open", "read_at", "write_at",
                                        "stat", "close", "other"};
  for (size_t i = 0; i < requests_.size(); ++i) {
    requests_[i] = &reg->counter("actio_remote_file_requests_total",
                                 "Remote file requests by operation",
                                 {{"op", ops[i]}});
    errors_[i] = &reg->counter("actio_remote_file_errors_total",
                               "Remote file requests answered with an error, "
                               "by operation",
                               {{"op", ops[i]}});
  }
  read_bytes_ = &reg->counter("actio_remote_file_read_bytes_total",
                              "Bytes answered to remote read_at requests");
  written_bytes_ = &reg->counter("actio_remote_file_written_bytes_total",
                                 "Bytes of remote write_at requests accepted");
}

size_t remote_file_counters::op_index(proto::io::Request::OpCase op) noexcept {
  using proto::io::Request;
  switch (op) {
    case Request::kOpen:
      return 0;
    case Request::kReadAt:
      return 1;
    case Request::kWriteAt:
      return 2;
    case Request::kStat:
      return 3;
    case Request::kClose:
      return 4;
    default:
      return other_op;
  }
}

} // namespace actio::io::detail
