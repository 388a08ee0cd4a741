// The one_for_one supervisor: a crashed child is restarted behind its stable
// front, the request the crash swallowed gets errc::restarted, new requests
// are served, and too many restarts stop the supervisor with
// errc::restart_limit. The file service runs under it on every backend.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include <caf/all.hpp>

#include "actio/actors/supervisor.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

using hang_atom = caf::atom_constant<caf::atom("t_hang")>;
using boom_atom = caf::atom_constant<caf::atom("t_boom")>;
using ping_atom = caf::atom_constant<caf::atom("t_ping")>;

/// A child that never answers `hang`, throws on `boom`, answers `ping`.
/// (An argument: CAF 0.17 spawning an argument-less function actor binds a
/// null shared_ptr, which UBSan reports.)
caf::behavior fragile(caf::event_based_actor* self, int) {
  return {
    [self](hang_atom) -> caf::result<int> {
      return self->make_response_promise<int>(); // never delivered
    },
    [](boom_atom) { throw std::runtime_error("boom"); },
    [](ping_atom) { return 42; },
  };
}

class supervisor_test : public test::backend_test {
protected:
  /// The current incarnation of `name`, or an invalid handle.
  caf::actor current(const caf::actor& sup, const std::string& name) {
    caf::scoped_actor self{sys()};
    caf::actor result;
    self->request(sup, 10s, current_atom::value, name)
      .receive([&](caf::actor& a) { result = a; }, [](caf::error&) {});
    return result;
  }

  /// Stops a supervisor and waits (bounded) until it is gone.
  void stop(const caf::actor& sup) {
    caf::scoped_actor self{sys()};
    self->monitor(sup);
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; }, caf::after(30s) >> [] {});
    EXPECT_TRUE(down) << "the supervisor did not stop";
  }

  /// Waits for a new incarnation of `name` other than `old`.
  caf::actor next(const caf::actor& sup, const std::string& name,
                  const caf::actor& old) {
    caf::actor now;
    test::wait_until([&] {
      now = current(sup, name);
      return now && now != old;
    });
    return now;
  }
};

TEST_P(supervisor_test, a_killed_file_service_is_restarted_behind_its_front) {
  auto hx = spawn_supervisor(sys(), {{"files", [this] {
                                       return io::spawn_file_service(rt());
                                     }}});
  ASSERT_TRUE(hx) << sys().render(hx.error());
  auto& h = *hx;
  auto files = h.child("files");
  ASSERT_TRUE(files);
  char path[] = "/tmp/actio-sup-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  ::close(fd);
  caf::scoped_actor self{sys()};
  auto open = [&]() -> caf::expected<uint64_t> {
    caf::expected<uint64_t> r = make_actio_error(errc::timed_out, "no answer");
    self->request(files, 30s, io::file_open_atom::value, std::string{path},
                  int{O_RDONLY}, uint32_t{0})
      .receive([&](uint64_t f) { r = f; }, [&](caf::error& e) { r = e; });
    return r;
  };
  auto first = open();
  ASSERT_TRUE(first) << sys().render(first.error());
  auto old = current(h.supervisor, "files");
  ASSERT_TRUE(old);
  self->send_exit(old, make_actio_error(errc::system_error, "killed by the test"));
  auto fresh = next(h.supervisor, "files", old);
  ASSERT_TRUE(fresh) << "not restarted";
  auto again = open(); // through the same front
  ASSERT_TRUE(again) << sys().render(again.error());
  caf::expected<uint64_t> size = 0u;
  self->request(files, 30s, io::file_stat_atom::value, *again)
    .receive([&](uint64_t n) { size = n; }, [&](caf::error& e) { size = e; });
  ASSERT_TRUE(size) << sys().render(size.error());
  EXPECT_EQ(*size, 3u);
  ::unlink(path);
  stop(h.supervisor);
}

