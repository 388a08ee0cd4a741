// The remote file service (proto/remote_file_service.hpp): two actor systems
// connected over 127.0.0.1 through node::publish / node::connect, real
// files in a temporary directory, every backend.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/driver.hpp"
#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"
#include "actio/proto/node.hpp"
#include "actio/proto/node_guard.hpp"
#include "actio/proto/remote_file_service.hpp"
#include "nodes/node_support.hpp"
#include "support/driver_stall.hpp"
#include "support/fixture.hpp"

using namespace std::chrono_literals;
using namespace actio;
using proto::io::Completion;
using proto::io::Request;
using test::driver_stall;

namespace {

/// A stand-in for the request wrapper that puts arbitrary bytes on the wire
/// under the same CAF type name (what a broken or hostile peer could send).
struct raw_request {
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raw_request& x) {
  return f(caf::meta::type_name("actio.proto.message"), x.bytes);
}

/// A client system whose "actio.proto.io.Request" is `raw_request`.
struct raw_client_config : config {
  raw_client_config() {
    add_message_type<raw_request>("actio.proto.io.Request");
    add_message_type<proto::message<Completion>>("actio.proto.io.Completion");
    load<caf::io::middleman>();
  }
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out{p, std::ios::binary};
  out << text;
}

class remote_file : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    root_ = tmp_.path / "root";
    std::filesystem::create_directories(root_);
    caf::put(server_cfg_.content, "actio.io.backend", GetParam());
    caf::put(server_cfg_.content, "actio.io.drivers", size_t{1});
    ASSERT_FALSE(server_cfg_.prepare());
    server_ = std::make_unique<caf::actor_system>(server_cfg_);
    auto rt = runtime::start(*server_);
    ASSERT_TRUE(rt) << server_->render(rt.error());
    rt_ = std::move(*rt);
    auto svc = io::spawn_remote_file_service(*rt_, root_.string());
    ASSERT_TRUE(svc) << describe(svc.error());
    local_ = *svc;
    auto port = node::publish(*server_, local_, server_cfg_.node);
    ASSERT_TRUE(port) << describe(port.error());
    port_ = *port;
    auto client_err = client_cfg_.prepare();
    ASSERT_FALSE(client_err) << describe(client_err);
    client_ = std::make_unique<caf::actor_system>(client_cfg_);
    auto remote = node::connect(*client_, "127.0.0.1", port_,
                                client_cfg_.node);
    ASSERT_TRUE(remote) << describe(remote.error());
    remote_ = *remote;
  }

  void TearDown() override {
    remote_ = nullptr;
    client_.reset();
    for (auto& svc : extra_)
      send_local_exit(*server_, svc);
    extra_.clear();
    if (local_)
      send_local_exit(*server_, local_);
    local_ = nullptr;
    if (rt_)
      rt_->shutdown();
    rt_.reset();
    server_.reset();
  }

  /// Another service on the same root with `opts`, published, as the
  /// client node sees it.
  caf::actor limited_service(io::remote_file_options opts) {
    auto svc = io::spawn_remote_file_service(*rt_, root_.string(), opts);
    EXPECT_TRUE(svc) << describe(svc.error());
    if (!svc)
      return {};
    extra_.push_back(*svc);
    auto port = node::publish(*server_, *svc, server_cfg_.node);
    EXPECT_TRUE(port) << describe(port.error());
    if (!port)
      return {};
    auto remote = node::connect(*client_, "127.0.0.1", *port,
                                client_cfg_.node);
    EXPECT_TRUE(remote) << describe(remote.error());
    return remote ? *remote : caf::actor{};
  }

  using pending = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<caf::actor&>(), 30s, proto::message<Request>{}));

  /// Sends `req` to `svc` without waiting; `await` gets its completion.
  static pending post(caf::scoped_actor& self, const caf::actor& svc,
                      const Request& req) {
    return self->request(svc, 30s, proto::message<Request>{req});
  }

  /// The one completion of a posted request (bounded wait).
  static Completion await(pending& h, uint64_t id) {
    Completion result;
    bool answered = false;
    h.receive(
      [&](proto::message<Completion>& c) {
        result = std::move(*c);
        answered = true;
      },
      [&](caf::error& err) { ADD_FAILURE() << describe(err); });
    EXPECT_TRUE(answered) << "request " << id;
    EXPECT_EQ(result.id(), id);
    return result;
  }

  /// Opens `path` read-only through `svc`; 0 on failure.
  uint64_t open_on(caf::scoped_actor& self, const caf::actor& svc,
                   const std::string& path, uint64_t id) {
    auto h = post(self, svc, open_req(id, path, O_RDONLY));
    auto c = await(h, id);
    EXPECT_EQ(c.result_case(), Completion::kValue) << c.DebugString();
    return c.result_case() == Completion::kValue ? c.value() : 0;
  }

  /// Sends `req` from `self` and waits (bounded) for its completion.
  Completion call(caf::scoped_actor& self, const Request& req) {
    Completion result;
    bool answered = false;
    self->request(remote_, 30s, proto::message<Request>{req})
      .receive(
        [&](proto::message<Completion>& c) {
          result = std::move(*c);
          answered = true;
        },
        [&](caf::error& err) { ADD_FAILURE() << describe(err); });
    EXPECT_TRUE(answered);
    EXPECT_EQ(result.id(), req.id());
    return result;
  }

  Completion call(const Request& req) {
    caf::scoped_actor self{*client_};
    return call(self, req);
  }

  static Request open_req(uint64_t id, const std::string& path, int flags,
                          uint32_t mode = 0600) {
    Request r;
    r.set_id(id);
    r.mutable_open()->set_path(path);
    r.mutable_open()->set_flags(flags);
    r.mutable_open()->set_mode(mode);
    return r;
  }

  static Request read_req(uint64_t id, uint64_t file, uint64_t offset,
                          uint64_t len) {
    Request r;
    r.set_id(id);
    r.mutable_read_at()->set_file(file);
    r.mutable_read_at()->set_offset(offset);
    r.mutable_read_at()->set_length(len);
    return r;
  }

  static Request close_req(uint64_t id, uint64_t file) {
    Request r;
    r.set_id(id);
    r.mutable_close()->set_file(file);
    return r;
  }

  static errc code(const Completion& c) {
    EXPECT_TRUE(c.has_error()) << "expected an error, got a result";
    return static_cast<errc>(c.error().code());
  }

  test::temp_dir tmp_;
  std::filesystem::path root_;
  node_config server_cfg_;
  node_config client_cfg_;
  std::unique_ptr<caf::actor_system> server_;
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<caf::actor_system> client_;
  caf::actor local_;
  caf::actor remote_;
  std::vector<caf::actor> extra_;
  uint16_t port_ = 0;
};

