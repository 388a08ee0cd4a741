// Driver events for an idle pinned actor skip its mailbox: the unit
// activates the actor with each one after the poll (driver_unit.hpp). What
// must hold: the events arrive in order and are delivered directly (the
// mailbox stays blocked while the handler runs, which it never is inside
// CAF's resume); an event the actor is not ready for (it awaits a
// response) waits in the mailbox as if enqueued; an actor that quits on one
// event gets no more, and nothing is left counted.

#include <algorithm>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/completions.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;

class deferred_events_test : public test::backend_test {};

TEST_P(deferred_events_test, timers_reach_an_idle_actor_directly_in_order) {
  auto& unit = rt().unit(0);
  constexpr int n = 50;
  struct seen {
    std::vector<op_id> ids;
    std::vector<bool> direct;
  };
  std::promise<seen> result;
  auto fut = result.get_future();
  std::promise<std::vector<op_id>> ids;
  auto ids_fut = ids.get_future();
  spawn_pinned_fn(unit, [&](pinned_actor* self) -> caf::behavior {
    std::vector<op_id> mine;
    // Distinct deadlines, so the order is the deadlines' order.
    for (int i = 0; i < n; ++i)
      mine.push_back(self->io().start_timer(std::chrono::milliseconds{1 + i},
                                            self->ctrl()));
    ids.set_value(mine);
    auto s = std::make_shared<seen>();
    return {[=, &result](const timer_expired& t) {
      s->ids.push_back(t.id);
      // Inside CAF's resume the mailbox is being read, never blocked.
      s->direct.push_back(self->mailbox().blocked());
      if (s->ids.size() == n) {
        result.set_value(*s);
        self->quit();
      }
    }};
  });
  ASSERT_EQ(ids_fut.wait_for(10s), std::future_status::ready);
  auto want = ids_fut.get();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto got = fut.get();
  EXPECT_EQ(got.ids, want);
  // Each was delivered by activation, not through the mailbox.
  EXPECT_EQ(std::count(got.direct.begin(), got.direct.end(), true), n);
  EXPECT_TRUE(test::wait_until([&] { return unit.pinned_backlog() == 0; }, 10s))
    << unit.pinned_backlog();
}

TEST_P(deferred_events_test, an_event_the_actor_is_not_ready_for_waits) {
  auto& unit = rt().unit(0);
  // An ordinary actor that answers once `release` is set.
  std::promise<void> release;
  auto released = release.get_future().share();
  // (The unused int: CAF 0.17 dereferences a null argument tuple for a
  // function actor spawned without arguments, which UBSan reports.)
  auto slow = sys().spawn([released](int) -> caf::behavior {
    return {[released](go_atom) {
      released.wait();
      return 42;
    }};
  }, 0);
  std::promise<std::vector<std::string>> result;
  auto fut = result.get_future();
  std::promise<void> awaiting;
  spawn_pinned_fn(unit, [&](pinned_actor* self) -> caf::behavior {
    auto log = std::make_shared<std::vector<std::string>>();
    // Nothing else is handled until the answer: the timer's event, fired
    // meanwhile, is skipped and must wait in the mailbox, not be lost.
    self->request(slow, caf::infinite, go_atom::value)
      .await([=](int v) {
        log->push_back("answer " + std::to_string(v));
      });
    self->io().start_timer(1ms, self->ctrl());
    awaiting.set_value();
    return {[=, &result](const timer_expired&) {
      log->push_back("timer");
      result.set_value(*log);
      self->quit();
    }};
  });
  ASSERT_EQ(awaiting.get_future().wait_for(10s), std::future_status::ready);
  // The timer fired and its event, skipped, now waits in the mailbox.
  ASSERT_TRUE(test::wait_until([&] { return unit.pinned_backlog() >= 1; }, 10s));
  release.set_value();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(fut.get(), (std::vector<std::string>{"answer 42", "timer"}));
  EXPECT_TRUE(test::wait_until([&] { return unit.pinned_backlog() == 0; }, 10s))
    << unit.pinned_backlog();
  caf::anon_send_exit(slow, caf::exit_reason::user_shutdown);
}

TEST_P(deferred_events_test, an_actor_that_quits_gets_no_more_events) {
  auto& unit = rt().unit(0);
  auto pinned_before = unit.pinned();
  auto handled = std::make_shared<std::atomic<int>>(0);
  std::promise<void> armed;
  spawn_pinned_fn(unit, [&, handled](pinned_actor* self) -> caf::behavior {
    // Due together: delivered in one batch after the same poll.
    for (int i = 0; i < 10; ++i)
      self->io().start_timer(2ms, self->ctrl());
    armed.set_value();
    return {[=](const timer_expired&) {
      ++*handled;
      self->quit(); // the other nine are dropped with the actor
    }};
  });
  ASSERT_EQ(armed.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(test::wait_until([&] { return unit.pinned() == pinned_before; }, 10s));
  EXPECT_EQ(handled->load(), 1);
  EXPECT_TRUE(test::wait_until([&] { return unit.pinned_backlog() == 0; }, 10s))
    << unit.pinned_backlog();
}

TEST_P(deferred_events_test, a_skipped_request_is_served_after_a_direct_event) {
  auto& unit = rt().unit(0);
  std::promise<void> asked;
  auto asked_fut = asked.get_future().share();
  // Skips everything but its timer until the timer fires, then answers.
  auto a = spawn_pinned_fn(unit, [asked_fut](pinned_actor* self) -> caf::behavior {
    self->set_default_handler(caf::skip);
    return {[=](const timer_expired&) {
              self->become([](int n) { return n + 1; });
            },
            [=](go_atom) {
              // The request is in the mailbox (skipped) before the timer
              // starts: the timer's event reaches an actor with a cache.
              asked_fut.wait();
              self->io().start_timer(1ms, self->ctrl());
            }};
  });
  caf::scoped_actor self{sys()};
  self->send(a, go_atom::value);
  int answer = 0;
  std::thread asker{[&] {
    caf::scoped_actor other{sys()};
    other->request(a, 30s, 41).receive([&](int n) { answer = n; },
                                       [&](caf::error&) { answer = -1; });
  }};
  // go (counted until its handler returns) and the request.
  ASSERT_TRUE(test::wait_until([&] { return unit.pinned_backlog() >= 2; }, 10s));
  asked.set_value();
  asker.join();
  EXPECT_EQ(answer, 42);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

// A handle outlives the runtime (in actio-kv, CAF's clock held one to a
// finished session and shipped a delayed message after the driver units
// were freed): what is sent then is dropped by the closed mailbox, a
// request is answered with an error, and the freed unit is not touched
// (AddressSanitizer reported a use after free here).
TEST_P(deferred_events_test, a_message_after_the_runtime_is_gone_is_dropped) {
  auto a = spawn_pinned_fn(rt().unit(0), [](pinned_actor*) -> caf::behavior {
    return {[](int x) { return x; }};
  });
  rt_->shutdown(); // ends the pinned actors, then the driver threads
  rt_.reset();     // frees the driver units; `a` still names the actor
  caf::anon_send(a, 1);
  caf::scoped_actor self{sys()};
  bool answered = false;
  self->request(a, 30s, 2).receive(
    [&](int) { answered = true; },
    [&](caf::error& err) {
      EXPECT_TRUE(err);
      EXPECT_EQ(err.category(), caf::atom("system")) << sys().render(err);
    });
  EXPECT_FALSE(answered) << "an actor that ended answered";
}

ACTIO_TEST_ALL_BACKENDS(deferred_events_test);

} // namespace
