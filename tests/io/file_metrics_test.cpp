// File operations by kind in the driver's counters (driver_counters.hpp:
// file_requests, file_completions, file_errors), as the file service
// counts them on every backend: real files, real errors (a missing file,
// a closed handle). Answers are followed only once a metrics endpoint
// asks for it (`count_file_outcomes`).

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include <caf/all.hpp>

#include "actio/drivers/driver_counters.hpp"
#include "actio/io/file_service.hpp"
#include "support/file_fixture.hpp"

using namespace std::chrono_literals;
using namespace actio;

namespace {

namespace fs = std::filesystem;

using counts = std::array<uint64_t, file_op_kinds>;

counts snapshot(const tallies_by_kind<file_op_kind, file_op_kinds>& t) {
  counts c{};
  for (size_t i = 0; i < file_op_kinds; ++i)
    c[i] = t[i];
  return c;
}

/// `after - before` per kind.
counts diff(const counts& after, const counts& before) {
  counts d{};
  for (size_t i = 0; i < file_op_kinds; ++i)
    d[i] = after[i] - before[i];
  return d;
}

class file_metrics_test : public test::file_service_test {
protected:
  file_metrics_test() : file_service_test("file-metrics") {
  }

  driver_counters& counters() {
    return rt().unit(0).backend().counters();
  }

  /// One request, its answer as a message (an error as itself).
  caf::message call(caf::message msg) {
    caf::scoped_actor self{sys()};
    caf::message out = caf::make_message(caf::make_error(caf::sec::request_timeout));
    self->request(files_, 60s, std::move(msg))
      .receive([&](caf::error& err) { out = caf::make_message(std::move(err)); },
               caf::others >> [&](caf::message_view& x) -> caf::result<caf::message> {
                 out = x.copy_content_to_message();
                 return caf::message{};
               });
    return out;
  }

  static bool failed(const caf::message& m) {
    return m.match_elements<caf::error>();
  }

  /// Every kind once with success, then open and read_at failing: the
  /// uint64 handle of the file used.
  void run_every_kind() {
    auto path = (dir_ / "f").string();
    auto opened = call(caf::make_message(io::file_open_atom::value, path,
                                         O_CREAT | O_RDWR, uint32_t{0644}));
    ASSERT_TRUE(opened.match_elements<uint64_t>()) << to_string(opened);
    auto f = opened.get_as<uint64_t>(0);
    byte_buffer data(5, static_cast<byte_buffer::value_type>('x'));
    EXPECT_FALSE(failed(call(caf::make_message(io::file_write_atom::value, f,
                                               uint64_t{0}, data))));
    EXPECT_FALSE(failed(call(caf::make_message(io::file_read_atom::value, f,
                                               uint64_t{0}, uint64_t{5}))));
    EXPECT_FALSE(failed(call(caf::make_message(io::file_read_atom::value, f,
                                               std::vector<uint64_t>{0, 2},
                                               uint64_t{3}))));
    EXPECT_FALSE(failed(call(caf::make_message(io::file_fsync_atom::value, f, false))));
    EXPECT_FALSE(failed(call(caf::make_message(io::file_stat_atom::value, f))));
    // Bytes 0..5 of the file to 5..10 of itself.
    EXPECT_FALSE(failed(call(caf::make_message(io::file_copy_atom::value, f,
                                               uint64_t{0}, f, uint64_t{5},
                                               uint64_t{5}))));
    EXPECT_FALSE(failed(call(caf::make_message(io::file_close_atom::value, f))));
    // Errors: a missing file, a read on the closed handle.
    EXPECT_TRUE(failed(call(caf::make_message(io::file_open_atom::value,
                                              (dir_ / "missing").string(),
                                              O_RDONLY, uint32_t{0}))));
    EXPECT_TRUE(failed(call(caf::make_message(io::file_read_atom::value, f,
                                              uint64_t{0}, uint64_t{5}))));
  }

};

// Indexed by file_op_kind: open, read_at, write_at, fsync, stat, close,
// copy_range, read_batch.
constexpr counts requested{2, 2, 1, 1, 1, 1, 1, 1};
constexpr counts errors{1, 1, 0, 0, 0, 0, 0, 0};

TEST_P(file_metrics_test, requests_always_outcomes_once_asked) {
  auto& c = counters();
  ASSERT_FALSE(c.file_outcomes_counted());
  auto req0 = snapshot(c.file_requests);
  run_every_kind();
  EXPECT_EQ(diff(snapshot(c.file_requests), req0), requested);
  EXPECT_EQ(snapshot(c.file_completions), counts{}); // not followed
  EXPECT_EQ(snapshot(c.file_errors), counts{});

  c.count_file_outcomes(); // what a metrics endpoint does
  auto req1 = snapshot(c.file_requests);
  run_every_kind();
  EXPECT_EQ(diff(snapshot(c.file_requests), req1), requested);
  EXPECT_EQ(snapshot(c.file_completions), requested); // every one answered
  EXPECT_EQ(snapshot(c.file_errors), errors);
}

TEST(file_op_names, one_name_per_kind) {
  EXPECT_STREQ(to_string(file_op_kind::open), "open");
  EXPECT_STREQ(to_string(file_op_kind::fsync), "fsync");
  EXPECT_STREQ(to_string(file_op_kind::close), "close");
  EXPECT_STREQ(to_string(file_op_kind::copy_range), "copy_range");
  EXPECT_STREQ(to_string(file_op_kind::read_batch), "read_batch");
  EXPECT_STREQ(to_string(driver_request::close), "close");
  EXPECT_STREQ(to_string(driver_completion::send_to), "send_to");
  EXPECT_STREQ(to_string(static_cast<file_op_kind>(200)), "?");
}

ACTIO_TEST_ALL_BACKENDS(file_metrics_test);

} // namespace
