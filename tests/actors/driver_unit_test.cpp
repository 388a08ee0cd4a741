// The driver thread's execution unit: where pinned and ordinary actors run,
// when another thread must wake the driver, and how shutdown ends them.

#include <atomic>
#include <future>
#include <thread>

#include <caf/all.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/select.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

using kick_atom = caf::atom_constant<caf::atom("kick")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;

class driver_unit_test : public test::backend_test {};

TEST_P(driver_unit_test, pinned_actor_runs_on_its_driver_thread) {
  auto& unit = rt().unit(0);
  std::promise<driver_unit*> where;
  auto fut = where.get_future();
  auto a = spawn_pinned_fn(unit, [&where](pinned_actor*) -> caf::behavior {
    where.set_value(driver_unit::current());
    return {[](int) {}};
  });
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(fut.get(), &unit);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_P(driver_unit_test, same_thread_messages_need_no_wakeup) {
  auto& unit = rt().unit(0);
  constexpr int rounds = 1000;
  std::promise<int> done;
  auto fut = done.get_future();
  auto pong = spawn_pinned_fn(unit, [](pinned_actor*) -> caf::behavior {
    return {[](ping_atom, int n) { return n; }};
  });
  auto ping = spawn_pinned_fn(unit, [&](pinned_actor* self) -> caf::behavior {
    return {
      [=](kick_atom) { self->send(pong, ping_atom::value, 1); },
      [=, &done](int n) { // pong's reply
        if (n == rounds)
          done.set_value(n);
        else
          self->send(pong, ping_atom::value, n + 1);
      },
    };
  });
  // Both actors were launched from this thread (wake-ups already counted).
  // The kick is at most one more; the 2,000 messages between the two
  // pinned actors stay on the driver thread and wake nobody.
  auto before = unit.remote_wakeups();
  caf::anon_send(ping, kick_atom::value);
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), rounds);
  // (0 when the kick found ping still busy starting up.)
  EXPECT_LE(unit.remote_wakeups() - before, 1u);
  caf::anon_send_exit(ping, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
}

TEST_P(driver_unit_test, messages_from_other_threads_wake_the_driver) {
  auto& unit = rt().unit(0);
  // Counted from before the spawn: launching from this thread always goes
  // through exec_later (so at least one wake-up without timing luck); the
  // pings may or may not find the actor idle.
  auto before = unit.remote_wakeups();
  auto echo = spawn_pinned_fn(unit, [](pinned_actor*) -> caf::behavior {
    return {[](ping_atom, int n) { return n; }};
  });
  caf::scoped_actor self{sys()};
  for (int i = 0; i < 50; ++i) {
    int got = -1;
    self->request(echo, 10s, ping_atom::value, i)
      .receive([&](int n) { got = n; },
               [&](caf::error& err) { FAIL() << sys().render(err); });
    EXPECT_EQ(got, i);
  }
  auto woken = unit.remote_wakeups() - before;
  EXPECT_GE(woken, 1u);
  EXPECT_LE(woken, 51u); // the launch, then at most one per ping
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}

