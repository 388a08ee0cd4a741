// Protobuf framing: encoder -> bytes -> random rechunking (1-byte chunks
// included) -> decoder gives back the same messages; a frame that does not
// parse names its byte offset; oversize frames are too_long; and the
// inspect wrapper round-trips through CAF's serializers, rejecting garbage.

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <random>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/sinks.hpp"
#include "actio/io/sources.hpp"
#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"
#include "actio/proto/protobuf_frames.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

using namespace std::chrono_literals;
using namespace actio;
using namespace actio::io;
using request = actio::proto::io::Request;

namespace {

request random_request(std::mt19937& gen, uint64_t id) {
  request r;
  r.set_id(id);
  switch (gen() % 5) {
    case 0: {
      auto* o = r.mutable_open();
      o->set_path("/tmp/file-" + std::to_string(gen()));
      o->set_flags(static_cast<int32_t>(gen() % 4096));
      o->set_mode(gen() % 0777);
      break;
    }
    case 1: {
      auto* x = r.mutable_read_at();
      x->set_file(gen());
      x->set_offset(uint64_t{gen()} << 20);
      x->set_length(gen() % 100000);
      break;
    }
    case 2: {
      auto* x = r.mutable_write_at();
      x->set_file(gen());
      x->set_offset(gen());
      std::string data(gen() % 3 == 0 ? 0 : gen() % 2000, '\0');
      for (auto& c : data)
        c = static_cast<char>(gen());
      x->set_data(std::move(data));
      break;
    }
    case 3:
      r.mutable_stat()->set_file(gen());
      break;
    default:
      r.mutable_close()->set_file(gen());
  }
  return r;
}

/// A source of proto_batch<request>: the given messages in batches of
/// random size (also empty), the last batch marked.
caf::actor spawn_request_source(caf::actor_system& sys,
                                std::vector<std::vector<request>> batches,
                                caf::actor dest) {
  return sys.spawn(
    [](caf::event_based_actor* self, std::vector<std::vector<request>> bs,
       caf::actor dst) -> caf::behavior {
      auto data = std::make_shared<std::vector<std::vector<request>>>(std::move(bs));
      caf::attach_stream_source(
        self, dst, [](size_t& i) { i = 0; },
        [data](size_t& i, caf::downstream<proto_batch<request>>& out, size_t hint) {
          for (; hint > 0 && i < data->size(); --hint, ++i) {
            proto_batch<request> b;
            for (auto& r : (*data)[i])
              b.items.emplace_back(r);
            b.last = i + 1 == data->size();
            out.push(std::move(b));
          }
        },
        [data](const size_t& i) { return i == data->size(); });
      return {};
    },
    std::move(batches), std::move(dest));
}

using decoded = std::pair<std::vector<std::string>, caf::error>;

/// Collects decoded messages (as wire strings) and the stream's error.
caf::actor spawn_request_collector(caf::actor_system& sys,
                                   std::shared_ptr<std::promise<decoded>> done) {
  return sys.spawn(
    [done](caf::event_based_actor* self, int) -> caf::behavior {
      return {[done, self](caf::stream<proto_batch<request>> in) {
        return caf::attach_stream_sink(
          self, in, [](std::vector<std::string>&) {},
          [](std::vector<std::string>& all, proto_batch<request> b) {
            for (auto& m : b.items)
              all.push_back(m->SerializeAsString());
          },
          [done, self](std::vector<std::string>& all, const caf::error& err) {
            done->set_value({std::move(all), err});
            self->quit();
          });
      }};
    },
    0);
}

std::vector<byte_buffer> rechunk(const byte_buffer& bytes, std::mt19937& gen) {
  std::vector<byte_buffer> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto len = std::min<size_t>(bytes.size() - pos,
                                gen() % 3 == 0 ? 1 : 1 + gen() % 3000);
    out.emplace_back(bytes.begin() + pos, bytes.begin() + pos + len);
    pos += len;
  }
  return out;
}

byte_buffer frame(const std::string& payload) {
  auto f = encode_frame(reinterpret_cast<const uint8_t*>(payload.data()),
                        payload.size());
  return std::move(*f);
}

/// `n` random requests as frames: their wire strings and the frame bytes.
struct framed {
  std::vector<std::string> msgs;
  byte_buffer bytes;
};

