#pragma once

/// What a file engine's blocking jobs share (`file_job` of the file pool,
/// `aio_call` of the aio engine): the engine that submitted the job, what
/// kind of call it is, the promise the engine answers through, and the way
/// back: `complete()` hands the job to `Engine::complete(Job&)` on the
/// driver thread. `Job` is the derived type (CRTP); the engine befriends
/// `engine_job<Job, Engine, Kind>` if its `complete` is private.

#include <cstdint>
#include <utility>

#include <caf/response_promise.hpp>

#include "actio/drivers/detail/blocking_pool.hpp"

namespace actio::detail {

template <class Job, class Engine, class Kind>
struct engine_job : blocking_job {
  /// `index` of a job bound to no slot of the engine's file table.
  static constexpr uint32_t no_slot = ~uint32_t{0};

  engine_job(Engine* owner, Kind k, caf::response_promise promise)
    : engine(owner), kind(k), rp(std::move(promise)) {
  }

  void complete() override {
    engine->complete(static_cast<Job&>(*this));
  }

  Engine* engine;           ///< driver thread only
  Kind kind;
  caf::response_promise rp; ///< driver thread only
};

} // namespace actio::detail
