#include "actio/actors/supervisor.hpp"

#include <utility>

#include <deque>
#include <map>

#include <caf/all.hpp>

#include "actio/actors/detail/any_response.hpp"
#include "actio/actors/detail/report.hpp"
#include "actio/drivers/errc.hpp"

namespace actio {

namespace {

/// From the supervisor to a front: the child's new incarnation (invalid:
/// the child stays down, for the reason given).
using incarnation_atom = caf::atom_constant<caf::atom("sv_incarn")>;

// -- the front: one per child, a stable handle ------------------------------

struct front_state {
  std::string child_name;
  caf::actor supervisor; ///< kept alive while clients hold this front
  caf::actor child;
  caf::error down_reason; ///< why there is no child, when there is none
  std::map<caf::message_id, caf::response_promise> pending; ///< by response id
  static inline const char* name = "actio.supervised";
};

using front_actor = caf::stateful_actor<front_state>;

/// Fails every request the current incarnation has not answered.
void fail_pending(front_actor* self, const caf::error& err) {
  auto pending = std::move(self->state.pending);
  self->state.pending.clear();
  for (auto& [id, rp] : pending)
    rp.deliver(err);
}

caf::result<caf::message> pass_on(front_actor* self, caf::message_view& x) {
  auto& st = self->state;
  bool is_request = self->current_message_id().is_request();
  if (!st.child) {
    auto err = st.down_reason ? st.down_reason
                              : make_actio_error(errc::actor_failed,
                                                 st.child_name + " is down");
    return is_request ? caf::result<caf::message>{err} : caf::message{};
  }
  auto msg = x.move_content_to_message();
  if (!is_request) {
    self->delegate(st.child, std::move(msg));
    return caf::message{};
  }
  auto rp = self->make_response_promise();
  auto mid = self->new_request_id(caf::message_priority::normal);
  st.pending.emplace(mid.response_id(), rp);
  st.child->enqueue(caf::make_mailbox_element(self->ctrl(), mid, {},
                                              std::move(msg)),
                    self->context());
  self->add_multiplexed_response_handler(
    mid.response_id(),
    detail::any_response([self, id = mid.response_id()](caf::message& r) {
      auto& st = self->state;
      auto i = st.pending.find(id);
      if (i == st.pending.end())
        return; // already failed when the incarnation went down
      auto rp = std::move(i->second);
      st.pending.erase(i);
      if (r.match_elements<caf::error>()) {
        auto& e = r.get_as<caf::error>(0);
        if (e == caf::sec::request_receiver_down) {
          rp.deliver(make_actio_error(errc::restarted,
                                      st.child_name + " crashed before answering"));
          return;
        }
        rp.deliver(e);
        return;
      }
      rp.deliver(std::move(r));
    }));
  return rp;
}

caf::behavior front(front_actor* self, std::string name, caf::actor child) {
  self->state.child_name = std::move(name);
  self->state.child = child;
  self->monitor(child);
  self->set_default_handler(
    [self](caf::scheduled_actor*, caf::message_view& x) { return pass_on(self, x); });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.child.address())
      return;
    // The restart (or the verdict) comes from the supervisor.
    st.child = nullptr;
    fail_pending(self, make_actio_error(errc::restarted,
                                        st.child_name + " crashed before answering"));
  });
  // The supervisor gave up: requests in flight get its reason.
  self->set_exit_handler([self](caf::exit_msg& em) {
    fail_pending(self, em.reason ? em.reason
                                 : make_actio_error(errc::shutting_down,
                                                    "supervisor stopped"));
    // Stopped from outside: pass the exit on while this front still holds
    // the supervisor. The link's own exit message could come too late: the
    // front's reference may have been the supervisor's last, and an actor
    // destroyed that way never reads its mailbox (its children would be
    // left running).
    auto& sup = self->state.supervisor;
    if (sup && em.source != sup.address())
      self->send_exit(sup, em.reason);
    self->quit(std::move(em.reason));
  });
  return {
    [self](incarnation_atom, caf::actor child, caf::error reason) {
      auto& st = self->state;
      if (!st.supervisor)
        st.supervisor = caf::actor_cast<caf::actor>(self->current_sender());
      if (child && child == st.child)
        return; // the first incarnation, which the front started with
      if (st.child)
        self->demonitor(st.child);
      fail_pending(self, make_actio_error(errc::restarted,
                                          st.child_name + " was restarted"));
      st.child = std::move(child);
      st.down_reason = std::move(reason);
      if (st.child)
        self->monitor(st.child);
    },
  };
}

// -- the supervisor -------------------------------------------------------------

struct child_slot {
  child_spec spec;
  // Weak: the fronts hold the supervisor, clients hold the fronts; when the
  // last front is gone, the link ends the supervisor and its children.
  caf::actor_addr front;
  caf::actor current;
};