framed random_frames(std::mt19937& gen, size_t n, uint64_t first_id = 0) {
  framed out;
  for (size_t i = 0; i < n; ++i) {
    out.msgs.push_back(random_request(gen, first_id + i).SerializeAsString());
    auto f = frame(out.msgs.back());
    out.bytes.insert(out.bytes.end(), f.begin(), f.end());
  }
  return out;
}

/// Every third round 1-byte chunks, else a random rechunking.
std::vector<byte_buffer> chunks_for(const byte_buffer& bytes, std::mt19937& gen,
                                    int round) {
  if (round % 3 != 0)
    return rechunk(bytes, gen);
  std::vector<byte_buffer> out;
  for (auto b : bytes)
    out.push_back(byte_buffer{b});
  return out;
}

class protobuf_frames_test : public ::testing::Test {
protected:
  /// The sink's messages and error; nullopt (and a failure) if its
  /// finaliser did not run within a minute (the hang this guards against).
  std::optional<decoded> decode(std::vector<byte_buffer> chunks,
                                size_t max_frame = 8 * 1024 * 1024) {
    auto done = std::make_shared<std::promise<decoded>>();
    auto fut = done->get_future();
    auto snk = spawn_request_collector(sys_, done);
    spawn_memory_source(sys_, std::move(chunks),
                        snk * spawn_protobuf_decoder<request>(sys_, max_frame));
    if (fut.wait_for(60s) != std::future_status::ready) {
      ADD_FAILURE() << "the sink's finaliser did not run";
      return std::nullopt;
    }
    return fut.get();
  }

  /// 50 rounds (random rechunkings, see above): random good frames, then
  /// what `append_bad(gen, wire)` appends; the pipeline fails with `code`,
  /// its text names the bad frame's offset ("frame at byte N ", then what
  /// `append_bad` returned), and exactly the good messages arrive first.
  template <class AppendBad>
  void expect_error_after_good_frames(unsigned seed, errc code,
                                      AppendBad append_bad,
                                      size_t max_frame = 8 * 1024 * 1024) {
    std::mt19937 gen{seed};
    for (int round = 0; round < 50; ++round) {
      auto good = random_frames(gen, gen() % 8);
      auto wire = good.bytes;
      auto offset = wire.size();
      auto want = "frame at byte " + std::to_string(offset) + " "
                  + append_bad(gen, wire);
      auto res = decode(chunks_for(wire, gen, round), max_frame);
      ASSERT_TRUE(res) << "round " << round;
      auto& [msgs, err] = *res;
      ASSERT_TRUE(err) << "round " << round;
      EXPECT_EQ(err.code(), static_cast<uint8_t>(code)) << describe(err);
      EXPECT_NE(describe(err).find(want), std::string::npos)
        << describe(err) << " (expected '" << want << "', round " << round
        << ")";
      EXPECT_EQ(msgs, good.msgs) << "round " << round;
    }
  }

  actio::config cfg_;
  caf::actor_system sys_{cfg_};
};

TEST_F(protobuf_frames_test, round_trip_with_random_rechunking) {
  std::mt19937 gen{11};
  for (int round = 0; round < 10; ++round) {
    std::vector<std::vector<request>> batches(1 + gen() % 20);
    std::vector<std::string> expected;
    byte_buffer expected_bytes;
    uint64_t id = 0;
    for (auto& b : batches)
      for (auto n = gen() % 6; n > 0; --n) {
        b.push_back(random_request(gen, id++));
        expected.push_back(b.back().SerializeAsString());
        auto f = frame(expected.back());
        expected_bytes.insert(expected_bytes.end(), f.begin(), f.end());
      }
    // Encoder: batches -> bytes, exactly the length-delimited frames.
    std::promise<std::pair<byte_buffer, caf::error>> enc;
    auto enc_fut = enc.get_future();
    auto bytes_sink = spawn_collect_bytes(sys_, [&](byte_buffer b, const caf::error& e) {
      enc.set_value({std::move(b), e});
    });
    spawn_request_source(sys_, batches,
                         bytes_sink * spawn_protobuf_encoder<request>(sys_));
    ASSERT_EQ(enc_fut.wait_for(60s), std::future_status::ready);
    auto [bytes, enc_err] = enc_fut.get();
    ASSERT_FALSE(enc_err) << describe(enc_err);
    ASSERT_EQ(bytes, expected_bytes) << "round " << round;
    // Decoder: the same bytes, cut anywhere.
    auto res = decode(rechunk(bytes, gen));
    ASSERT_TRUE(res);
    auto& [msgs, err] = *res;
    EXPECT_FALSE(err) << describe(err);
    EXPECT_EQ(msgs, expected) << "round " << round;
  }
}

