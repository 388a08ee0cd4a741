#pragma once

/// The driver thread's execution unit (ARCHITECTURE.md, "Driver threads and
/// pinned actors").
///
/// One thread per driver. It runs the actors pinned to it and, between
/// batches, lets the driver perform I/O. `exec_later` is the only way work
/// reaches the thread:
/// - a pinned actor scheduled from this thread goes on a local queue, no
///   syscall (like CAF's multiplexer skipping its pipe for self-posts);
/// - from another thread it goes on a locked queue and the driver is woken;
/// - anything that is not pinned goes to CAF's scheduler.
///
/// Events the driver delivers while it does I/O (inside `process` and
/// `poll`, when no actor runs) to a pinned actor whose mailbox is empty are
/// not enqueued: the actor `defer`s them, and after the poll the unit
/// activates the actor once per event (`scheduled_actor::activate`, the way
/// CAF's multiplexer hands I/O events to its brokers). No mailbox, no
/// scheduling, the same order: what the actor gets later was sent later.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/execution_unit.hpp>
#include <caf/fwd.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/resumable.hpp>
#include <caf/weak_intrusive_ptr.hpp>

#include "actio/drivers/driver.hpp"

namespace actio {

class driver_unit final : public caf::execution_unit {
public:
  /// @param sys the actor system whose scheduler runs actors not pinned here.
  /// @param drv the driver this unit's thread runs (it owns it).
  /// @param index this driver's number among the runtime's drivers.
  /// @param max_throughput messages an actor may handle per turn.
  driver_unit(caf::actor_system& sys, std::unique_ptr<driver> drv,
              size_t index, size_t max_throughput);

  ~driver_unit() override;

  driver_unit(const driver_unit&) = delete;
  driver_unit& operator=(const driver_unit&) = delete;

  /// Starts the thread.
  void start();

  /// Exits every pinned actor (they complete their requests), waits until
  /// all are gone, then ends the loop, closes what is left and joins.
  void stop();

  /// First half of `stop`: tells every pinned actor (also those spawned
  /// from now on) to exit. Lets a runtime stop all units in parallel.
  void begin_stop();

  void exec_later(caf::resumable* ptr) override;

  /// The backend. Its request API may only be used on this unit's thread.
  driver& backend() noexcept {
    return *drv_;
  }

  size_t index() const noexcept {
    return index_;
  }

  /// True when called on this unit's thread.
  bool on_thread() const noexcept;

  /// The unit whose thread is calling, or nullptr.
  static driver_unit* current() noexcept;

  /// Number of times another thread had to wake the driver (tests).
  uint64_t remote_wakeups() const noexcept {
    return remote_wakeups_.load(std::memory_order_relaxed);
  }

  /// Number of live pinned actors.
  size_t pinned() const;

  /// The loop's own counters for metrics, readable from any thread (see
  /// drivers/driver_counters.hpp for why they are single-writer atomics).
  struct loop_stats {
    uint64_t iterations = 0; ///< turns of the loop
    uint64_t blocked_ns = 0; ///< inside polls allowed to block
    size_t sockets = 0;      ///< registered sockets at the last turn
    size_t runnable = 0;     ///< pinned actors waiting for their turn
  };
  loop_stats stats() const noexcept;

  /// Messages waiting in the mailboxes of the pinned actors (counted by
  /// `pinned` as they are enqueued and consumed; any thread, may lag).
  int64_t pinned_backlog() const noexcept {
    return backlog_.load(std::memory_order_relaxed);
  }

  /// Adds `n` (may be negative) to `pinned_backlog` (pinned actors; any
  /// thread: a relaxed atomic add).
  void add_backlog(int64_t n) noexcept {
    backlog_.fetch_add(n, std::memory_order_relaxed);
  }

  /// An event for a pinned actor of this unit, delivered after the poll by
  /// `run(self, elem, unit)` (pinned.hpp); `keep` holds the actor.
  struct deferred_event {
    caf::strong_actor_ptr keep;
    void* self = nullptr;
    void (*run)(void* self, caf::mailbox_element_ptr& elem,
                driver_unit& unit) = nullptr;
    caf::mailbox_element_ptr elem;
  };

  /// True on this unit's thread while the driver does I/O and no actor
  /// runs: events may be deferred (`pinned::enqueue`).
  bool may_defer() const noexcept {
    return io_phase_.load(std::memory_order_relaxed) && on_thread();
  }

  /// Queues `ev` for delivery after the poll (only when `may_defer`).
  void defer(deferred_event ev) {
    deferred_.push_back(std::move(ev));
  }

  /// Called by pinned actors at launch and termination.
  void add_pinned(caf::actor_id id, caf::weak_actor_ptr ptr);
  void remove_pinned(caf::actor_id id);

private:
  void run();
  void run_local();
  void take_remote();
  void run_deferred();
  caf::error timed_poll(std::optional<driver::clock::duration> timeout);

  std::unique_ptr<driver> drv_;
  size_t index_;
  size_t max_throughput_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> remote_wakeups_{0};
  tally iterations_;
  tally blocked_ns_;
  std::atomic<size_t> sockets_{0};
  std::atomic<size_t> runnable_{0};
  std::atomic<int64_t> backlog_{0};
  std::vector<caf::resumable*> local_;
  std::vector<caf::resumable*> batch_;
  // Inside drv_->process() / poll(); written by this thread only (atomic:
  // other threads' enqueues read it before they find it is not theirs).
  std::atomic<bool> io_phase_{false};
  std::vector<deferred_event> deferred_;
  std::mutex remote_mtx_;
  std::vector<caf::resumable*> remote_;
  std::atomic<bool> has_remote_{false}; // skip the lock when nothing waits
  mutable std::mutex pinned_mtx_;
  std::condition_variable pinned_cv_;
  std::unordered_map<caf::actor_id, caf::weak_actor_ptr> pinned_;
  bool stopping_ = false; // guarded by pinned_mtx_
};

} // namespace actio
