// detail::timer_table: every backend's timers in user space (order, lazy
// cancel, firing while the callback adds and cancels).

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "actio/drivers/detail/timer_table.hpp"

using namespace std::chrono_literals;
using actio::op_id;
using actio::detail::timer_entry;
using actio::detail::timer_table;

namespace {

timer_table::time_point at(std::chrono::milliseconds ms) {
  return timer_table::time_point{} + ms;
}

} // namespace

TEST(timer_table_test, fires_due_timers_earliest_first_and_keeps_the_rest) {
  timer_table t;
  auto c = t.add(at(30ms), timer_entry{nullptr, 3});
  auto a = t.add(at(10ms), timer_entry{nullptr, 1});
  auto b = t.add(at(20ms), timer_entry{nullptr, 2});
  auto same = t.add(at(20ms), timer_entry{nullptr, 4}); // ties: by id
  EXPECT_NE(a, 0u);
  EXPECT_EQ(t.next(), at(10ms));
  std::vector<op_id> fired;
  t.fire(at(20ms), [&](op_id id, timer_entry& e) {
    fired.push_back(id);
    EXPECT_NE(e.sock, 3u);
  });
  EXPECT_EQ(fired, (std::vector<op_id>{a, b, same}));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.next(), at(30ms));
  EXPECT_FALSE(t.cancel(a)) << "a fired timer cannot be cancelled";
  EXPECT_TRUE(t.cancel(c));
  EXPECT_FALSE(t.cancel(c));
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.next(), std::nullopt);
}

TEST(timer_table_test, cancelling_the_earliest_moves_next_to_the_following_one) {
  timer_table t;
  std::vector<op_id> ids;
  for (int i = 1; i <= 1000; ++i)
    ids.push_back(t.add(at(std::chrono::milliseconds{i}), timer_entry{}));
  for (int i = 0; i < 999; ++i) {
    ASSERT_TRUE(t.cancel(ids[i]));
    EXPECT_EQ(t.next(), at(std::chrono::milliseconds{i + 2}));
  }
  int fired = 0;
  t.fire(at(999ms), [&](op_id, timer_entry&) { ++fired; });
  EXPECT_EQ(fired, 0);
  t.fire(at(1000ms), [&](op_id id, timer_entry&) {
    EXPECT_EQ(id, ids.back());
    ++fired;
  });
  EXPECT_EQ(fired, 1);
}

TEST(timer_table_test, the_callback_may_add_and_cancel_timers) {
  timer_table t;
  auto a = t.add(at(10ms), timer_entry{});
  auto b = t.add(at(20ms), timer_entry{});
  op_id added = 0;
  std::vector<op_id> fired;
  t.fire(at(20ms), [&](op_id id, timer_entry&) {
    fired.push_back(id);
    if (id == a) {
      EXPECT_TRUE(t.cancel(b));                    // due, but cancelled first
      added = t.add(at(15ms), timer_entry{});      // due: fires in this call
      t.add(at(50ms), timer_entry{});              // not due
    }
  });
  EXPECT_EQ(fired, (std::vector<op_id>{a, added}));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.next(), at(50ms));
}
