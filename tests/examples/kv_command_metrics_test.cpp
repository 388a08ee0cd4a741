// actio-kv's commands by name (examples/kv/command_metrics.hpp): the label
// set is the known commands plus "other", whatever names clients send.

#include <gtest/gtest.h>

#include "actio/actors/metrics.hpp"
#include "../../examples/kv/command_metrics.hpp"

namespace {

using kv::command_metrics;

TEST(kv_command_metrics, labels_are_known_names_or_other) {
  EXPECT_EQ(command_metrics::label_of("GET"), "get");
  EXPECT_EQ(command_metrics::label_of("PExpire"), "pexpire");
  EXPECT_EQ(command_metrics::label_of("dbsize"), "dbsize");
  EXPECT_EQ(command_metrics::label_of("FOO"), "other");
  EXPECT_EQ(command_metrics::label_of("getx"), "other");
  EXPECT_EQ(command_metrics::label_of("pexpireat"), "other"); // longer than any
  EXPECT_EQ(command_metrics::label_of("quit"), "other");       // never counted
  EXPECT_EQ(command_metrics::label_of(""), "other");
  EXPECT_EQ(command_metrics::label_of("other"), "other");
}

TEST(kv_command_metrics, counts_by_label_in_the_registry) {
  actio::metrics::registry reg;
  command_metrics m{reg};
  m.count({"GET", "k"});
  m.count({"get", "k"});
  m.count({"SET", "k", "v"});
  m.count({"FLUSHALL"});
  m.count({"x-made-up-1"});
  auto& get = reg.counter("actio_kv_commands_total", "", {{"command", "get"}});
  auto& set = reg.counter("actio_kv_commands_total", "", {{"command", "set"}});
  auto& other = reg.counter("actio_kv_commands_total", "", {{"command", "other"}});
  auto& ping = reg.counter("actio_kv_commands_total", "", {{"command", "ping"}});
  EXPECT_EQ(get.value(), 2u);
  EXPECT_EQ(set.value(), 1u);
  EXPECT_EQ(other.value(), 2u);
  EXPECT_EQ(ping.value(), 0u);
  // One series per label, all there from the start: no more after traffic.
  auto text = reg.render();
  size_t lines = 0;
  for (size_t i = text.find("actio_kv_commands_total{"); i != std::string::npos;
       i = text.find("actio_kv_commands_total{", i + 1))
    ++lines;
  EXPECT_EQ(lines, command_metrics::names.size());
}

} // namespace