TEST_F(protobuf_frames_test, one_byte_chunks) {
  std::mt19937 gen{12};
  std::vector<std::string> expected;
  std::vector<byte_buffer> chunks;
  for (int i = 0; i < 30; ++i) {
    expected.push_back(random_request(gen, i).SerializeAsString());
    for (auto b : frame(expected.back()))
      chunks.push_back(byte_buffer{b});
  }
  auto res = decode(std::move(chunks));
  ASSERT_TRUE(res);
  auto& [msgs, err] = *res;
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(msgs, expected);
}

// Each error test runs 50 pipelines (random rechunkings, every third one in
// 1-byte chunks): the sink's finaliser once failed to run now and then when
// the decoder stopped early (see bounded_stage.hpp).

TEST_F(protobuf_frames_test, malformed_frame_is_an_error_naming_its_offset) {
  expect_error_after_good_frames(21, errc::malformed, [](auto& gen, auto& wire) {
    // Field 0 with wire type 7: never a valid Request.
    auto bad = frame(std::string("\x07\xff\xff", 3));
    wire.insert(wire.end(), bad.begin(), bad.end());
    auto after = random_frames(gen, 1 + gen() % 4, 100);
    wire.insert(wire.end(), after.bytes.begin(), after.bytes.end());
    return std::string{};
  });
}

TEST_F(protobuf_frames_test, oversize_frame_is_too_long) {
  // A header declaring 1 MiB against a 4 KiB maximum (the random requests
  // stay below 2.1 KiB).
  expect_error_after_good_frames(
    22, errc::too_long,
    [](auto&, auto& wire) {
      byte_buffer bad{0, 0x10, 0, 0, 1, 2, 3};
      wire.insert(wire.end(), bad.begin(), bad.end());
      return std::string{};
    },
    4096);
}

TEST_F(protobuf_frames_test, input_ending_inside_a_frame_is_malformed) {
  expect_error_after_good_frames(23, errc::malformed, [](auto& gen, auto& wire) {
    auto cut = random_frames(gen, 1, 200).bytes;
    // 1 .. size-1 bytes of it: inside the header or the payload.
    cut.resize(1 + gen() % (cut.size() - 1));
    wire.insert(wire.end(), cut.begin(), cut.end());
    return std::string{"is truncated"};
  });
}

TEST_F(protobuf_frames_test, error_stops_a_source_that_would_offer_1_gib) {
  // Garbage declaring a 2 GiB frame, repeated up to 1 GiB: the decoder must
  // report too_long at byte 0 and stop the source (it terminates).
  for (int round = 0; round < 5; ++round) {
    auto done = std::make_shared<std::promise<decoded>>();
    auto fut = done->get_future();
    auto snk = spawn_request_collector(sys_, done);
    auto src = spawn_repeat_source(sys_, byte_buffer{0x7f, 0xff, 0xff, 0xff},
                                   1024ull * 1024 * 1024,
                                   snk * spawn_protobuf_decoder<request>(sys_),
                                   4096);
    caf::scoped_actor self{sys_};
    self->monitor(src);
    ASSERT_EQ(fut.wait_for(60s), std::future_status::ready) << "round " << round;
    auto [msgs, err] = fut.get();
    EXPECT_TRUE(msgs.empty());
    ASSERT_TRUE(err);
    EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::too_long)) << describe(err);
    EXPECT_NE(describe(err).find("frame at byte 0 "), std::string::npos)
      << describe(err);
    bool down = false;
    self->receive([&](const caf::down_msg&) { down = true; },
                  caf::after(60s) >> [] {});
    EXPECT_TRUE(down) << "the source was not stopped (round " << round << ")";
  }
}

