#pragma once

// driver_stall: holds a driver thread for as long as a test needs (tests
// only; blocking a driver is never done elsewhere).

#include <chrono>
#include <future>
#include <memory>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/send.hpp>

#include "actio/actors/driver_unit.hpp"
#include "actio/actors/pinned.hpp"

namespace actio::test {

/// Holds a driver thread (and so every actor pinned to it, such as the file
/// service behind a remote file service) until `release()` or destruction:
/// requests the remote service accepted stay in flight for as long as the
/// test needs, without any timing. Blocking a driver is never done outside
/// tests.
class driver_stall {
public:
  explicit driver_stall(driver_unit& unit) {
    auto entered = std::make_shared<std::promise<void>>();
    auto in = entered->get_future();
    auto gate = gate_.get_future().share();
    blocker_ = spawn_pinned_fn(unit, [entered, gate](pinned_actor*) {
      return caf::behavior{[entered, gate](caf::ok_atom) {
        entered->set_value();
        gate.wait();
      }};
    });
    caf::anon_send(blocker_, caf::ok_atom::value);
    holding_ = in.wait_for(std::chrono::seconds{30}) == std::future_status::ready;
  }
  ~driver_stall() {
    release();
    caf::anon_send_exit(blocker_, caf::exit_reason::user_shutdown);
  }
  driver_stall(const driver_stall&) = delete;
  driver_stall& operator=(const driver_stall&) = delete;

  /// True once the driver thread is held.
  bool holding() const {
    return holding_;
  }

  void release() {
    if (!released_)
      gate_.set_value();
    released_ = true;
  }

private:
  std::promise<void> gate_;
  caf::actor blocker_;
  bool holding_ = false;
  bool released_ = false;
};

} // namespace actio::test