TEST_P(driver_unit_test, ordinary_actors_are_forwarded_to_the_scheduler) {
  auto& unit = rt().unit(0);
  std::promise<bool> launched_on_scheduler;
  std::promise<bool> woken_on_scheduler;
  auto f1 = launched_on_scheduler.get_future();
  auto f2 = woken_on_scheduler.get_future();
  // Spawned with the driver unit as host: exec_later must hand it over.
  caf::actor_config cfg{&unit};
  auto fun = [&](caf::event_based_actor*) -> caf::behavior {
    launched_on_scheduler.set_value(driver_unit::current() == nullptr);
    return {[&](kick_atom) {
      woken_on_scheduler.set_value(driver_unit::current() == nullptr);
    }};
  };
  cfg.init_fun = caf::actor_config::init_fun_type{
    [fun](caf::local_actor* self) mutable {
      return fun(static_cast<caf::event_based_actor*>(self));
    }};
  caf::actor plain = sys().spawn_class<caf::event_based_actor,
                                       caf::no_spawn_options>(cfg);
  ASSERT_EQ(f1.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(f1.get());
  // A pinned actor sends to it: the send passes the driver unit along,
  // which must again forward the ordinary actor to the scheduler.
  auto sender = spawn_pinned_fn(unit, [plain](pinned_actor* self) -> caf::behavior {
    self->send(plain, kick_atom::value);
    return {[](int) {}};
  });
  ASSERT_EQ(f2.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(f2.get());
  caf::anon_send_exit(plain, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
}

TEST_P(driver_unit_test, driver_timers_fire_in_order_and_cancel) {
  auto& unit = rt().unit(0);
  std::promise<std::vector<std::string>> result;
  auto fut = result.get_future();
  spawn_pinned_fn(unit, [&result](pinned_actor* self) -> caf::behavior {
    auto log = std::make_shared<std::vector<std::string>>();
    auto cancelled = self->io().start_timer(30ms, self->ctrl());
    auto late = self->io().start_timer(120ms, self->ctrl());
    auto early = self->io().start_timer(1ms, self->ctrl());
    if (!self->io().cancel_timer(cancelled))
      log->push_back("cancel failed");
    return {[=, &result](const timer_expired& t) {
      log->push_back(t.id == early ? "early"
                     : t.id == late ? "late"
                                    : "cancelled fired");
      if (t.id == late) {
        result.set_value(*log);
        self->quit();
      }
    }};
  });
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(fut.get(), (std::vector<std::string>{"early", "late"}));
}

// Timers live in user space and the kernel is woken at the earliest
// deadline only; cancelling does not tell it (lazy). So: a timer earlier
// than the one the kernel waits for must still fire first; the wake-up left
// by a thousand cancelled timers must fire nothing early; and none of the
// cancelled ones may ever fire.
TEST_P(driver_unit_test, timers_keep_their_deadlines_across_lazy_cancels) {
  auto& unit = rt().unit(0);
  using clock = driver::clock;
  std::promise<std::vector<std::string>> result;
  auto fut = result.get_future();
  spawn_pinned_fn(unit, [&result](pinned_actor* self) -> caf::behavior {
    auto log = std::make_shared<std::vector<std::string>>();
    auto start = clock::now();
    auto far = self->io().start_timer(400ms, self->ctrl());
    auto near = self->io().start_timer(20ms, self->ctrl()); // earlier: re-arm
    auto gone = std::make_shared<std::vector<op_id>>();
    for (int i = 0; i < 1000; ++i)
      gone->push_back(self->io().start_timer(50ms, self->ctrl()));
    for (auto id : *gone)
      if (!self->io().cancel_timer(id))
        log->push_back("cancel failed");
    auto after = self->io().start_timer(100ms, self->ctrl());
    return {[=, &result](const timer_expired& t) {
      auto waited = clock::now() - start;
      if (t.id == near)
        log->push_back(waited >= 20ms ? "near" : "near early");
      else if (t.id == after)
        log->push_back(waited >= 100ms ? "after" : "after early");
      else if (t.id == far)
        log->push_back(waited >= 400ms ? "far" : "far early");
      else
        log->push_back("a cancelled timer fired");
      if (t.id == far) {
        result.set_value(*log);
        self->quit();
      }
    }};
  });
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(fut.get(), (std::vector<std::string>{"near", "after", "far"}));
}

TEST_P(driver_unit_test, shutdown_ends_pinned_actors_and_threads) {
  std::atomic<int> exited{0};
  std::vector<caf::actor> alive; // an actor nobody references ends by itself
  for (size_t i = 0; i < 10; ++i) {
    auto a = spawn_pinned_fn(rt().unit(0), [](pinned_actor*) -> caf::behavior {
      return {[](int) {}};
    });
    caf::actor_cast<caf::abstract_actor*>(a)->attach_functor(
      [&exited] { ++exited; });
    alive.push_back(a);
  }
  ASSERT_TRUE(test::wait_until([&] { return rt().unit(0).pinned() == 10; }));
  rt().shutdown();
  EXPECT_EQ(exited.load(), 10);
  EXPECT_EQ(rt().unit(0).pinned(), 0u);
}

ACTIO_TEST_ALL_BACKENDS(driver_unit_test);

TEST(runtime_config, unknown_backend_is_a_clear_error) {
  config cfg;
  caf::put(cfg.content, "actio.io.backend", "nope");
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  ASSERT_FALSE(rt);
  EXPECT_EQ(rt.error().code(), static_cast<uint8_t>(errc::invalid_argument));
  EXPECT_EQ(rt.error().category(), caf::atom("actio"));
  EXPECT_NE(sys.render(rt.error()).find("unknown backend 'nope'"),
            std::string::npos)
    << sys.render(rt.error());
}

TEST(runtime_config, zero_drivers_is_rejected) {
  config cfg;
  caf::put(cfg.content, "actio.io.drivers", 0);
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  ASSERT_FALSE(rt);
  EXPECT_EQ(rt.error().code(), static_cast<uint8_t>(errc::invalid_argument));
}

TEST(runtime_config, options_come_from_the_command_line) {
  config cfg;
  std::vector<std::string> args{"prog", "--actio.io.drivers", "3",
                                "--actio.io.backend=auto"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  ASSERT_FALSE(cfg.parse_args(static_cast<int>(argv.size()), argv.data()));
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  ASSERT_TRUE(rt) << sys.render(rt.error());
  EXPECT_EQ((*rt)->drivers(), 3u);
  EXPECT_EQ((*rt)->backend_name(), available_backends().front());
}

// `auto` on a machine without io_uring: the probe is forced to fail (as
// ENOSYS from io_uring_setup would), the runtime starts on epoll and says
// why. On a machine that has io_uring, `auto` would otherwise pick it.
TEST(runtime_config, auto_falls_back_to_epoll_when_the_uring_probe_fails) {
  config cfg;
  std::vector<std::string> args{"prog", "--actio.io.backend=auto",
                                "--actio.io.uring-probe=fail"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  ASSERT_FALSE(cfg.parse_args(static_cast<int>(argv.size()), argv.data()));
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  ASSERT_TRUE(rt) << sys.render(rt.error());
  EXPECT_EQ((*rt)->backend_name(), "epoll");
  const auto& why = (*rt)->backend_reason();
  EXPECT_NE(why.find("uring: unavailable (backend_unavailable "
                     "(io_uring_setup: Function not implemented (forced by "
                     "actio.io.uring-probe=fail)))"),
            std::string::npos)
    << why;
  EXPECT_NE(why.find("epoll: available"), std::string::npos) << why;
  // The fallback is a working runtime: a pinned actor runs on its driver.
  auto& unit = (*rt)->unit(0);
  std::promise<driver_unit*> where;
  auto fut = where.get_future();
  auto a = spawn_pinned_fn(unit, [&where](pinned_actor*) -> caf::behavior {
    where.set_value(driver_unit::current());
    return {[](int) {}};
  });
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), &unit);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST(runtime_config, uring_by_name_is_an_error_when_its_probe_fails) {
  config cfg;
  caf::put(cfg.content, "actio.io.backend", std::string{"uring"});
  caf::put(cfg.content, "actio.io.uring-probe", std::string{"fail"});
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  ASSERT_FALSE(rt);
  EXPECT_EQ(rt.error().code(), static_cast<uint8_t>(errc::backend_unavailable));
  EXPECT_NE(sys.render(rt.error()).find("backend 'uring' is not available: "),
            std::string::npos)
    << sys.render(rt.error());
}

} // namespace
