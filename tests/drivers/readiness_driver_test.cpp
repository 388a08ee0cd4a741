// The readiness driver core (drivers/readiness/) driven directly, once per
// poller this build has (epoll, kqueue): what only the core's own API
// offers (`watch`, used by the aio backend) and what the driver suite
// cannot see from outside (an idle driver sleeps; no timer keeps going off).
// Everything else of these backends runs in the backend-parameterised suite.

#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "actio/actors/config.hpp"
#include "actio/drivers/completions.hpp"

#ifdef ACTIO_HAVE_EPOLL
#  include "actio/drivers/epoll/epoll_driver.hpp"
#endif
#ifdef ACTIO_HAVE_KQUEUE
#  include "actio/drivers/kqueue/kqueue_driver.hpp"
#endif

using namespace std::chrono_literals;
using namespace actio;

namespace {

using clock_type = std::chrono::steady_clock;

/// One readiness backend, with the core-only calls reachable by name.
struct subject {
  std::unique_ptr<driver> drv;
  std::function<caf::error(int, std::function<void()>)> watch;
  std::function<void()> unwatch;
};

template <class Driver>
subject make_subject() {
  auto drv = Driver::make();
  if (!drv)
    return {};
  auto* core = static_cast<Driver*>(drv->get());
  return {std::move(*drv),
          [core](int fd, std::function<void()> f) {
            return core->watch(fd, std::move(f));
          },
          [core] { core->unwatch(); }};
}

subject make_named(const std::string& name) {
#ifdef ACTIO_HAVE_EPOLL
  if (name == "epoll")
    return make_subject<epoll_driver>();
#endif
#ifdef ACTIO_HAVE_KQUEUE
  if (name == "kqueue")
    return make_subject<kqueue_driver>();
#endif
  return {};
}

std::vector<std::string> readiness_backends() {
  std::vector<std::string> result;
#ifdef ACTIO_HAVE_EPOLL
  result.emplace_back("epoll");
#endif
#ifdef ACTIO_HAVE_KQUEUE
  result.emplace_back("kqueue");
#endif
  return result;
}

class readiness_driver_test : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    s_ = make_named(GetParam());
    ASSERT_NE(s_.drv, nullptr) << "cannot create the " << GetParam()
                               << " driver";
    ASSERT_EQ(::pipe(fds_), 0);
  }

  void TearDown() override {
    if (s_.drv)
      s_.unwatch();
    s_.drv.reset(); // before the pipe closes
    for (int fd : fds_)
      if (fd >= 0)
        ::close(fd);
  }

  /// Polls until `done` holds; false if it does not within 10 s.
  bool poll_until(const std::function<bool()>& done) {
    auto deadline = clock_type::now() + 10s;
    while (!done()) {
      if (clock_type::now() > deadline)
        return false;
      if (auto err = s_.drv->poll(100ms)) {
        ADD_FAILURE() << "poll: " << caf::to_string(err);
        return false;
      }
      s_.drv->process();
    }
    return true;
  }

  subject s_;
  int fds_[2] = {-1, -1};
};

TEST_P(readiness_driver_test, watch_reports_readable_level_triggered_until_unwatched) {
  int calls = 0;
  ASSERT_FALSE(s_.watch(fds_[0], [&calls] { ++calls; }));
  ASSERT_EQ(::write(fds_[1], "x", 1), 1);
  ASSERT_TRUE(poll_until([&] { return calls > 0; }));
  // Level-triggered: the byte is still there, so the next turn reports it
  // again (the aio backend relies on this when a drain falls short).
  auto seen = calls;
  ASSERT_TRUE(poll_until([&] { return calls > seen; }));
  // Drained and unwatched: new data no longer reaches the callback.
  char c;
  ASSERT_EQ(::read(fds_[0], &c, 1), 1);
  s_.unwatch();
  seen = calls;
  ASSERT_EQ(::write(fds_[1], "y", 1), 1);
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(s_.drv->poll(20ms));
  EXPECT_EQ(calls, seen);
}

// The story: kqueue's EVFILT_TIMER is periodic. The driver re-arms its one
// timer to each next deadline; when the last deadline has gone off there is
// none left to re-arm to, and a driver that only remembered "nothing armed"
// kept the old period, waking every few milliseconds for nothing (the
// accept back-off uses 5 ms). After the last timer fired, an idle driver
// must sleep the whole timeout it was given: at most one wait may still
// come back early (the timer's last expiry racing with the re-arm).
TEST_P(readiness_driver_test, idle_driver_sleeps_after_its_last_timer_fired) {
  actio::config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto id = s_.drv->start_timer(5ms, caf::actor_cast<caf::strong_actor_ptr>(self));
  bool fired = false;
  ASSERT_TRUE(poll_until([&] {
    self->receive([&](timer_expired t) { fired = t.id == id; },
                  caf::after(0ms) >> [] {});
    return fired;
  }));
  bool slept = false;
  for (int i = 0; i < 3 && !slept; ++i) {
    auto start = clock_type::now();
    ASSERT_FALSE(s_.drv->poll(300ms));
    slept = clock_type::now() - start >= 250ms;
  }
  EXPECT_TRUE(slept) << "the driver kept waking up after its last timer";
  s_.drv->close_all();
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(readiness_driver_test);
INSTANTIATE_TEST_SUITE_P(readiness, readiness_driver_test,
                         ::testing::ValuesIn(readiness_backends()),
                         [](const auto& x) { return x.param; });

} // namespace
