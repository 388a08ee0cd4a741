#pragma once

/// Pinned actors: actors that always run on one driver's thread, the way
/// CAF 0.17's brokers are pinned to the middleman's multiplexer. Their
/// handlers call the driver directly; their completions arrive without a
/// thread hop. Ordinary actors stay on CAF's scheduler and talk to pinned
/// ones by plain messages.

#include <type_traits>
#include <utility>

#include <caf/actor_config.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/invoke_message_result.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>
#include <caf/spawn_options.hpp>

#include "actio/actors/driver_unit.hpp"
#include "actio/actors/pinned_backlog.hpp"

namespace actio {

/// Mixin that pins `Base` (an event-based actor class) to the driver unit
/// given as `actor_config::host` at spawn time. Use `spawn_pinned`.
template <class Base>
class pinned : public Base {
public:
  template <class... Ts>
  explicit pinned(caf::actor_config& cfg, Ts&&... xs)
    : Base(cfg, std::forward<Ts>(xs)...),
      unit_(static_cast<driver_unit*>(cfg.host)) {
  }

  using Base::enqueue;

  /// Every message, from any thread, schedules this actor on its unit.
  /// Ordinary messages (not stream traffic, which CAF consumes elsewhere)
  /// count in the unit's `pinned_backlog` until consumed.
  ///
  /// An event the driver delivers while it does I/O, to this actor with an
  /// empty mailbox, skips the mailbox: the unit activates the actor with it
  /// after the poll (driver_unit.hpp), in the order delivered.
  ///
  /// After termination the unit is not touched (it may be destroyed while
  /// handles to this actor live on, e.g. in CAF's clock): the message goes
  /// to the closed mailbox, which drops it (a request is answered with an
  /// error).
  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit*) override {
    if (ptr != nullptr && counted(*ptr) && !backlog_.closed()) {
      if (unit_->may_defer() && can_defer()) {
        unit_->defer({caf::strong_actor_ptr{this->ctrl()}, this,
                      &pinned::run_deferred, std::move(ptr)});
        return;
      }
      backlog_.enqueued();
    }
    Base::enqueue(std::move(ptr), unit_);
  }

  /// A message handled (or dropped): out of the backlog. One skipped (no
  /// handler matched yet: it stays in the mailbox) still counts.
  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    auto r = Base::consume(x);
    if (r != caf::invoke_message_result::skipped && counted(x) && !direct_)
      backlog_.consumed();
    return r;
  }

  /// Tells execution units (and `driver_unit::exec_later`) this is pinned.
  caf::resumable::subtype_t subtype() const override {
    return caf::resumable::io_actor;
  }

  void launch(caf::execution_unit*, bool lazy, bool hide) override {
    auto* unit = unit_;
    auto id = this->id();
    unit->add_pinned(id, caf::actor_cast<caf::weak_actor_ptr>(this->ctrl()));
    this->attach_functor([this, unit, id] {
      backlog_.close(); // what is left is dropped with the mailbox
      unit->remove_pinned(id);
    });
    Base::launch(unit_, lazy, hide);
  }

  /// The unit (and thread) this actor runs on.
  driver_unit& unit() const noexcept {
    return *unit_;
  }

  /// The driver; its requests are valid only inside this actor's handlers.
  driver& io() const noexcept {
    return unit_->backend();
  }

private:
  /// Nothing waits in the mailbox (so nothing is overtaken), no skipped
  /// message waits in its cache for a behaviour that takes it (only a
  /// message consumed by `resume` puts them back in line), and no stream
  /// needs the rounds `resume` runs.
  bool can_defer() noexcept {
    return this->mailbox().blocked() && this->stream_managers().empty()
           && this->pending_stream_managers().empty()
           && this->get_normal_queue().cache().empty()
           && this->get_urgent_queue().cache().empty();
  }

  /// One deferred event: a single activation, like CAF's brokers get for
  /// I/O events. One that waits (skipped: no handler yet) goes to the
  /// mailbox as if it had been enqueued.
  static void run_deferred(void* ptr, caf::mailbox_element_ptr& x,
                           driver_unit& unit) {
    auto* self = static_cast<pinned*>(ptr);
    self->direct_ = true;
    auto r = self->activate(&unit, *x);
    self->direct_ = false;
    if (r == Base::activation_result::skipped) {
      self->backlog_.enqueued();
      self->Base::enqueue(std::move(x), &unit);
    }
  }

  static bool counted(const caf::mailbox_element& x) noexcept {
    auto cat = x.mid.category();
    return cat == caf::message_id::normal_message_category
           || cat == caf::message_id::urgent_message_category;
  }

  driver_unit* unit_;
  pinned_backlog backlog_{*unit_};
  bool direct_ = false; // inside run_deferred: not counted in the backlog
};

/// A function-based pinned actor: `caf::behavior f(actio::pinned_actor* self)`.
using pinned_actor = pinned<caf::event_based_actor>;

/// Spawns the class-based pinned actor `Impl` (derived from `pinned<...>`)
/// on `unit`.
template <class Impl, caf::spawn_options Os = caf::no_spawn_options,
          class... Ts>
auto spawn_pinned(driver_unit& unit, Ts&&... xs) {
  caf::actor_config cfg{&unit};
  return unit.system().template spawn_class<Impl, Os>(cfg,
                                                      std::forward<Ts>(xs)...);
}

/// Spawns a function-based pinned actor on `unit`:
/// `caf::behavior fun(pinned_actor* self)`.
///
/// (The behaviour is installed through `actor_config::init_fun` directly:
/// CAF 0.17's own functor path dereferences a null `shared_ptr<tuple<>>`
/// when there are no extra arguments, which UBSan reports.)
template <class Impl = pinned_actor, caf::spawn_options Os = caf::no_spawn_options,
          class F>
caf::actor spawn_pinned_fn(driver_unit& unit, F fun) {
  caf::actor_config cfg{&unit};
  cfg.init_fun = caf::actor_config::init_fun_type{
    [f = std::move(fun)](caf::local_actor* self) mutable {
      return caf::behavior{f(static_cast<Impl*>(self))};
    }};
  return unit.system().template spawn_class<Impl, Os>(cfg);
}

} // namespace actio
