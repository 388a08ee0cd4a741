// Stages as CAF 0.17 streams: sources -> stages -> sinks, with the two CAF
// pitfalls ARCHITECTURE.md names (a finaliser cannot emit; quit() does not stop a
// stream) each covered, and backpressure from a slow sink.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "actio/io/length_delimited.hpp"
#include "actio/io/sinks.hpp"
#include "actio/io/sources.hpp"
#include "actio/io/stages.hpp"
#include "actio/io/stream.hpp"
#include "actio/io/take.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"
#include "support/slow_sink.hpp"

using namespace std::chrono_literals;
using namespace actio;
using namespace actio::io;

namespace {

/// What a sink reports, and a way to wait for it (bounded).
template <class T>
struct outcome {
  std::promise<std::pair<T, caf::error>> promise;
  std::future<std::pair<T, caf::error>> future = promise.get_future();

  auto callback() {
    return [this](auto value, const caf::error& err) {
      promise.set_value({T(std::move(value)), err});
    };
  }

  std::pair<T, caf::error> get() {
    EXPECT_EQ(future.wait_for(60s), std::future_status::ready)
      << "the pipeline did not finish";
    return future.get();
  }
};

std::vector<byte_buffer> cut(const std::string& text, std::mt19937& gen) {
  std::vector<byte_buffer> chunks;
  size_t pos = 0;
  while (pos < text.size()) {
    auto len = std::min<size_t>(text.size() - pos,
                                gen() % 3 == 0 ? 1 : 1 + gen() % 50);
    chunks.emplace_back(text.begin() + pos, text.begin() + pos + len);
    pos += len;
  }
  return chunks;
}

class stages_test : public ::testing::Test {
protected:
  actio::config cfg_;
  caf::actor_system sys_{cfg_};
};

TEST_F(stages_test, lines_through_a_stream_keep_the_trailing_partial_line) {
  std::mt19937 gen{5};
  // Cuts fall inside "\r\n"; the last line has no newline: it must still
  // reach the sink although a stage's finaliser cannot emit.
  std::string text = "alpha\r\nbeta\n\ngamma\r\n\r\ndelta without newline";
  outcome<std::vector<std::string>> out;
  auto sink = spawn_collect_lines(sys_, out.callback());
  spawn_memory_source(sys_, cut(text, gen), sink * spawn_lines(sys_));
  auto [lines, err] = out.get();
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(lines, (std::vector<std::string>{"alpha", "beta", "", "gamma", "",
                                             "delta without newline"}));
}

TEST_F(stages_test, a_failing_stage_stops_the_stream_and_the_sink_sees_why) {
  // 1 MiB without a newline against a 1 KiB limit: the lines stage fails;
  // quit() would not stop the stream, so the error must arrive at the sink.
  outcome<std::vector<std::string>> out;
  auto sink = spawn_collect_lines(sys_, out.callback());
  spawn_repeat_source(sys_, byte_buffer{'x'}, 1024 * 1024,
                      sink * spawn_lines(sys_, 1024));
  auto [lines, err] = out.get();
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::too_long)) << describe(err);
  EXPECT_TRUE(lines.empty());
}

TEST_F(stages_test, empty_input_gives_no_lines_and_no_error) {
  outcome<std::vector<std::string>> out;
  auto sink = spawn_collect_lines(sys_, out.callback());
  spawn_empty_source(sys_, sink * spawn_lines(sys_));
  auto [lines, err] = out.get();
  EXPECT_FALSE(err);
  EXPECT_TRUE(lines.empty());
}

TEST_F(stages_test, split_drops_the_delimiter) {
  std::mt19937 gen{6};
  outcome<std::vector<byte_buffer>> out;
  auto sink = spawn_collect_buffers(sys_, out.callback());
  spawn_memory_source(sys_, cut("a,bb,,ccc,", gen), sink * spawn_split(sys_, ','));
  auto [items, err] = out.get();
  EXPECT_FALSE(err);
  EXPECT_EQ(items, (std::vector<byte_buffer>{{'a'}, {'b', 'b'}, {}, {'c', 'c', 'c'}}));
}

