// The backend-parameterised suites run over `available_backends()`: a probe
// that fails (io_uring switched off in a container, a kernel too old) makes
// every case of that backend vanish, and the suite still passes. This test
// is the guard: it names the backends a run requires and fails, naming each
// one missing, when this build and machine do not offer it.
//
// The required set: `ACTIO_REQUIRE_BACKENDS` (comma-separated, e.g.
// `uring,epoll`); if that is unset and `CI=true` (CI sets it), the backends
// the Linux CI machine must test: uring, epoll, aio. Neither set: nothing is
// required (a developer's machine may lack io_uring), and the test says so.

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actio/drivers/select.hpp"

namespace {

/// The CI machine's required backends (Linux, liburing, glibc AIO).
constexpr const char* ci_default = "uring,epoll,aio";

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> result;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      result.push_back(item);
  return result;
}

/// The required set and where it came from; empty: nothing required.
std::vector<std::string> required_backends(std::string& source) {
  if (const char* given = std::getenv("ACTIO_REQUIRE_BACKENDS")) {
    source = "ACTIO_REQUIRE_BACKENDS";
    return split_list(given);
  }
  if (const char* ci = std::getenv("CI"); ci && std::string{ci} == "true") {
    source = "CI=true";
    return split_list(ci_default);
  }
  return {};
}

TEST(required_backends, every_required_backend_is_available) {
  std::string source;
  auto required = required_backends(source);
  if (required.empty())
    GTEST_SKIP() << "no backend required (set ACTIO_REQUIRE_BACKENDS, or CI=true "
                    "for " << ci_default << ")";
  auto have = actio::available_backends();
  std::string offered;
  for (auto& b : have)
    offered += (offered.empty() ? "" : ",") + b;
  RecordProperty("available", offered);
  for (auto& name : required)
    EXPECT_TRUE(std::find(have.begin(), have.end(), name) != have.end())
      << "backend '" << name << "' is required (" << source
      << ") but not available: its test cases did not run (available: "
      << offered << "; " << actio::auto_choice_reason() << ")";
}

TEST(required_backends, list_parsing_skips_empty_items) {
  EXPECT_EQ(split_list("uring,,epoll,"),
            (std::vector<std::string>{"uring", "epoll"}));
  EXPECT_TRUE(split_list("").empty());
}

} // namespace
