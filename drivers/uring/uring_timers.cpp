// io_uring backend, part 5: timers (IORING_OP_TIMEOUT, removed with
// IORING_OP_TIMEOUT_REMOVE), also the accept back-off waits.

#include "actio/drivers/uring/uring_driver.hpp"

#include <cerrno>

#include <caf/actor_control_block.hpp>
#include <caf/make_message.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/uring/uring_internal.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

op_id uring_driver::start_timer(clock::duration delay,
                                caf::strong_actor_ptr owner) {
  counters_.request(driver_request::timer);
  auto id = next_timer_++;
  auto* o = new_op(op_kind::timer);
  o->id = id;
  o->owner = std::move(owner);
  o->ts = detail::to_timespec(delay);
  timers_.emplace(id, o);
  auto* e = sqe();
  io_uring_prep_timeout(e, &o->ts, 0, 0);
  io_uring_sqe_set_data(e, o);
  return id;
}

bool uring_driver::cancel_timer(op_id id) {
  auto i = timers_.find(id);
  if (i == timers_.end() || i->second->cancelled)
    return false;
  i->second->cancelled = true;
  auto* e = sqe();
  io_uring_prep_timeout_remove(e, reinterpret_cast<uint64_t>(i->second), 0);
  io_uring_sqe_set_data64(e, detail::uring_ignore_token);
  return true;
}

void uring_driver::on_timer(op* o, int res) {
  if (o->owner) {
    timers_.erase(o->id);
    if (res == -ETIME && !o->cancelled)
      deliver(o->owner, caf::make_message(timer_expired{o->id}));
  } else if (auto* s = find(o->target); s && backoff_.end(s->accept)) {
    ready_.push_back(static_cast<uint32_t>(o->target));
  }
  op_done(o);
}

/// The wait of a listener backing off (drivers/detail/accept_backoff.hpp):
/// a timer without owner, whose target is the listener.
void uring_driver::start_backoff_timer(socket_id listener,
                                       std::chrono::milliseconds delay) {
  auto* t = new_op(op_kind::timer);
  t->target = listener;
  t->ts = detail::to_timespec(delay);
  auto* e = sqe();
  io_uring_prep_timeout(e, &t->ts, 0, 0);
  io_uring_sqe_set_data(e, t);
}

} // namespace actio