TEST_F(stages_test, take_ends_the_stream_after_n_bytes) {
  // A source offering 64 MiB; take(1000) must end the stream early.
  outcome<byte_buffer> out;
  auto sink = spawn_collect_bytes(sys_, out.callback());
  spawn_repeat_source(sys_, byte_buffer{'a', 'b', 'c'}, 64u * 1024 * 1024,
                      sink * spawn_take(sys_, 1000), 4096);
  auto [bytes, err] = out.get();
  EXPECT_FALSE(err) << describe(err);
  ASSERT_EQ(bytes.size(), 1000u);
  for (size_t i = 0; i < bytes.size(); ++i)
    ASSERT_EQ(bytes[i], "abc"[i % 3]) << "at " << i;
}

TEST_F(stages_test, frames_decode_across_chunks_and_reject_oversize) {
  std::mt19937 gen{7};
  std::string wire;
  std::vector<byte_buffer> frames;
  for (int i = 0; i < 20; ++i) {
    byte_buffer payload(gen() % 100, static_cast<uint8_t>(i));
    auto f = encode_frame(payload.data(), payload.size());
    wire.append(f->begin(), f->end());
    frames.push_back(payload);
  }
  outcome<std::vector<byte_buffer>> out;
  auto sink = spawn_collect_buffers(sys_, out.callback());
  spawn_memory_source(sys_, cut(wire, gen), sink * spawn_frames(sys_, 1024));
  auto [items, err] = out.get();
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(items, frames);
  // A header declaring 1 GiB against a 1 KiB maximum.
  outcome<std::vector<byte_buffer>> bad;
  auto sink2 = spawn_collect_buffers(sys_, bad.callback());
  spawn_memory_source(sys_, {byte_buffer{0x40, 0, 0, 0, 1, 2, 3}},
                      sink2 * spawn_frames(sys_, 1024));
  auto [none, err2] = bad.get();
  ASSERT_TRUE(err2);
  EXPECT_EQ(err2.code(), static_cast<uint8_t>(errc::too_long)) << describe(err2);
  EXPECT_NE(describe(err2).find("frame at byte 0"), std::string::npos);
}

TEST_F(stages_test, frame_errors_deliver_the_earlier_frames_then_the_error) {
  // 50 rounds, alternating an oversize and a truncated frame after 0..5
  // good ones, cut at random (every third round in 1-byte chunks): the
  // good frames arrive, then the error naming the bad frame's offset; the
  // sink's finaliser runs every time (an early stop once lost it).
  std::mt19937 gen{9};
  for (int round = 0; round < 50; ++round) {
    std::string wire;
    std::vector<byte_buffer> frames;
    for (auto n = gen() % 6; n > 0; --n) {
      byte_buffer payload(gen() % 100, static_cast<uint8_t>(n));
      auto f = encode_frame(payload.data(), payload.size());
      wire.append(f->begin(), f->end());
      frames.push_back(payload);
    }
    auto offset = std::to_string(wire.size());
    bool truncated = round % 2 == 1;
    if (truncated)
      wire.append(std::string("\0\0\0\x0a\x01\x02\x03", 7));
    else
      wire.append(std::string("\x40\0\0\0\x01", 5));
    std::vector<byte_buffer> chunks;
    if (round % 3 == 0)
      for (auto c : wire)
        chunks.push_back(byte_buffer{static_cast<uint8_t>(c)});
    else
      chunks = cut(wire, gen);
    using result = std::pair<std::vector<byte_buffer>, caf::error>;
    auto done = std::make_shared<std::promise<result>>();
    auto fut = done->get_future();
    auto sink = spawn_collect_buffers(
      sys_, [done](std::vector<byte_buffer> items, const caf::error& e) {
        done->set_value({std::move(items), e});
      });
    spawn_memory_source(sys_, std::move(chunks), sink * spawn_frames(sys_, 1024));
    ASSERT_EQ(fut.wait_for(60s), std::future_status::ready)
      << "the sink's finaliser did not run (round " << round << ")";
    auto [items, err] = fut.get();
    ASSERT_TRUE(err) << "round " << round;
    EXPECT_EQ(err.code(), static_cast<uint8_t>(truncated ? errc::malformed
                                                          : errc::too_long))
      << describe(err);
    EXPECT_NE(describe(err).find("frame at byte " + offset + " "), std::string::npos)
      << describe(err) << " (expected offset " << offset << ")";
    EXPECT_EQ(items, frames) << "round " << round;
  }
}