TEST_P(remote_file, open_write_read_stat_close_round_trip_byte_exact) {
  caf::scoped_actor self{*client_};
  auto opened = call(self, open_req(1, "data.bin", O_RDWR | O_CREAT | O_TRUNC));
  ASSERT_EQ(opened.result_case(), Completion::kValue) << opened.DebugString();
  auto file = opened.value();
  std::string payload;
  for (int i = 0; i < 200000; ++i)
    payload.push_back(static_cast<char>((i * 7 + i / 256) & 0xff));
  Request w;
  w.set_id(2);
  w.mutable_write_at()->set_file(file);
  w.mutable_write_at()->set_offset(0);
  w.mutable_write_at()->set_data(payload);
  auto written = call(self, w);
  ASSERT_EQ(written.result_case(), Completion::kValue);
  EXPECT_EQ(written.value(), payload.size());
  auto all = call(self, read_req(3, file, 0, payload.size() + 100));
  ASSERT_EQ(all.result_case(), Completion::kData);
  EXPECT_TRUE(all.data() == payload);
  auto middle = call(self, read_req(4, file, 1000, 10));
  ASSERT_EQ(middle.result_case(), Completion::kData);
  EXPECT_EQ(middle.data(), payload.substr(1000, 10));
  Request st;
  st.set_id(5);
  st.mutable_stat()->set_file(file);
  auto size = call(self, st);
  ASSERT_EQ(size.result_case(), Completion::kValue);
  EXPECT_EQ(size.value(), payload.size());
  auto closed = call(self, close_req(6, file));
  ASSERT_EQ(closed.result_case(), Completion::kValue);
  EXPECT_EQ(closed.value(), 0u);
  EXPECT_TRUE(read_file(root_ / "data.bin") == payload);
  // The handle is gone now.
  EXPECT_EQ(code(call(self, read_req(7, file, 0, 1))), errc::closed);
}

