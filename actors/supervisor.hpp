#pragma once

/// A supervisor in the manner of Erlang's `one_for_one`: it starts its
/// children, monitors them and restarts one that ended abnormally, alone.
///
/// ```
/// auto sup = actio::spawn_supervisor(sys, {
///   {"files", [&rt] { return actio::io::spawn_file_service(rt); }},
/// });
/// caf::actor files = sup->child("files"); // stable across restarts
/// ```
///
/// Clients talk to a child through its *front*, an actor the supervisor
/// keeps for it whose handle never changes: the front passes every message
/// on to the child's current incarnation, requests as requests, so a
/// restart is invisible to new requests. A request the crash swallowed (in
/// the child's mailbox or being served) gets `errc::restarted`, never
/// silence; a child that stays down answers with `errc::actor_failed`.
///
/// Restart policies: `permanent` (always restarted), `transient` (only
/// after an abnormal exit), `temporary` (never); an exit with
/// `user_shutdown` or `errc::shutting_down` is a stop, never restarted.
/// Intensity: more than
/// `max_restarts` restarts within `period` stop the supervisor with
/// `errc::restart_limit` (its monitors see it); its children and fronts end
/// with it. Each crash and restart is reported with the child's name.
///
/// Requests to the supervisor itself: `(which_atom, std::string name)` →
/// the child's front (`caf::actor`), `(current_atom, std::string name)` →
/// the current incarnation; unknown names get `errc::not_found`.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

namespace actio {

/// `(which_atom, name)`: a child's front.
using which_atom = caf::atom_constant<caf::atom("sv_which")>;
/// `(current_atom, name)`: a child's current incarnation.
using current_atom = caf::atom_constant<caf::atom("sv_curr")>;

/// When a child that ended is started again.
enum class restart_policy {
  permanent, ///< always
  transient, ///< after an abnormal exit only
  temporary, ///< never
};

/// One child: its name, how to start it (returns the new incarnation; it
/// may spawn on any driver) and when to restart it.
struct child_spec {
  std::string name;                  ///< unique among the children
  std::function<caf::actor()> start; ///< starts an incarnation
  restart_policy policy = restart_policy::permanent; ///< when to restart
};

/// The intensity: at most `max_restarts` restarts within `period`.
struct supervisor_options {
  size_t max_restarts = 3;                ///< restarts allowed in `period`
  std::chrono::milliseconds period{5000}; ///< the sliding window
};

/// A running supervisor and its children's fronts.
struct supervisor_handle {
  caf::actor supervisor; ///< answers `which_atom` / `current_atom`
  /// Each child's name and front, in the order given.
  std::vector<std::pair<std::string, caf::actor>> fronts;

  /// The front of the child `name` (invalid for an unknown name).
  caf::actor child(const std::string& name) const;
};

/// Starts `children` in order (here, on the caller's thread) and a
/// supervisor for them; `errc::actor_failed` if a start function throws or
/// returns an invalid handle (the children already started are stopped).
/// The supervisor lives while its handle or a front is held, or until it
/// gets an exit message; it then stops its children.
caf::expected<supervisor_handle>
spawn_supervisor(caf::actor_system& sys, std::vector<child_spec> children,
                 supervisor_options opts = {});

} // namespace actio