/// The memory-bound tests: the sink consumes at most 32 MiB/s while the
/// source offers 128 MiB, twice the bound, as fast as credit allows. A sink
/// that took everything offered would grow RSS by about 128 MiB.
constexpr uint64_t slow_rate = 32ull * 1024 * 1024;
constexpr uint64_t offered = 128ull * 1024 * 1024;
constexpr size_t rss_bound = 64u * 1024 * 1024; // the README's promise

TEST_F(stages_test, slow_sink_keeps_memory_bounded_while_the_source_offers_more) {
  test::rss_sampler rss;
  test::pace pace{slow_rate};
  // The sink reads every byte (a checksum) at its slow pace: with
  // credit-based flow the source never runs far ahead of it.
  struct state {
    uint64_t sum = 0;
    uint64_t bytes = 0;
  };
  std::promise<state> done;
  auto fut = done.get_future();
  auto sink = sys_.spawn(
    [&](caf::event_based_actor* self, int) -> caf::behavior {
      return {[&, self](caf::stream<byte_chunk> in) {
        return caf::attach_stream_sink(
          self, in, [](state&) {},
          [&](state& st, byte_chunk c) {
            for (auto b : c.bytes)
              st.sum += b;
            st.bytes += c.bytes.size();
            pace.consumed(c.bytes.size());
          },
          [&, self](state& st, const caf::error&) {
            done.set_value(st);
            self->quit();
          });
      }};
    },
    0);
  spawn_repeat_source(sys_, byte_buffer{1, 2, 3, 4, 5, 6, 7}, offered, sink);
  ASSERT_EQ(fut.wait_for(300s), std::future_status::ready);
  auto st = fut.get();
  rss.stop();
  EXPECT_EQ(st.bytes, offered);
  EXPECT_GE(pace.seconds(), 0.9 * offered / slow_rate); // it was slow
  EXPECT_LT(rss.growth(), rss_bound) << "RSS grew by " << rss.growth();
  RecordProperty("rss_growth", static_cast<int>(rss.growth()));
}

/// A sink that inspects every byte of every element (a checksum) at
/// `slow_rate` bytes per second; `Elem` is byte_chunk or line_batch.
template <class Elem>
struct slow_sink_probe {
  struct result {
    uint64_t bytes = 0;
    uint64_t items = 0; // lines for line_batch
    caf::error err;
  };
  test::pace pace{slow_rate};
  std::promise<result> done;

  caf::actor spawn(caf::actor_system& sys) {
    return sys.spawn(
      [this](caf::event_based_actor* self, int) -> caf::behavior {
        return {[this, self](caf::stream<Elem> in) {
          struct state {
            result res;
            uint64_t sum = 0;
          };
          return caf::attach_stream_sink(
            self, in, [](state&) {},
            [this](state& st, Elem e) {
              const auto& bytes = [&]() -> auto& {
                if constexpr (std::is_same_v<Elem, line_batch>)
                  return e.text;
                else
                  return e.bytes;
              }();
              for (auto b : bytes)
                st.sum += static_cast<uint8_t>(b);
              st.res.bytes += bytes.size();
              if constexpr (std::is_same_v<Elem, line_batch>)
                st.res.items += e.size();
              pace.consumed(bytes.size());
            },
            [this, self](state& st, const caf::error& err) {
              st.res.err = err;
              done.set_value(st.res);
              self->quit();
            });
        }};
      },
      0);
  }
};