TEST_P(remote_file, paths_leading_outside_the_root_are_refused) {
  auto outside = tmp_.path / "outside";
  std::filesystem::create_directories(outside);
  write_file(outside / "secret", "secret");
  write_file(tmp_.path / "x", "x");
  std::filesystem::create_symlink("../outside/secret", root_ / "to_file");
  std::filesystem::create_symlink(outside, root_ / "to_dir");
  std::filesystem::create_symlink("../outside", root_ / "rel_dir");
  std::filesystem::create_directories(root_ / "sub");
  uint64_t id = 1;
  for (auto path : {"../x", "/etc/passwd", "to_file", "to_dir/secret",
                    "rel_dir/secret", "sub/../../x", "../new"}) {
    auto c = call(open_req(id++, path, O_RDONLY));
    EXPECT_EQ(code(c), errc::permission_denied) << path;
  }
  // Creating through an escape creates nothing.
  auto c = call(open_req(id++, "../created", O_WRONLY | O_CREAT, 0600));
  EXPECT_EQ(code(c), errc::permission_denied);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path / "created"));
  auto w = call(open_req(id++, "to_dir/new", O_WRONLY | O_CREAT, 0600));
  EXPECT_EQ(code(w), errc::permission_denied);
  EXPECT_FALSE(std::filesystem::exists(outside / "new"));
  EXPECT_EQ(read_file(outside / "secret"), "secret");
}

TEST_P(remote_file, symlinks_staying_inside_the_root_work) {
  std::filesystem::create_directories(root_ / "sub");
  write_file(root_ / "sub" / "f", "inside");
  std::filesystem::create_symlink("sub/f", root_ / "link");
  std::filesystem::create_symlink("sub", root_ / "dirlink");
  caf::scoped_actor self{*client_};
  uint64_t id = 1;
  for (auto path : {"link", "dirlink/f", "sub/../link"}) {
    auto opened = call(self, open_req(id++, path, O_RDONLY));
    ASSERT_EQ(opened.result_case(), Completion::kValue) << path << ": "
                                                        << opened.DebugString();
    auto data = call(self, read_req(id++, opened.value(), 0, 100));
    ASSERT_EQ(data.result_case(), Completion::kData);
    EXPECT_EQ(data.data(), "inside");
    EXPECT_EQ(call(self, close_req(id++, opened.value())).result_case(),
              Completion::kValue);
  }
}

TEST_P(remote_file, missing_files_and_directories_are_typed_errors) {
  std::filesystem::create_directories(root_ / "dir");
  EXPECT_EQ(code(call(open_req(1, "missing", O_RDONLY))), errc::not_found);
  EXPECT_EQ(code(call(open_req(2, "nodir/missing", O_RDONLY))),
            errc::not_found);
  EXPECT_EQ(code(call(open_req(3, "dir", O_RDONLY))), errc::is_directory);
  EXPECT_EQ(code(call(open_req(4, "", O_RDONLY))), errc::invalid_argument);
  EXPECT_EQ(code(call(open_req(5, "f", O_RDONLY | O_DIRECTORY))),
            errc::invalid_argument);
  Request none;
  none.set_id(6);
  EXPECT_EQ(code(call(none)), errc::invalid_argument);
}

// A FIFO nobody writes to made open(2) block a CAF worker thread for ever:
// this client never got its completion, and with the worker stuck neither
// did other clients nor the shutdown. Now it is refused at once, in every
// open mode, and the service goes on serving.
TEST_P(remote_file, a_fifo_under_the_root_is_refused_without_blocking) {
  ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0600), 0);
  write_file(root_ / "f", "regular");
  caf::scoped_actor self{*client_};
  uint64_t id = 1;
  auto ro = call(self, open_req(id++, "pipe", O_RDONLY));
  EXPECT_EQ(code(ro), errc::invalid_argument) << ro.DebugString();
  EXPECT_NE(ro.error().text().find("not a regular file"), std::string::npos)
    << ro.error().text();
  EXPECT_EQ(code(call(self, open_req(id++, "pipe", O_RDWR))),
            errc::invalid_argument);
  // Write-only with no reader: ENXIO from the non-blocking open; typed.
  EXPECT_TRUE(call(self, open_req(id++, "pipe", O_WRONLY)).has_error());
  auto file = open_on(self, remote_, "f", id++);
  ASSERT_NE(file, 0u);
  auto data = call(self, read_req(id++, file, 0, 100));
  ASSERT_EQ(data.result_case(), Completion::kData);
  EXPECT_EQ(data.data(), "regular");
}

