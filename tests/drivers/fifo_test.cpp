// detail::fifo: the lazily allocated FIFO of the backends' per-socket queues.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "actio/drivers/detail/fifo.hpp"

using actio::detail::fifo;

TEST(fifo_test, keeps_order_across_wrap_around_and_growth) {
  fifo<int> q;
  EXPECT_TRUE(q.empty());
  int next_in = 0;
  int next_out = 0;
  // Interleave pushes and pops so the head wraps while the ring grows.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3; ++i)
      q.push_back(next_in++);
    for (int i = 0; i < 2; ++i) {
      ASSERT_FALSE(q.empty());
      EXPECT_EQ(q.front(), next_out++);
      q.pop_front();
    }
  }
  EXPECT_EQ(q.size(), 50u);
  EXPECT_EQ(q.back(), next_in - 1);
  for (size_t i = 0; i < q.size(); ++i)
    EXPECT_EQ(q[i], next_out + static_cast<int>(i));
  while (!q.empty()) {
    EXPECT_EQ(q.front(), next_out++);
    q.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(fifo_test, push_front_puts_an_element_back_at_the_head) {
  fifo<std::string> q;
  q.push_front("b"); // on an empty queue
  q.push_back("c");
  q.push_front("a");
  q.emplace_back(2, 'd');
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], "a");
  EXPECT_EQ(q[1], "b");
  EXPECT_EQ(q[2], "c");
  EXPECT_EQ(q.back(), "dd");
}

TEST(fifo_test, a_popped_slot_releases_what_it_held) {
  auto held = std::make_shared<int>(7);
  fifo<std::shared_ptr<int>> q;
  q.push_back(held);
  q.push_back(held);
  EXPECT_EQ(held.use_count(), 3);
  q.pop_front();
  EXPECT_EQ(held.use_count(), 2);
  q.clear();
  EXPECT_EQ(held.use_count(), 1);
  EXPECT_TRUE(q.empty());
}