TEST_F(stages_test, slow_sink_behind_take_keeps_memory_bounded) {
  // Offered through take(offered): take only moves chunks, so CAF's
  // default stage credit let the source run ~370 MiB ahead of the sink.
  test::rss_sampler rss;
  slow_sink_probe<byte_chunk> probe;
  auto fut = probe.done.get_future();
  auto snk = probe.spawn(sys_);
  spawn_repeat_source(sys_, byte_buffer{1, 2, 3, 4, 5, 6, 7}, offered,
                      snk * spawn_take(sys_, offered));
  ASSERT_EQ(fut.wait_for(300s), std::future_status::ready);
  auto res = fut.get();
  rss.stop();
  EXPECT_FALSE(res.err) << describe(res.err);
  EXPECT_EQ(res.bytes, offered);
  EXPECT_GE(probe.pace.seconds(), 0.9 * offered / slow_rate);
  EXPECT_LT(rss.growth(), rss_bound) << "RSS grew by " << rss.growth();
  RecordProperty("rss_growth", static_cast<int>(rss.growth()));
}

TEST_F(stages_test, slow_sink_behind_lines_keeps_memory_bounded) {
  // 8-byte lines through lines(): 16 M lines.
  constexpr uint64_t total = offered;
  test::rss_sampler rss;
  slow_sink_probe<line_batch> probe;
  auto fut = probe.done.get_future();
  auto snk = probe.spawn(sys_);
  spawn_repeat_source(sys_, byte_buffer{'a', 'b', 'c', 'd', 'e', 'f', 'g', '\n'},
                      total, snk * spawn_lines(sys_));
  ASSERT_EQ(fut.wait_for(300s), std::future_status::ready);
  auto res = fut.get();
  rss.stop();
  EXPECT_FALSE(res.err) << describe(res.err);
  EXPECT_EQ(res.items, total / 8);
  EXPECT_EQ(res.bytes, total / 8 * 7); // newlines stripped
  EXPECT_GE(probe.pace.seconds(), 0.9 * total / 8 * 7 / slow_rate);
  EXPECT_LT(rss.growth(), rss_bound) << "RSS grew by " << rss.growth();
  RecordProperty("rss_growth", static_cast<int>(rss.growth()));
}

/// File sources go through the file service, so through each backend.
class file_stream_test : public test::backend_test {};

TEST_P(file_stream_test, file_source_feeds_word_count_like_the_reference) {
  auto path = (std::filesystem::temp_directory_path()
               / ("actio-stream-" + std::to_string(::getpid()) + GetParam()))
                .string();
  std::mt19937 gen{8};
  std::string text;
  for (int i = 0; i < 300000; ++i)
    text += " a\tbc\n\r\v\fxyz"[gen() % 13];
  { std::ofstream{path, std::ios::binary} << text; }
  word_count expect;
  expect.push(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  auto files = spawn_file_service(rt());
  std::promise<std::pair<word_count, caf::error>> done;
  auto fut = done.get_future();
  auto sink = spawn_wc_sink(sys(), [&](const word_count& wc, const caf::error& e) {
    done.set_value({wc, e});
  });
  spawn_file_source(sys(), files, path, sink, 4096);
  ASSERT_EQ(fut.wait_for(60s), std::future_status::ready);
  auto [wc, err] = fut.get();
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(wc.lines, expect.lines);
  EXPECT_EQ(wc.words, expect.words);
  EXPECT_EQ(wc.bytes, expect.bytes);
  std::filesystem::remove(path);
}

TEST_P(file_stream_test, missing_file_reaches_the_sink_as_an_error) {
  auto files = spawn_file_service(rt());
  std::promise<caf::error> done;
  auto fut = done.get_future();
  auto sink = spawn_sink(sys(), [&](uint64_t, const caf::error& e) {
    done.set_value(e);
  });
  spawn_file_source(sys(), files, "/nonexistent/actio-file", sink);
  ASSERT_EQ(fut.wait_for(60s), std::future_status::ready);
  auto err = fut.get();
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::not_found)) << describe(err);
}

ACTIO_TEST_ALL_BACKENDS(file_stream_test);

} // namespace