TEST_P(remote_file, bad_handles_are_errors) {
  write_file(root_ / "f", "abc");
  caf::scoped_actor alice{*client_};
  caf::scoped_actor bob{*client_};
  auto opened = call(alice, open_req(1, "f", O_RDONLY));
  ASSERT_EQ(opened.result_case(), Completion::kValue);
  auto file = opened.value();
  // Never issued.
  EXPECT_EQ(code(call(alice, read_req(2, file + 1000, 0, 1))),
            errc::invalid_argument);
  EXPECT_EQ(code(call(alice, read_req(3, 0, 0, 1))), errc::invalid_argument);
  // Another client's.
  EXPECT_EQ(code(call(bob, read_req(4, file, 0, 1))), errc::invalid_argument);
  EXPECT_EQ(code(call(bob, close_req(5, file))), errc::invalid_argument);
  // Still alice's after bob's attempts.
  auto data = call(alice, read_req(6, file, 0, 3));
  ASSERT_EQ(data.result_case(), Completion::kData);
  EXPECT_EQ(data.data(), "abc");
  // Too long a read: refused, nothing allocated for it.
  EXPECT_EQ(code(call(alice, read_req(7, file, 0, io::max_remote_read + 1))),
            errc::invalid_argument);
  EXPECT_EQ(code(call(alice, read_req(10, file, 0, uint64_t{4} << 30))),
            errc::invalid_argument);
  EXPECT_EQ(code(call(alice, read_req(11, file, 0, ~uint64_t{0}))),
            errc::invalid_argument);
  EXPECT_EQ(call(alice, close_req(8, file)).result_case(), Completion::kValue);
  EXPECT_EQ(code(call(alice, close_req(9, file))), errc::closed);
}

