#pragma once

/// Actors that other nodes can reach, guarded against remote exits.
///
/// CAF 0.17 stops an actor on an exit message with reason `kill` without
/// asking its exit handler, and BASP delivers an exit message from any
/// connected node to any actor whose handle that node holds: a published
/// actor, or one that sent it a message. So an actor published with
/// `node::publish` derives from `node_guarded<Base>`, whose mailbox drops,
/// before CAF looks at a message:
///   - an exit message not sent by an actor of this node -- also one
///     without a sender, since a remote node can send anonymously and BASP
///     delivers that exactly like a local `anon_send_exit`. A local stop is
///     therefore sent with a sender: `actio::send_local_exit` below (or
///     `scoped_actor::send_exit`), never `caf::anon_send_exit`;
///   - anything else from an actor on another node that `admits_remote`
///     refuses (by default: nothing is refused).
/// `node::publish` refuses an actor that is not guarded this way.
///
/// ```
/// caf::behavior worker(actio::node_actor* self) { ... }   // function-based
/// class service : public actio::node_actor { ... };        // class-based
/// using my_actor = caf::stateful_actor<State, actio::node_actor>;
/// ```

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/system_messages.hpp>

namespace actio {

/// What `node::publish` looks for: the actor drops remote exit messages.
class remote_exit_guard {
public:
  virtual ~remote_exit_guard() = default;
};

/// `Base` (an event-based actor type) with the guard described above.
template <class Base = caf::event_based_actor>
class node_guarded : public Base, public remote_exit_guard {
public:
  using Base::Base;
  using Base::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (ptr && !admits(*ptr))
      return; // dropped; a request among them stays unanswered
    Base::enqueue(std::move(ptr), eu);
  }

protected:
  /// Whether a message (not an exit message) from an actor on another node
  /// gets into the mailbox. Runs on the sender's thread: read only what
  /// never changes after construction.
  virtual bool admits_remote(const caf::mailbox_element&) const {
    return true;
  }

private:
  bool admits(const caf::mailbox_element& x) const {
    auto& src = x.sender;
    if (src && src->node() == this->node())
      return true;
    if (x.content().template match_elements<caf::exit_msg>())
      return false;
    if (!src)
      return true;
    return admits_remote(x);
  }
};

/// The usual base of a published actor.
using node_actor = node_guarded<caf::event_based_actor>;

/// Stops `whom` (a guarded actor of this node) with `reason`: an exit
/// message with a local sender, which the guard lets in.
inline void send_local_exit(caf::actor_system& sys, const caf::actor& whom,
                            caf::exit_reason reason
                            = caf::exit_reason::user_shutdown) {
  caf::scoped_actor self{sys};
  self->send_exit(whom, reason);
}

/// True if `whom` is a local actor with the remote-exit guard.
inline bool is_node_guarded(const caf::actor& whom) {
  auto* ptr = caf::actor_cast<caf::abstract_actor*>(whom);
  return ptr != nullptr && dynamic_cast<remote_exit_guard*>(ptr) != nullptr;
}

} // namespace actio
