#pragma once

/// `readiness_driver<Poller>`, part 4: timers — one ordered table, whose
/// earliest deadline the poller keeps; accept back-off waits are timers
/// without owner. Included by readiness_driver_impl.hpp; include that
/// instead.

#include <caf/actor_control_block.hpp>
#include <caf/make_message.hpp>

#include "actio/drivers/completions.hpp"
#include "actio/drivers/readiness/readiness_core_impl.hpp"

namespace actio {

template <readiness_poller Poller>
op_id readiness_driver<Poller>::start_timer(clock::duration delay,
                                            caf::strong_actor_ptr owner) {
  counters_.request(driver_request::timer);
  return add_timer(delay, timer{std::move(owner), 0});
}

template <readiness_poller Poller>
op_id readiness_driver<Poller>::add_timer(clock::duration delay, timer t) {
  auto id = next_timer_++;
  auto when = clock::now() + delay;
  timers_.emplace(std::make_pair(when, id), std::move(t));
  timer_index_.emplace(id, when);
  arm_timer();
  return id;
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::cancel_timer(op_id id) {
  auto i = timer_index_.find(id);
  if (i == timer_index_.end())
    return false;
  timers_.erase(std::make_pair(i->second, id));
  timer_index_.erase(i);
  arm_timer();
  return true;
}

/// Hands the earliest deadline to the poller when it changed.
template <readiness_poller Poller>
void readiness_driver<Poller>::arm_timer() {
  std::optional<clock::time_point> next;
  if (!timers_.empty())
    next = timers_.begin()->first.first;
  if (next == armed_)
    return;
  armed_ = next;
  poller_.arm_timer(next);
}

template <readiness_poller Poller>
void readiness_driver<Poller>::fire_timers() {
  auto now = clock::now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    auto id = node.key().second;
    timer_index_.erase(id);
    auto& t = node.mapped();
    if (t.owner) {
      deliver(t.owner, caf::make_message(timer_expired{id}));
    } else if (auto* s = find(t.sock); s && backoff_.end(s->accept)) {
      mark_ready(static_cast<uint32_t>(t.sock));
    }
  }
  // Always re-arm, also to "none": a deadline that went off may keep going
  // off (EVFILT_TIMER is periodic) until the poller is told otherwise.
  armed_ = timers_.empty() ? std::nullopt
                           : std::optional{timers_.begin()->first.first};
  poller_.arm_timer(armed_);
}

} // namespace actio
