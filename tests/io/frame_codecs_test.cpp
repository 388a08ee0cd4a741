// The framed-connection codecs on their own (io/line_frames.hpp,
// io/length_frames.hpp): decode driven the way framed connections drive
// it (repeatedly on the unconsumed bytes, input arriving in random
// pieces), against Tokio's semantics; limits and EOF; the frames before
// an error come first.

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "actio/drivers/errc.hpp"
#include "actio/io/length_frames.hpp"
#include "actio/io/line_frames.hpp"
#include "support/fixture.hpp"

using namespace actio;

namespace {

bool is(const caf::error& err, errc code) {
  return test::is_errc(err, code);
}

/// Feeds `in` in random pieces like framed_core does; frames or the error.
template <class C>
std::vector<typename C::in_frame> run(C& c, const std::string& in,
                                      uint32_t seed, caf::error& err) {
  std::mt19937 rng{seed};
  std::vector<typename C::in_frame> out;
  std::string buf;
  size_t pos = 0;
  auto drain = [&] {
    for (;;) {
      auto d = c.decode(reinterpret_cast<const uint8_t*>(buf.data()),
                        buf.size());
      if (d.error) {
        err = d.error;
        return false;
      }
      buf.erase(0, d.consumed);
      if (d.frame)
        out.push_back(std::move(*d.frame));
      else if (d.consumed == 0)
        return true;
    }
  };
  while (pos < in.size()) {
    auto n = std::min(in.size() - pos, size_t{1} + rng() % 7);
    buf.append(in, pos, n);
    pos += n;
    if (!drain())
      return out;
  }
  auto d = c.finish(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
  if (d.error)
    err = d.error;
  else if (d.frame)
    out.push_back(std::move(*d.frame));
  return out;
}

TEST(line_frames, tokio_lines_semantics_over_random_pieces) {
  std::string in = "a\r\n\nbc\rd\r\n\r\nlast\r";
  for (uint32_t seed = 0; seed < 50; ++seed) {
    io::line_frames c{64};
    caf::error err;
    auto got = run(c, in, seed, err);
    ASSERT_FALSE(err);
    EXPECT_EQ(got, (std::vector<std::string>{"a", "", "bc\rd", "", "last\r"}));
  }
}

TEST(line_frames, too_long_without_newline_is_an_error_not_a_buffer) {
  io::line_frames c{8};
  std::string in(100, 'x');
  auto d = c.decode(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  EXPECT_TRUE(is(d.error, errc::too_long));
  io::line_frames ok{8};
  caf::error err;
  auto got = run(ok, "12345678\r\n", 1, err); // 8 bytes + CR LF: fits
  EXPECT_FALSE(err);
  EXPECT_EQ(got, std::vector<std::string>{"12345678"});
}

TEST(line_frames, encode_appends_newline_and_checks) {
  io::line_frames c{4};
  byte_buffer out;
  EXPECT_FALSE(c.encode("abc", out));
  EXPECT_EQ(std::string(out.begin(), out.end()), "abc\n");
  EXPECT_TRUE(is(c.encode("a\nb", out), errc::malformed));
  EXPECT_TRUE(is(c.encode("abcde", out), errc::too_long));
  EXPECT_EQ(out.size(), 4u);
}

TEST(length_frames, round_trip_and_limits) {
  io::length_frames c{1000};
  byte_buffer wire;
  std::vector<byte_buffer> frames{{}, byte_buffer(1000, 7), {1, 2, 3}};
  for (auto& f : frames)
    ASSERT_FALSE(c.encode(f, wire));
  EXPECT_TRUE(is(c.encode(byte_buffer(1001, 0), wire), errc::too_long));
  for (uint32_t seed = 0; seed < 20; ++seed) {
    io::length_frames d{1000};
    caf::error err;
    auto got = run(d, std::string(wire.begin(), wire.end()), seed, err);
    ASSERT_FALSE(err);
    EXPECT_EQ(got, frames);
  }
  io::length_frames d{1000};
  uint8_t huge[4] = {0x7f, 0xff, 0xff, 0xff}; // declared 2 GiB: no buffering
  EXPECT_TRUE(is(d.decode(huge, 4).error, errc::too_long));
  io::length_frames t{1000};
  caf::error err;
  run(t, std::string("\0\0\0\5ab", 6), 3, err);
  EXPECT_TRUE(is(err, errc::malformed));
}

/// Decodes `in` in one piece, then drains: frames, then the error.
template <class C>
std::vector<typename C::in_frame> one_chunk(C& c, const std::string& in,
                                            caf::error& err) {
  std::vector<typename C::in_frame> out;
  auto d = c.decode(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  EXPECT_EQ(d.consumed, in.size()); // taken whole: nothing after it is read
  for (;;) {
    if (d.frame)
      out.push_back(std::move(*d.frame));
    if (d.error) {
      err = d.error;
      break;
    }
    if (!d.frame)
      break;
    d = c.decode(nullptr, 0);
  }
  // The error stays, also at EOF.
  EXPECT_TRUE(is(c.decode(nullptr, 0).error, static_cast<errc>(err.code())));
  EXPECT_TRUE(is(c.finish(nullptr, 0).error, static_cast<errc>(err.code())));
  return out;
}

// A bad frame after good ones in the same read: the good ones are decoded
// first, then the error (a framed connection serves what came before).
TEST(line_frames, lines_before_a_too_long_line_come_first) {
  io::line_frames c{8};
  caf::error err;
  std::string in = "ab\ncd\n";
  in.append(20, 'x').append("\nef\n");
  auto got = one_chunk(c, in, err);
  EXPECT_EQ(got, (std::vector<std::string>{"ab", "cd"}));
  EXPECT_TRUE(is(err, errc::too_long));
}

TEST(length_frames, frames_before_an_oversized_header_come_first) {
  io::length_frames c{100};
  byte_buffer wire;
  ASSERT_FALSE(c.encode({1}, wire));
  ASSERT_FALSE(c.encode({2, 3}, wire));
  uint8_t big[4] = {0, 0, 1, 0}; // 256 > 100
  wire.insert(wire.end(), big, big + 4);
  caf::error err;
  auto got = one_chunk(c, std::string(wire.begin(), wire.end()), err);
  EXPECT_EQ(got, (std::vector<byte_buffer>{{1}, {2, 3}}));
  EXPECT_TRUE(is(err, errc::too_long));
}

} // namespace
