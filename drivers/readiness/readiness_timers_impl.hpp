#pragma once

/// `readiness_driver<Poller>`, part 4: timers — the shared timer table
/// (drivers/detail/timer_table.hpp), whose earliest deadline the poller
/// keeps; accept back-off waits are timers without owner. Included by
/// readiness_driver_impl.hpp; include that instead.

#include <caf/actor_control_block.hpp>

#include "actio/drivers/completions.hpp"
#include "actio/drivers/readiness/readiness_core_impl.hpp"

namespace actio {

template <readiness_poller Poller>
op_id readiness_driver<Poller>::start_timer(clock::duration delay,
                                            caf::strong_actor_ptr owner) {
  counters_.request(driver_request::timer);
  return add_timer(delay, detail::timer_entry{std::move(owner), 0});
}

/// Adds a timer; the poller hears of it only when it is now the earliest.
template <readiness_poller Poller>
op_id readiness_driver<Poller>::add_timer(clock::duration delay,
                                          detail::timer_entry t) {
  auto when = clock::now() + delay;
  auto id = timers_.add(when, std::move(t));
  if (!armed_ || when < *armed_) {
    armed_ = when;
    poller_.arm_timer(armed_);
  }
  return id;
}

/// Lazy: the poller's deadline stays (one wake-up for nothing at most).
template <readiness_poller Poller>
bool readiness_driver<Poller>::cancel_timer(op_id id) {
  return timers_.cancel(id);
}

template <readiness_poller Poller>
void readiness_driver<Poller>::fire_timers() {
  timers_.fire(clock::now(), [this](op_id id, detail::timer_entry& t) {
    if (t.owner) {
      deliver(t.owner, timer_expired{id});
    } else if (auto* s = find(t.sock); s && backoff_.end(s->accept)) {
      mark_ready(static_cast<uint32_t>(t.sock));
    }
  });
  // Always re-arm, also to "none": a deadline that went off may keep going
  // off (EVFILT_TIMER is periodic) until the poller is told otherwise.
  armed_ = timers_.next();
  poller_.arm_timer(armed_);
}

} // namespace actio
