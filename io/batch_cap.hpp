#pragma once

/// Caps the batch size a stream receiver asks its sender for.
///
/// CAF 0.17 sizes batches (and the sender buffers two batches ahead, see
/// buffered_downstream_manager::capacity) from the receiver's measured
/// processing time per element: `desired_batch_complexity * N / t`. A
/// receiver that only moves or queues chunks (a chain stage, a file sink
/// that hands chunks to the driver) measures nanoseconds per chunk and asks
/// for batches of thousands of chunks: measured, a repeat source ran
/// 256 MiB ahead of the sink. Called from a manager's `push()` override
/// (inbound_path::handle calls push() right after storing each
/// measurement), this raises the recorded time so the next credit round
/// asks for at most `max_batch` elements.

#include <cstdint>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/inbound_path.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/stream_manager.hpp>

namespace actio::io::detail {

inline void cap_batch_stats(caf::stream_manager& mgr, int64_t max_batch) {
  auto complexity = mgr.self()->system().config().stream_desired_batch_complexity;
  for (auto path : mgr.inbound_paths()) {
    auto& st = path->stats;
    auto floor = complexity * st.num_elements / max_batch;
    if (st.processing_time < floor)
      st.processing_time = floor;
  }
}

} // namespace actio::io::detail
