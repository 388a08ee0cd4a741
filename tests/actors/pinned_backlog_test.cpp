// The backlog of pinned actors' mailboxes (driver_unit::pinned_backlog,
// actio_driver_pinned_mailbox_messages): messages count from enqueue until
// consumed, and what a terminated actor leaves in its mailbox is taken off.
// The driver thread is held inside a handler, so the queued messages stay
// queued while the test looks.

#include <future>

#include <caf/all.hpp>

#include "actio/actors/pinned.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

class pinned_backlog_test : public test::backend_test {};

/// A pinned actor that, on 0, holds the driver thread until `release` is
/// set, then quits if `quit_after` says so; other ints are just taken.
struct holder {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();

  caf::actor spawn(driver_unit& unit, bool quit_after) {
    return spawn_pinned_fn(unit, [this, quit_after](pinned_actor* self) -> caf::behavior {
      return {[this, self, quit_after](int n) {
        if (n != 0)
          return;
        entered.set_value();
        released.wait();
        if (quit_after)
          self->quit();
      }};
    });
  }
};

TEST_P(pinned_backlog_test, counts_messages_until_consumed) {
  auto& unit = rt().unit(0);
  holder h;
  auto a = h.spawn(unit, false);
  caf::anon_send(a, 0);
  ASSERT_EQ(h.entered.get_future().wait_for(10s), std::future_status::ready);
  // The driver thread is held: nothing pinned is consumed meanwhile.
  auto base = unit.pinned_backlog();
  EXPECT_GE(base, 0);
  for (int i = 1; i <= 5; ++i)
    caf::anon_send(a, i);
  EXPECT_EQ(unit.pinned_backlog(), base + 5);
  h.release.set_value();
  EXPECT_TRUE(test::wait_until([&] { return unit.pinned_backlog() == 0; }, 10s))
    << unit.pinned_backlog();
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_P(pinned_backlog_test, a_terminated_actor_leaves_nothing_counted) {
  auto& unit = rt().unit(0);
  auto pinned_before = unit.pinned();
  holder h;
  auto a = h.spawn(unit, true); // quits after 0: 1..3 are never consumed
  caf::anon_send(a, 0);
  ASSERT_EQ(h.entered.get_future().wait_for(10s), std::future_status::ready);
  auto base = unit.pinned_backlog();
  for (int i = 1; i <= 3; ++i)
    caf::anon_send(a, i);
  EXPECT_EQ(unit.pinned_backlog(), base + 3);
  h.release.set_value();
  EXPECT_TRUE(test::wait_until([&] { return unit.pinned() == pinned_before; }, 10s));
  EXPECT_TRUE(test::wait_until([&] { return unit.pinned_backlog() == 0; }, 10s))
    << unit.pinned_backlog();
  // Sent to the dead actor: bounced, not counted.
  caf::anon_send(a, 7);
  EXPECT_EQ(unit.pinned_backlog(), 0);
}

ACTIO_TEST_ALL_BACKENDS(pinned_backlog_test);

} // namespace