TEST_P(remote_file, malformed_payloads_never_crash_the_service) {
  const std::string garbage("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);
  // Wire bytes as a string: a malformed completion with id 0.
  {
    caf::scoped_actor self{*client_};
    bool answered = false;
    self->request(remote_, 30s, garbage)
      .receive(
        [&](proto::message<Completion>& c) {
          answered = true;
          EXPECT_EQ(c->id(), 0u);
          ASSERT_TRUE(c->has_error());
          EXPECT_EQ(static_cast<errc>(c->error().code()), errc::malformed);
        },
        [&](caf::error& err) { ADD_FAILURE() << describe(err); });
    EXPECT_TRUE(answered);
  }
  // Garbage inside the wrapper, from a peer whose type under the request's
  // name writes raw bytes: it does not deserialise on the server, which
  // answers a malformed completion with id 0 and stays up.
  {
    raw_client_config cfg;
    caf::actor_system sys{cfg};
    auto remote = node::connect(sys, "127.0.0.1", port_, node_options{});
    ASSERT_TRUE(remote) << describe(remote.error());
    caf::scoped_actor self{sys};
    bool answered = false;
    self->request(*remote, 30s, raw_request{garbage})
      .receive(
        [&](proto::message<Completion>& c) {
          answered = true;
          EXPECT_EQ(c->id(), 0u);
          ASSERT_TRUE(c->has_error());
          EXPECT_EQ(static_cast<errc>(c->error().code()), errc::malformed);
        },
        [&](caf::error& err) { ADD_FAILURE() << describe(err); });
    EXPECT_TRUE(answered);
    answered = false;
    // A well-formed request through the same raw type still works.
    Request ok;
    ok.set_id(42);
    ok.mutable_open()->set_path("missing");
    std::string bytes;
    ok.SerializeToString(&bytes);
    self->request(*remote, 30s, raw_request{bytes})
      .receive(
        [&](proto::message<Completion>& c) {
          answered = true;
          EXPECT_EQ(c->id(), 42u);
          EXPECT_EQ(static_cast<errc>(c->error().code()), errc::not_found);
        },
        [&](caf::error& err) { ADD_FAILURE() << describe(err); });
    EXPECT_TRUE(answered);
  }
  write_file(root_ / "f", "still here");
  caf::scoped_actor self{*client_};
  auto opened = call(self, open_req(1, "f", O_RDONLY));
  ASSERT_EQ(opened.result_case(), Completion::kValue);
  auto data = call(self, read_req(2, opened.value(), 0, 100));
  EXPECT_EQ(data.data(), "still here");
}

// One client beyond its limit of requests in flight is refused at once,
// one completion each, while another client's requests are accepted and
// served. The server's driver is held so that accepted requests stay in
// flight for certain (no timing involved).
TEST_P(remote_file, a_client_over_its_in_flight_limit_is_refused_others_served) {
  write_file(root_ / "f", "0123456789");
  io::remote_file_options opts;
  opts.max_in_flight = 4;
  auto svc = limited_service(opts);
  ASSERT_TRUE(svc);
  caf::scoped_actor alice{*client_};
  caf::scoped_actor bob{*client_};
  auto fa = open_on(alice, svc, "f", 1);
  auto fb = open_on(bob, svc, "f", 2);
  ASSERT_NE(fa, 0u);
  ASSERT_NE(fb, 0u);
  std::vector<pending> a, b;
  {
    driver_stall stall{rt_->unit(0)};
    ASSERT_TRUE(stall.holding());
    for (uint64_t i = 0; i < 10; ++i)
      a.push_back(post(alice, svc, read_req(100 + i, fa, i, 1)));
    // The six beyond the limit are answered while the first four are
    // still waiting for the (held) disk.
    for (uint64_t i = 4; i < 10; ++i) {
      auto c = await(a[i], 100 + i);
      EXPECT_EQ(code(c), errc::too_many_requests) << c.DebugString();
      EXPECT_NE(c.error().text().find("limit 4"), std::string::npos)
        << c.error().text();
    }
    // Alice's load is not bob's: his requests are all accepted.
    for (uint64_t i = 0; i < 4; ++i)
      b.push_back(post(bob, svc, read_req(200 + i, fb, i, 2)));
  }
  for (uint64_t i = 0; i < 4; ++i) {
    auto c = await(a[i], 100 + i);
    ASSERT_EQ(c.result_case(), Completion::kData) << c.DebugString();
    EXPECT_EQ(c.data(), std::string(1, static_cast<char>('0' + i)));
    auto d = await(b[i], 200 + i);
    ASSERT_EQ(d.result_case(), Completion::kData) << d.DebugString();
    EXPECT_EQ(d.data(), std::string("0123456789").substr(i, 2));
  }
  // Her slots came back with the completions: four in flight again, the
  // fifth refused, and after that everything works as before.
  a.clear();
  {
    driver_stall stall{rt_->unit(0)};
    ASSERT_TRUE(stall.holding());
    for (uint64_t i = 0; i < 5; ++i)
      a.push_back(post(alice, svc, read_req(300 + i, fa, 0, 10)));
    EXPECT_EQ(code(await(a[4], 304)), errc::too_many_requests);
  }
  for (uint64_t i = 0; i < 4; ++i)
    EXPECT_EQ(await(a[i], 300 + i).data(), "0123456789");
}

// The byte budget: reads (their lengths) and writes (their sizes) in flight
// per client; one request of the largest size always fits on its own.
TEST_P(remote_file, a_client_over_its_byte_budget_is_refused) {
  std::string mib(1 << 20, 'm');
  write_file(root_ / "big", mib);
  io::remote_file_options opts;
  opts.max_transfer = 1 << 20;
  opts.max_bytes_in_flight = 2 << 20;
  auto svc = limited_service(opts);
  ASSERT_TRUE(svc);
  caf::scoped_actor alice{*client_};
  caf::scoped_actor bob{*client_};
  auto fa = open_on(alice, svc, "big", 1);
  auto fb = open_on(bob, svc, "big", 2);
  ASSERT_NE(fa, 0u);
  ASSERT_NE(fb, 0u);
  std::vector<pending> a, b;
  {
    driver_stall stall{rt_->unit(0)};
    ASSERT_TRUE(stall.holding());
    a.push_back(post(alice, svc, read_req(10, fa, 0, 1 << 20)));
    a.push_back(post(alice, svc, read_req(11, fa, 0, 1 << 20)));
    a.push_back(post(alice, svc, read_req(12, fa, 0, 1)));
    auto refused = await(a[2], 12);
    EXPECT_EQ(code(refused), errc::too_many_requests);
    EXPECT_NE(refused.error().text().find("bytes in flight"),
              std::string::npos)
      << refused.error().text();
    b.push_back(post(bob, svc, read_req(20, fb, 0, 1 << 20)));
  }
  EXPECT_TRUE(await(a[0], 10).data() == mib);
  EXPECT_TRUE(await(a[1], 11).data() == mib);
  EXPECT_TRUE(await(b[0], 20).data() == mib);
  // Larger than one transfer: invalid, whatever the load.
  auto big = post(alice, svc, read_req(13, fa, 0, (1 << 20) + 1));
  EXPECT_EQ(code(await(big, 13)), errc::invalid_argument);
  auto opened = post(alice, svc, open_req(14, "big", O_WRONLY));
  auto fw = await(opened, 14).value();
  Request w;
  w.set_id(15);
  w.mutable_write_at()->set_file(fw);
  w.mutable_write_at()->set_offset(0);
  w.mutable_write_at()->set_data(std::string((1 << 20) + 1, 'x'));
  auto write = post(alice, svc, w);
  EXPECT_EQ(code(await(write, 15)), errc::invalid_argument);
  EXPECT_TRUE(read_file(root_ / "big") == mib); // nothing was written
}

// A burst far over the limit, without holding anything: each request gets
// exactly one completion with its id, a result or too_many_requests, and
// nothing stays counted afterwards.
TEST_P(remote_file, every_request_of_a_burst_gets_exactly_one_completion) {
  write_file(root_ / "f", "abc");
  io::remote_file_options opts;
  opts.max_in_flight = 3;
  auto svc = limited_service(opts);
  ASSERT_TRUE(svc);
  caf::scoped_actor self{*client_};
  auto f = open_on(self, svc, "f", 1);
  ASSERT_NE(f, 0u);
  std::vector<pending> burst;
  constexpr uint64_t n = 300;
  for (uint64_t i = 0; i < n; ++i) {
    if (i % 3 == 2) {
      Request st;
      st.set_id(1000 + i);
      st.mutable_stat()->set_file(f);
      burst.push_back(post(self, svc, st));
    } else {
      burst.push_back(post(self, svc, read_req(1000 + i, f, 0, 3)));
    }
  }
  size_t served = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto c = await(burst[i], 1000 + i);
    if (c.has_error()) {
      EXPECT_EQ(code(c), errc::too_many_requests) << c.DebugString();
      continue;
    }
    ++served;
    if (i % 3 == 2)
      EXPECT_EQ(c.value(), 3u);
    else
      EXPECT_EQ(c.data(), "abc");
  }
  EXPECT_GE(served, 1u); // the first one always fits
  // Nothing leaked: exactly three fit again.
  std::vector<pending> again;
  {
    driver_stall stall{rt_->unit(0)};
    ASSERT_TRUE(stall.holding());
    for (uint64_t i = 0; i < 4; ++i)
      again.push_back(post(self, svc, read_req(2000 + i, f, 0, 3)));
    EXPECT_EQ(code(await(again[3], 2003)), errc::too_many_requests);
  }
  for (uint64_t i = 0; i < 3; ++i)
    EXPECT_EQ(await(again[i], 2000 + i).data(), "abc");
  auto closed = post(self, svc, close_req(3, f));
  EXPECT_EQ(await(closed, 3).result_case(), Completion::kValue);
}

