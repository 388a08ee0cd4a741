// Protobuf framing: encoder -> bytes -> random rechunking (1-byte chunks
// included) -> decoder gives back the same messages; a frame that does not
// parse names its byte offset; oversize frames are too_long; and the
// inspect wrapper round-trips through CAF's serializers, rejecting garbage.

#include <future>
#include <random>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actio/actors/errc.hpp"
#include "actio/io/protobuf_frames.hpp"
#include "actio/io/sinks.hpp"
#include "actio/io/sources.hpp"
#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"
#include "support/fixture.hpp"

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

/// Collects decoded messages (as wire strings) and the stream's error.
caf::actor spawn_request_collector(
  caf::actor_system& sys,
  std::promise<std::pair<std::vector<std::string>, caf::error>>& done) {
  return sys.spawn(
    [&done](caf::event_based_actor* self, int) -> caf::behavior {
      return {[&done, self](caf::stream<proto_batch<request>> in) {
        return caf::attach_stream_sink(
          self, in, [](std::vector<std::string>&) {},
          [](std::vector<std::string>& all, proto_batch<request> b) {
            for (auto& m : b.items)
              all.push_back(m->SerializeAsString());
          },
          [&done, self](std::vector<std::string>& all, const caf::error& err) {
            done.set_value({std::move(all), err});
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

class protobuf_frames_test : public ::testing::Test {
protected:
  std::pair<std::vector<std::string>, caf::error>
  decode(std::vector<byte_buffer> chunks, size_t max_frame = 8 * 1024 * 1024) {
    std::promise<std::pair<std::vector<std::string>, caf::error>> done;
    auto fut = done.get_future();
    auto snk = spawn_request_collector(sys_, done);
    spawn_memory_source(sys_, std::move(chunks),
                        snk * spawn_protobuf_decoder<request>(sys_, max_frame));
    EXPECT_EQ(fut.wait_for(60s), std::future_status::ready);
    return fut.get();
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
    auto [msgs, err] = decode(rechunk(bytes, gen));
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
  auto [msgs, err] = decode(std::move(chunks));
  EXPECT_FALSE(err) << describe(err);
  EXPECT_EQ(msgs, expected);
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
