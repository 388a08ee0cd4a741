#include "actio/actors/driver_unit.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/send.hpp>

#include "actio/drivers/log.hpp"

namespace actio {

namespace {

thread_local driver_unit* current_unit = nullptr;

// How long `stop` waits for pinned actors to finish before giving up on
// them (they are then released when the driver closes their sockets).
constexpr auto stop_grace = std::chrono::seconds{30};

} // namespace

driver_unit::driver_unit(caf::actor_system& sys, std::unique_ptr<driver> drv,
                         size_t index, size_t max_throughput)
  : caf::execution_unit(&sys),
    drv_(std::move(drv)),
    index_(index),
    max_throughput_(max_throughput) {
  drv_->set_unit(this);
}

driver_unit::~driver_unit() {
  stop();
}

driver_unit* driver_unit::current() noexcept {
  return current_unit;
}

bool driver_unit::on_thread() const noexcept {
  return current_unit == this;
}

void driver_unit::start() {
  thread_ = std::thread{[this] { run(); }};
}

void driver_unit::exec_later(caf::resumable* ptr) {
  if (ptr->subtype() != caf::resumable::io_actor) {
    system().scheduler().enqueue(ptr);
    return;
  }
  if (current_unit == this) {
    local_.push_back(ptr);
    return;
  }
  {
    std::lock_guard<std::mutex> guard{remote_mtx_};
    remote_.push_back(ptr);
    has_remote_.store(true, std::memory_order_release);
  }
  remote_wakeups_.fetch_add(1, std::memory_order_relaxed);
  drv_->wake();
}

// -- pinned actors ------------------------------------------------------------

size_t driver_unit::pinned() const {
  std::lock_guard<std::mutex> guard{pinned_mtx_};
  return pinned_.size();
}

void driver_unit::add_pinned(caf::actor_id id, caf::weak_actor_ptr ptr) {
  bool late;
  {
    std::lock_guard<std::mutex> guard{pinned_mtx_};
    pinned_.emplace(id, ptr);
    late = stopping_;
  }
  // Spawned while the unit stops (say, accepted just before shutdown): it
  // must not outlive the loop, so it gets the same exit as everybody else.
  if (late)
    if (auto strong = ptr.lock())
      caf::anon_send_exit(strong, caf::exit_reason::user_shutdown);
}

void driver_unit::remove_pinned(caf::actor_id id) {
  std::lock_guard<std::mutex> guard{pinned_mtx_};
  pinned_.erase(id);
  if (pinned_.empty())
    pinned_cv_.notify_all();
}

void driver_unit::begin_stop() {
  std::vector<caf::weak_actor_ptr> victims;
  {
    std::lock_guard<std::mutex> guard{pinned_mtx_};
    stopping_ = true;
    for (auto& kvp : pinned_)
      victims.push_back(kvp.second);
  }
  for (auto& weak : victims)
    if (auto strong = weak.lock())
      caf::anon_send_exit(strong, caf::exit_reason::user_shutdown);
}

void driver_unit::stop() {
  if (!thread_.joinable())
    return;
  begin_stop();
  {
    std::unique_lock<std::mutex> guard{pinned_mtx_};
    if (!pinned_cv_.wait_for(guard, stop_grace, [this] { return pinned_.empty(); }))
      log::warn({"driver", std::to_string(index_)},
                "{} pinned actors did not exit in time", pinned_.size());
  }
  stop_ = true;
  drv_->wake();
  thread_.join();
}

// -- the loop -----------------------------------------------------------------

void driver_unit::take_remote() {
  // Producers set the flag under the lock before waking the driver; the
  // wake-up (eventfd) orders it before the loop's next look.
  if (!has_remote_.load(std::memory_order_acquire))
    return;
  std::lock_guard<std::mutex> guard{remote_mtx_};
  has_remote_.store(false, std::memory_order_relaxed);
  if (local_.empty())
    local_.swap(remote_);
  else {
    local_.insert(local_.end(), remote_.begin(), remote_.end());
    remote_.clear();
  }
}

void driver_unit::run_local() {
  // Jobs scheduled while this batch runs wait for the next turn, so I/O is
  // polled between batches even when actors keep each other busy.
  batch_.swap(local_);
  for (auto* job : batch_) {
    switch (job->resume(this, max_throughput_)) {
      case caf::resumable::resume_later:
        local_.push_back(job);
        break;
      case caf::resumable::awaiting_message:
      case caf::resumable::done:
      case caf::resumable::shutdown_execution_unit:
        // The reference taken when the job was scheduled.
        caf::intrusive_ptr_release(job);
        break;
    }
  }
  batch_.clear();
}

void driver_unit::run_deferred() {
  // In the order the driver delivered them. While they run, what their
  // handlers send to idle pinned actors here (a write's completion to the
  // writer itself) is deferred too and runs after them, in order. A chain
  // of actors feeding each other stops after `budget` activations: the rest
  // go to mailboxes, in order, and wait for `run_local` after the poll.
  io_phase_.store(true, std::memory_order_relaxed);
  size_t budget = std::max<size_t>(4 * deferred_.size(), 1024);
  size_t i = 0;
  for (; i < deferred_.size() && i < budget; ++i) {
    auto ev = std::move(deferred_[i]); // the handler may append
    ev.run(ev.self, ev.elem, *this);
  }
  io_phase_.store(false, std::memory_order_relaxed);
  for (; i < deferred_.size(); ++i) // enqueued as usual now
    deferred_[i].keep->get()->enqueue(std::move(deferred_[i].elem), this);
  deferred_.clear();
}

caf::error driver_unit::timed_poll(std::optional<driver::clock::duration> timeout) {
  if (timeout) // a zero timeout: no wait, no clock read
    return drv_->poll(timeout);
  auto start = driver::clock::now();
  auto err = drv_->poll(timeout);
  blocked_ns_.add(static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(driver::clock::now() - start)
      .count()));
  return err;
}

driver_unit::loop_stats driver_unit::stats() const noexcept {
  return {iterations_.get(), blocked_ns_.get(),
          sockets_.load(std::memory_order_relaxed),
          runnable_.load(std::memory_order_relaxed)};
}

void driver_unit::run() {
  current_unit = this;
  while (!stop_.load(std::memory_order_acquire)) {
    take_remote();
    iterations_.add();
    runnable_.store(local_.size(), std::memory_order_relaxed);
    run_local();
    io_phase_.store(true, std::memory_order_relaxed);
    bool more = drv_->process();
    std::optional<driver::clock::duration> timeout;
    if (more || !local_.empty() || !deferred_.empty())
      timeout = driver::clock::duration::zero();
    sockets_.store(drv_->sockets(), std::memory_order_relaxed);
    auto err = timed_poll(timeout);
    io_phase_.store(false, std::memory_order_relaxed);
    run_deferred();
    if (err) {
      log::error({"driver", std::to_string(index_)}, "{}",
                 system().render(err));
      break;
    }
  }
  // Whatever is left: close sockets (completing their requests), then let
  // the actors still scheduled here run once more and release them.
  drv_->close_all();
  take_remote();
  while (!local_.empty())
    run_local();
  current_unit = nullptr;
}

} // namespace actio