TEST_P(remote_file, a_crashed_file_service_is_restarted_and_the_node_goes_on) {
  // What actio-file-node runs: the file service under a supervisor. A burst
  // of reads, then its file service is killed: every read gets exactly one
  // completion (its data, or errc::restarted for one the crash swallowed,
  // or actor_failed in the moment before the restart), the supervisor
  // starts a new incarnation, and the handle opened before the crash, new
  // opens and new reads are served through the same published service.
  std::string data(256 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>('a' + i % 26);
  write_file(root_ / "data", data);
  auto sx = io::spawn_supervised_remote_file_service(*rt_, root_.string());
  ASSERT_TRUE(sx) << describe(sx.error());
  extra_.push_back(sx->service);
  auto port = node::publish(*server_, sx->service, server_cfg_.node);
  ASSERT_TRUE(port) << describe(port.error());
  auto svc = node::connect(*client_, "127.0.0.1", *port, client_cfg_.node);
  ASSERT_TRUE(svc) << describe(svc.error());
  caf::scoped_actor self{*client_};
  auto f = open_on(self, *svc, "data", 1);
  ASSERT_NE(f, 0u);
  auto incarnation = [&] {
    caf::scoped_actor s{*server_};
    caf::actor a;
    s->request(sx->files.supervisor, 10s, current_atom::value,
               std::string{"files"})
      .receive([&](caf::actor& x) { a = x; }, [](caf::error&) {});
    return a;
  };
  auto old = incarnation();
  ASSERT_TRUE(old);
  constexpr uint64_t n = 32, chunk = 8 * 1024;
  std::vector<pending> burst;
  for (uint64_t i = 0; i < n; ++i)
    burst.push_back(post(self, *svc, read_req(100 + i, f, i * chunk, chunk)));
  {
    caf::scoped_actor killer{*server_};
    killer->send_exit(old, make_actio_error(errc::system_error,
                                            "killed by the test"));
  }
  size_t restarted = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto c = await(burst[i], 100 + i);
    if (c.has_error()) {
      auto e = code(c);
      EXPECT_TRUE(e == errc::restarted || e == errc::actor_failed)
        << c.DebugString();
      ++restarted;
    } else {
      EXPECT_EQ(c.data(), data.substr(i * chunk, chunk)) << "read " << i;
    }
  }
  RecordProperty("reads_failed_by_the_crash", std::to_string(restarted));
  caf::actor fresh;
  ASSERT_TRUE(test::wait_until([&] {
    fresh = incarnation();
    return fresh && fresh != old;
  }, 30s)) << "not restarted";
  // The driver kept the file open: the old handle reads on.
  auto again = post(self, *svc, read_req(200, f, 0, 26));
  EXPECT_EQ(await(again, 200).data(), data.substr(0, 26));
  auto g = open_on(self, *svc, "data", 201);
  ASSERT_NE(g, 0u);
  auto tail = post(self, *svc, read_req(202, g, data.size() - 10, 100));
  EXPECT_EQ(await(tail, 202).data(), data.substr(data.size() - 10));
  for (auto [id, h] : {std::pair{203u, f}, std::pair{204u, g}}) {
    auto closed = post(self, *svc, close_req(id, h));
    EXPECT_EQ(await(closed, id).result_case(), Completion::kValue);
  }
  // (actio-file-node does the same at its stop.)
  caf::anon_send_exit(sx->files.supervisor, caf::exit_reason::user_shutdown);
}

TEST(remote_file_root, a_missing_or_non_directory_root_is_an_error) {
  test::temp_dir tmp;
  write_file(tmp.path / "file", "x");
  node_config cfg;
  ASSERT_FALSE(cfg.prepare());
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  ASSERT_TRUE(rt);
  auto missing = io::spawn_remote_file_service(**rt, tmp.file("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), static_cast<uint8_t>(errc::not_found));
  auto file = io::spawn_remote_file_service(**rt, tmp.file("file"));
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code(), static_cast<uint8_t>(errc::invalid_argument));
  for (auto bad : {io::remote_file_options{0, 1, 1},
                   io::remote_file_options{1, 0, 1},
                   io::remote_file_options{1, 2, 1}}) {
    auto svc = io::spawn_remote_file_service(**rt, tmp.path.string(), bad);
    ASSERT_FALSE(svc);
    EXPECT_EQ(svc.error().code(), static_cast<uint8_t>(errc::invalid_argument));
  }
  (*rt)->shutdown();
}

ACTIO_TEST_ALL_BACKENDS(remote_file);

} // namespace