TEST_P(supervisor_test, the_request_a_crash_swallowed_gets_restarted) {
  auto hx = spawn_supervisor(sys(), {{"fragile", [this] {
                                       return sys().spawn(fragile, 0);
                                     }}});
  ASSERT_TRUE(hx) << sys().render(hx.error());
  auto& h = *hx;
  auto front = h.child("fragile");
  auto old = current(h.supervisor, "fragile");
  ASSERT_TRUE(old);
  caf::scoped_actor self{sys()};
  // A request the child holds without answering, then a crash; both from
  // one sender, so the child has the first when the second kills it.
  caf::error swallowed;
  bool got = false;
  caf::scoped_actor client{sys()};
  auto pending = client->request(front, 30s, hang_atom::value);
  client->send(front, boom_atom::value);
  std::move(pending).receive([&](int) { got = true; },
                             [&](caf::error& e) {
                               got = true;
                               swallowed = e;
                             });
  ASSERT_TRUE(got);
  EXPECT_EQ(swallowed.category(), caf::atom("actio"));
  EXPECT_EQ(swallowed.code(), static_cast<uint8_t>(errc::restarted))
    << sys().render(swallowed);
  ASSERT_TRUE(next(h.supervisor, "fragile", old));
  int answer = 0;
  self->request(front, 30s, ping_atom::value)
    .receive([&](int x) { answer = x; }, [](caf::error&) {});
  EXPECT_EQ(answer, 42) << "the restarted child serves new requests";
  stop(h.supervisor);
}

TEST_P(supervisor_test, too_many_restarts_stop_the_supervisor) {
  auto hx = spawn_supervisor(sys(),
                            {{"fragile", [this] { return sys().spawn(fragile, 0); }}},
                            {2, std::chrono::milliseconds{60'000}});
  ASSERT_TRUE(hx) << sys().render(hx.error());
  auto& h = *hx;
  caf::scoped_actor self{sys()};
  self->monitor(h.supervisor);
  auto front = h.child("fragile");
  auto old = current(h.supervisor, "fragile");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(old);
    caf::anon_send(front, boom_atom::value);
    old = next(h.supervisor, "fragile", old);
  }
  ASSERT_TRUE(old);
  caf::anon_send(front, boom_atom::value); // the third in the period
  caf::error reason = make_actio_error(errc::timed_out, "no down message");
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; },
                caf::after(30s) >> [] {});
  EXPECT_EQ(reason.category(), caf::atom("actio"));
  EXPECT_EQ(reason.code(), static_cast<uint8_t>(errc::restart_limit))
    << sys().render(reason);
}

TEST_P(supervisor_test, a_temporary_child_stays_down_and_its_front_says_so) {
  auto hx = spawn_supervisor(sys(), {{"once", [this] { return sys().spawn(fragile, 0); },
                                     restart_policy::temporary}});
  ASSERT_TRUE(hx) << sys().render(hx.error());
  auto& h = *hx;
  auto front = h.child("once");
  caf::scoped_actor self{sys()};
  caf::anon_send(front, boom_atom::value);
  caf::error e;
  ASSERT_TRUE(test::wait_until([&] {
    self->request(front, 30s, ping_atom::value)
      .receive([](int) {}, [&](caf::error& x) { e = x; });
    return e.code() == static_cast<uint8_t>(errc::actor_failed);
  }));
  EXPECT_EQ(e.code(), static_cast<uint8_t>(errc::actor_failed)) << sys().render(e);
  EXPECT_FALSE(current(h.supervisor, "once"));
  stop(h.supervisor);
}

// The chat registry's shape: only the front is kept (the handle is dropped)
// and someone else (a remote node, here the test) holds the child. An exit
// sent to the front stops the child too: the supervisor gets the exit
// before the front's reference to it, its last, goes away.
TEST_P(supervisor_test, an_exit_to_the_front_stops_the_child_held_elsewhere) {
  caf::actor front;
  caf::actor child;
  {
    auto hx = spawn_supervisor(sys(), {{"kid", [this] {
                                         return sys().spawn(fragile, 0);
                                       }}});
    ASSERT_TRUE(hx) << sys().render(hx.error());
    front = hx->child("kid");
    child = current(hx->supervisor, "kid");
  }
  ASSERT_TRUE(child);
  caf::scoped_actor self{sys()};
  self->monitor(child);
  self->send_exit(front, caf::exit_reason::user_shutdown);
  front = nullptr;
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(30s) >> [] {});
  EXPECT_TRUE(down) << "the child outlived its supervisor";
}

// Every handle to the supervisor and its fronts dropped: the supervisor
// ends, and its children with it, even one somebody else still holds.
TEST_P(supervisor_test, dropping_every_front_stops_the_children) {
  caf::actor child;
  {
    auto hx = spawn_supervisor(sys(), {{"kid", [this] {
                                         return sys().spawn(fragile, 0);
                                       }}});
    ASSERT_TRUE(hx) << sys().render(hx.error());
    child = current(hx->supervisor, "kid");
  }
  ASSERT_TRUE(child);
  caf::scoped_actor self{sys()};
  self->monitor(child);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(30s) >> [] {});
  EXPECT_TRUE(down) << "the child outlived its supervisor";
}

} // namespace

ACTIO_TEST_ALL_BACKENDS(supervisor_test);