TEST_F(protobuf_frames_test, encoder_rejects_an_oversize_message_after_the_earlier_ones) {
  std::mt19937 gen{24};
  for (int round = 0; round < 50; ++round) {
    std::vector<std::vector<request>> batches(1 + gen() % 4);
    byte_buffer expected;
    uint64_t id = 0;
    for (auto& b : batches)
      for (auto n = gen() % 4; n > 0; --n) {
        b.push_back(random_request(gen, id++));
        auto f = frame(b.back().SerializeAsString());
        expected.insert(expected.end(), f.begin(), f.end());
      }
    // Then a message over the 4 KiB maximum, and more after it.
    request big;
    big.set_id(id++);
    big.mutable_write_at()->set_data(std::string(8192, 'x'));
    batches.back().push_back(big);
    batches.push_back({random_request(gen, id++)});
    auto done = std::make_shared<std::promise<std::pair<byte_buffer, caf::error>>>();
    auto fut = done->get_future();
    auto bytes_sink = spawn_collect_bytes(sys_, [done](byte_buffer b, const caf::error& e) {
      done->set_value({std::move(b), e});
    });
    spawn_request_source(sys_, batches,
                         bytes_sink * spawn_protobuf_encoder<request>(sys_, 4096));
    ASSERT_EQ(fut.wait_for(60s), std::future_status::ready) << "round " << round;
    auto [bytes, err] = fut.get();
    ASSERT_TRUE(err) << "round " << round;
    EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::too_long)) << describe(err);
    EXPECT_EQ(bytes, expected) << "round " << round;
  }
}

TEST_F(protobuf_frames_test, slow_sink_behind_the_decoder_keeps_memory_bounded) {
  // 256 MiB of 1 KiB frames (one Request each) offered; the sink
  // re-serialises every message (slower than the source). The decoder
  // holds at most the sink's credit plus 4 batches.
  request r;
  r.set_id(7);
  r.mutable_write_at()->set_data(std::string(1000, 'd'));
  auto one = frame(r.SerializeAsString());
  constexpr uint64_t frames = 256 * 1024;
  auto rss_before = test::rss_bytes();
  std::atomic<size_t> rss_peak{0};
  auto done = std::make_shared<std::promise<std::pair<uint64_t, caf::error>>>();
  auto fut = done->get_future();
  auto snk = sys_.spawn(
    [&rss_peak, done](caf::event_based_actor* self, int) -> caf::behavior {
      return {[&rss_peak, done, self](caf::stream<proto_batch<request>> in) {
        return caf::attach_stream_sink(
          self, in, [](uint64_t& n) { n = 0; },
          [&rss_peak](uint64_t& n, proto_batch<request> b) {
            for (auto& m : b.items)
              if (m->SerializeAsString().size() > 1000 && ++n % 1024 == 0)
                rss_peak = std::max(rss_peak.load(), test::rss_bytes());
          },
          [done, self](uint64_t& n, const caf::error& err) {
            done->set_value({n, err});
            self->quit();
          });
      }};
    },
    0);
  spawn_repeat_source(sys_, one, one.size() * frames,
                      snk * spawn_protobuf_decoder<request>(sys_));
  ASSERT_EQ(fut.wait_for(300s), std::future_status::ready);
  auto [n, err] = fut.get();
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(n, frames);
  auto peak = rss_peak.load();
  auto growth = peak > rss_before ? peak - rss_before : 0;
  EXPECT_LT(growth, 64u * 1024 * 1024) << "RSS grew by " << growth;
  RecordProperty("rss_growth", static_cast<int>(growth));
}

TEST_F(protobuf_frames_test, message_wrapper_round_trips_and_rejects_garbage) {
  std::mt19937 gen{15};
  proto::message<request> in{random_request(gen, 99)};
  std::vector<char> buf;
  caf::binary_serializer sink{sys_, buf};
  ASSERT_FALSE(sink(in));
  proto::message<request> out;
  caf::binary_deserializer src{sys_, buf};
  auto err = src(out);
  ASSERT_FALSE(err) << describe(err);
  EXPECT_EQ(out->SerializeAsString(), in->SerializeAsString());
  // A string of bytes that is not a Request: an error, no crash.
  std::vector<char> bad;
  caf::binary_serializer bad_sink{sys_, bad};
  ASSERT_FALSE(bad_sink(std::string("\x07\xff\xff", 3)));
  proto::message<request> junk;
  caf::binary_deserializer bad_src{sys_, bad};
  auto err2 = bad_src(junk);
  ASSERT_TRUE(err2);
  EXPECT_EQ(err2.code(), static_cast<uint8_t>(errc::malformed)) << describe(err2);
  // And as a CAF message element.
  auto msg = caf::make_message(in);
  EXPECT_EQ(msg.get_as<proto::message<request>>(0)->SerializeAsString(),
            in->SerializeAsString());
}

} // namespace