struct supervisor_state {
  std::vector<child_slot> children;
  supervisor_options opts;
  std::deque<std::chrono::steady_clock::time_point> restarts;
  static inline const char* name = "actio.supervisor";
  // The supervisor ends without give_up() when the last reference to it
  // goes (its fronts were dropped): its children must not outlive it.
  ~supervisor_state() {
    for (auto& c : children)
      if (c.current)
        caf::anon_send_exit(c.current, caf::exit_reason::user_shutdown);
  }
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

std::string describe(caf::actor_system& sys, const caf::error& e) {
  return e ? sys.render(e) : std::string{"normal exit"};
}

bool start(supervisor_actor* self, child_slot& c) {
  caf::actor child;
  try {
    child = c.spec.start();
  } catch (const std::exception& e) {
    detail::report_failure("supervisor start failed",
                           "supervisor: starting " + c.spec.name
                             + " failed: " + e.what());
  }
  if (!child)
    return false;
  c.current = child;
  self->monitor(child);
  self->send(caf::actor_cast<caf::actor>(c.front), incarnation_atom::value,
             child, caf::error{});
  return true;
}

void give_up(supervisor_actor* self, caf::error reason) {
  for (auto& c : self->state.children)
    if (c.current)
      self->send_exit(std::exchange(c.current, nullptr), reason);
  self->quit(std::move(reason));
}

void on_child_down(supervisor_actor* self, caf::down_msg& dm) {
  auto& st = self->state;
  auto it = std::find_if(st.children.begin(), st.children.end(),
                         [&](auto& c) { return c.current.address() == dm.source; });
  if (it == st.children.end())
    return;
  auto& c = *it;
  c.current = nullptr;
  bool abnormal = dm.reason && dm.reason != caf::exit_reason::normal;
  // Stopped on purpose (an exit with user_shutdown, or a runtime shutting
  // down): not a crash, and restarting on a stopping runtime would fail.
  bool shutdown = dm.reason == caf::exit_reason::user_shutdown
                  || (dm.reason.category() == caf::atom("actio")
                      && dm.reason.code()
                           == static_cast<uint8_t>(errc::shutting_down));
  if (shutdown)
    abnormal = false;
  bool again = !shutdown
               && (c.spec.policy == restart_policy::permanent
                   || (c.spec.policy == restart_policy::transient && abnormal));
  auto why = describe(self->system(), dm.reason);
  if (abnormal)
    detail::report_failure("supervised child crashed",
                           "supervisor: " + c.spec.name + " crashed: " + why
                             + (again ? "; restarting" : ""));
  if (!again) {
    self->send(caf::actor_cast<caf::actor>(c.front), incarnation_atom::value,
               caf::actor{},
               make_actio_error(shutdown ? errc::shutting_down
                                         : errc::actor_failed,
                                c.spec.name + " ended: " + why));
    return;
  }
  auto now = std::chrono::steady_clock::now();
  st.restarts.push_back(now);
  while (!st.restarts.empty() && now - st.restarts.front() > st.opts.period)
    st.restarts.pop_front();
  if (st.restarts.size() > st.opts.max_restarts) {
    auto text = "supervisor: more than " + std::to_string(st.opts.max_restarts)
                + " restarts in " + std::to_string(st.opts.period.count())
                + " ms (last: " + c.spec.name + "); stopping";
    detail::report_failure("supervisor gives up", text);
    give_up(self, make_actio_error(errc::restart_limit, text));
    return;
  }
  if (!start(self, c))
    give_up(self, make_actio_error(errc::actor_failed,
                                   "supervisor: restarting " + c.spec.name
                                     + " failed"));
}

caf::behavior supervisor(supervisor_actor* self, std::vector<child_slot> children,
                         supervisor_options opts) {
  auto& st = self->state;
  st.children = std::move(children);
  st.opts = opts;
  self->set_down_handler([self](caf::down_msg& dm) { on_child_down(self, dm); });
  // Stopped from outside, or its fronts are gone: the children end too.
  self->set_exit_handler([self](caf::exit_msg& em) {
    give_up(self, em.reason ? em.reason : caf::error{caf::exit_reason::normal});
  });
  for (auto& c : st.children) {
    self->link_to(c.front); // fronts end with the supervisor, and it with them
    self->monitor(c.current); // started by spawn_supervisor
    // (The front learns its supervisor, and holds it, from this message.)
    self->send(caf::actor_cast<caf::actor>(c.front), incarnation_atom::value,
               c.current, caf::error{});
  }
  auto find = [self](const std::string& name) -> child_slot* {
    for (auto& c : self->state.children)
      if (c.spec.name == name)
        return &c;
    return nullptr;
  };
  return {
    [find](which_atom, const std::string& name) -> caf::result<caf::actor> {
      if (auto* c = find(name))
        if (auto f = caf::actor_cast<caf::actor>(c->front))
          return f;
      return make_actio_error(errc::not_found, "no child named " + name);
    },
    [find](current_atom, const std::string& name) -> caf::result<caf::actor> {
      if (auto* c = find(name); c && c->current)
        return c->current;
      return make_actio_error(errc::not_found, "no running child named " + name);
    },
  };
}

} // namespace

caf::actor supervisor_handle::child(const std::string& name) const {
  for (auto& [n, f] : fronts)
    if (n == name)
      return f;
  return {};
}

caf::expected<supervisor_handle>
spawn_supervisor(caf::actor_system& sys, std::vector<child_spec> children,
                 supervisor_options opts) {
  // The first incarnations start here, so a front has its child before
  // any client can reach it.
  supervisor_handle h;
  std::vector<child_slot> slots;
  for (auto& spec : children) {
    caf::actor child;
    try {
      child = spec.start ? spec.start() : caf::actor{};
    } catch (const std::exception&) {
    }
    if (!child) {
      for (auto& c : slots)
        caf::anon_send_exit(c.current, caf::exit_reason::user_shutdown);
      return make_actio_error(errc::actor_failed,
                              "supervisor: starting " + spec.name + " failed");
    }
    auto f = sys.spawn(front, spec.name, child);
    h.fronts.emplace_back(spec.name, f);
    slots.push_back({std::move(spec), f.address(), child});
  }
  h.supervisor = sys.spawn(supervisor, std::move(slots), opts);
  return h;
}

} // namespace actio
