// io_uring backend, part 5: timers, also the accept back-off waits. They
// live in the shared timer table (drivers/detail/timer_table.hpp), not in
// the ring: `poll` waits at most until the earliest deadline (the wait's
// own timeout, no SQE) and fires what is due. Starting and cancelling a
// timer is no system call; one IORING_OP_TIMEOUT per timer, removed with
// IORING_OP_TIMEOUT_REMOVE, made the kernel search its timeout list under
// a lock for every cancel (24% of actio-httpd's CPU at 1,000 connections).

#include "actio/drivers/uring/uring_driver.hpp"

#include <algorithm>
#include <optional>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/completions.hpp"

namespace actio {

op_id uring_driver::start_timer(clock::duration delay,
                                caf::strong_actor_ptr owner) {
  counters_.request(driver_request::timer);
  return timers_.add(clock::now() + delay,
                     detail::timer_entry{std::move(owner), 0});
}

bool uring_driver::cancel_timer(op_id id) {
  return timers_.cancel(id);
}

/// The wait of a listener backing off (drivers/detail/accept_backoff.hpp):
/// a timer without owner, whose target is the listener.
void uring_driver::start_backoff_timer(socket_id listener,
                                       std::chrono::milliseconds delay) {
  timers_.add(clock::now() + delay, detail::timer_entry{nullptr, listener});
}

/// How long `poll` may block: `timeout` (none: forever), capped by the
/// earliest deadline.
std::optional<uring_driver::clock::duration>
uring_driver::wait_limit(std::optional<clock::duration> timeout) const {
  auto next = timers_.next();
  if (!next)
    return timeout;
  auto left = std::max(*next - clock::now(), clock::duration::zero());
  return timeout ? std::min(*timeout, left) : left;
}

void uring_driver::fire_timers() {
  if (timers_.empty())
    return;
  timers_.fire(clock::now(), [this](op_id id, detail::timer_entry& t) {
    if (t.owner) {
      deliver(t.owner, timer_expired{id});
    } else if (auto* s = find(t.sock); s && backoff_.end(s->accept)) {
      ready_.push_back(static_cast<uint32_t>(t.sock));
    }
  });
}

} // namespace actio
