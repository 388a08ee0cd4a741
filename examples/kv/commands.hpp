#pragma once
// Command execution on the store, and the store actor that owns the one
// key space of the process (see README.md, "Design").

#include <atomic>
#include <cstdint>
#include <vector>

#include <caf/actor.hpp>

#include "actio/actors/driver_unit.hpp"
#include "actio/drivers/types.hpp"

#include "resp_codec.hpp"
#include "store.hpp"

namespace kv {

/// What INFO reports beyond the key space.
struct server_stats {
  store::millis started = 0;       ///< steady clock, ms
  uint64_t commands = 0;           ///< commands executed
  const std::atomic<int64_t>* clients = nullptr; ///< open connections
};

/// Runs one command at time `now` (ms of the steady clock).
reply execute(store& db, const command& cmd, store::millis now,
              server_stats& stats);

/// Milliseconds of the steady clock (the store's time).
store::millis now_ms();

/// The store actor, pinned to `unit`: takes a batch of commands
/// (`std::vector<command>`) and answers with their replies
/// (`std::vector<reply>`), in order. Removes expired keys every
/// 100 ms (at most 1000 a time) besides the checks on access.
caf::actor spawn_store(actio::driver_unit& unit,
                       const std::atomic<int64_t>* clients);

} // namespace kv
