// Chunks and batches move through streams: CAF 0.17's default downstream
// manager copies every element once per hop (io/move_downstream_manager.hpp);
// actio's sources and stages move them, and line batches recycle their text
// buffers through io/text_pool.hpp. Checked by the addresses of the bytes.

#include <future>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/io/chain.hpp"
#include "actio/io/source.hpp"
#include "actio/io/sources.hpp"
#include "actio/io/stages.hpp"
#include "actio/io/stream.hpp"
#include "actio/io/take.hpp"
#include "actio/io/text_pool.hpp"

using namespace std::chrono_literals;
using namespace actio;
using namespace actio::io;

namespace {

/// A sink recording where each chunk's bytes live.
caf::actor spawn_address_sink(caf::actor_system& sys,
                              std::promise<std::vector<const uint8_t*>>& out) {
  return sys.spawn(
    [&out](caf::event_based_actor* self, int) -> caf::behavior {
      return {[&out, self](caf::stream<byte_chunk> in) {
        return caf::attach_stream_sink(
          self, in, [](std::vector<const uint8_t*>&) {},
          [](std::vector<const uint8_t*>& st, byte_chunk c) {
            if (!c.bytes.empty())
              st.push_back(c.bytes.data());
          },
          [&out, self](std::vector<const uint8_t*>& st, const caf::error&) {
            out.set_value(st);
            self->quit();
          });
      }};
    },
    0);
}

class zero_copy_test : public ::testing::Test {
protected:
  /// 64 chunks of 64 KiB and where their bytes are.
  void make_chunks() {
    for (int i = 0; i < 64; ++i) {
      chunks_.emplace_back(64 * 1024, static_cast<uint8_t>(i));
      where_.push_back(chunks_.back().data());
    }
  }

  std::vector<const uint8_t*> run(const std::function<void(caf::actor)>& start) {
    std::promise<std::vector<const uint8_t*>> got;
    auto fut = got.get_future();
    start(spawn_address_sink(sys_, got));
    EXPECT_EQ(fut.wait_for(60s), std::future_status::ready);
    return fut.get();
  }

  config cfg_;
  caf::actor_system sys_{cfg_};
  std::vector<byte_buffer> chunks_;
  std::vector<const uint8_t*> where_;
};

TEST_F(zero_copy_test, a_source_moves_its_chunks_to_the_sink) {
  make_chunks();
  auto got = run([&](caf::actor sink) {
    spawn_memory_source(sys_, std::move(chunks_), sink);
  });
  EXPECT_EQ(got, where_);
}

TEST_F(zero_copy_test, a_stage_moves_its_chunks_on) {
  make_chunks();
  auto got = run([&](caf::actor sink) {
    spawn_memory_source(sys_, std::move(chunks_),
                        sink * spawn_take(sys_, uint64_t{1} << 30));
  });
  EXPECT_EQ(got, where_);
}

TEST_F(zero_copy_test, chain_moves_the_chunks_of_each_source) {
  make_chunks();
  auto second = std::make_shared<std::vector<byte_buffer>>(
    chunks_.begin() + 32, chunks_.end()); // (vector copy: new addresses)
  chunks_.resize(32);
  std::vector<const uint8_t*> expected(where_.begin(), where_.begin() + 32);
  for (auto& c : *second)
    expected.push_back(c.data());
  auto first = std::make_shared<std::vector<byte_buffer>>(std::move(chunks_));
  auto got = run([&](caf::actor sink) {
    chain(sys_,
          [this, first](caf::actor dest) {
            return spawn_memory_source(sys_, std::move(*first), dest);
          },
          [this, second](caf::actor dest) {
            return spawn_memory_source(sys_, std::move(*second), dest);
          })(sink);
  });
  EXPECT_EQ(got, expected);
}

TEST(text_pool, a_given_buffer_is_taken_again) {
  auto buf = text_pool::take(64 * 1024);
  EXPECT_TRUE(buf.empty());
  EXPECT_GE(buf.capacity(), 64u * 1024);
  buf.append(1000, 'x');
  auto* where = buf.data();
  text_pool::give(buf);
  EXPECT_TRUE(buf.empty());
  // Other threads may give buffers meanwhile: take until ours comes back
  // (the cache holds a bounded number).
  std::vector<std::string> taken;
  bool found = false;
  for (size_t i = 0; i <= text_pool::max_cached_bytes / text_pool::min_capacity
                     && !found;
       ++i) {
    taken.push_back(text_pool::take(64 * 1024));
    EXPECT_TRUE(taken.back().empty());
    EXPECT_GE(taken.back().capacity(), 64u * 1024);
    found = taken.back().data() == where;
  }
  EXPECT_TRUE(found);
}

TEST(text_pool, the_cache_stays_bounded) {
  for (int i = 0; i < 200; ++i) {
    std::string s;
    s.reserve(64 * 1024);
    text_pool::give(s);
    EXPECT_LE(text_pool::cached_bytes(), text_pool::max_cached_bytes);
  }
  std::string huge;
  huge.reserve(text_pool::max_capacity * 2);
  text_pool::give(huge); // too big to keep: freed
  EXPECT_LE(text_pool::cached_bytes(), text_pool::max_cached_bytes);
  EXPECT_EQ(huge.capacity(), std::string{}.capacity());
}

TEST(text_pool, line_batches_give_their_text_back) {
  auto before = text_pool::cached_bytes();
  {
    line_batch b;
    b.text = text_pool::take(64 * 1024);
    b.push_back("a line");
    line_batch moved = std::move(b); // only one of them owns the buffer
  }
  // Either cached now, or the cache was full (bounded) already.
  auto after = text_pool::cached_bytes();
  EXPECT_TRUE(after > before
              || before + 64 * 1024 > text_pool::max_cached_bytes)
    << before << " -> " << after;
}

} // namespace
