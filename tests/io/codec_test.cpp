// The chunk codecs behind the stages, against straightforward reference
// implementations, on random inputs cut into random chunk sizes (1-byte
// chunks and cuts inside "\r\n" and on delimiters included).

#include <random>

#include <gtest/gtest.h>

#include "actio/drivers/errc.hpp"
#include "actio/io/length_delimited.hpp"
#include "actio/io/lines.hpp"
#include "actio/io/split.hpp"
#include "actio/io/word_count.hpp"

using namespace actio;
using namespace actio::io;

namespace {

/// Tokio's lines, the obvious way.
std::vector<std::string> reference_lines(const std::string& in) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : in) {
    if (c == '\n') {
      if (!cur.empty() && cur.back() == '\r')
        cur.pop_back();
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

std::vector<byte_buffer> reference_split(const byte_buffer& in, uint8_t d) {
  std::vector<byte_buffer> out;
  byte_buffer cur;
  bool pending = false;
  for (auto c : in) {
    if (c == d) {
      out.push_back(cur);
      cur.clear();
      pending = false;
    } else {
      cur.push_back(c);
      pending = true;
    }
  }
  if (pending)
    out.push_back(cur);
  return out;
}

/// Text from an alphabet rich in '\r', '\n' and spaces.
std::string random_text(std::mt19937& gen, size_t n) {
  static const char alphabet[] = "ab \r\n\t\r\nxyz\n\n \v\f";
  std::uniform_int_distribution<size_t> pick{0, sizeof(alphabet) - 2};
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s += alphabet[pick(gen)];
  return s;
}

/// Cuts [0, n) into random pieces; 1-byte pieces are common.
std::vector<std::pair<size_t, size_t>> random_cuts(std::mt19937& gen, size_t n) {
  std::vector<std::pair<size_t, size_t>> cuts;
  std::uniform_int_distribution<int> mode{0, 3};
  size_t pos = 0;
  while (pos < n) {
    size_t len = mode(gen) == 0 ? 1 : std::uniform_int_distribution<size_t>{1, 64}(gen);
    len = std::min(len, n - pos);
    cuts.emplace_back(pos, len);
    pos += len;
  }
  return cuts;
}

const uint8_t* bytes_of(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

TEST(lines_codec, matches_reference_on_random_chunkings) {
  std::mt19937 gen{1};
  for (int round = 0; round < 300; ++round) {
    auto text = random_text(gen, std::uniform_int_distribution<size_t>{0, 400}(gen));
    lines_codec codec{1024};
    std::vector<std::string> got;
    for (auto [pos, len] : random_cuts(gen, text.size()))
      ASSERT_FALSE(codec.push(bytes_of(text) + pos, len, got));
    ASSERT_FALSE(codec.finish(got));
    ASSERT_EQ(got, reference_lines(text)) << "input: " << text;
  }
}

TEST(lines_codec, batches_match_reference_on_random_chunkings) {
  // The stage's output form: one line_batch per chunk (lines back to back).
  std::mt19937 gen{11};
  for (int round = 0; round < 300; ++round) {
    auto text = random_text(gen, std::uniform_int_distribution<size_t>{0, 400}(gen));
    lines_codec codec{1024};
    std::vector<std::string> got;
    auto drain = [&](const line_batch& b) {
      ASSERT_EQ(b.ends.size(), b.size());
      ASSERT_EQ(b.empty() ? 0u : b.ends.back(), b.text.size());
      for (size_t i = 0; i < b.size(); ++i)
        got.emplace_back(b[i]);
    };
    for (auto [pos, len] : random_cuts(gen, text.size())) {
      line_batch batch;
      ASSERT_FALSE(codec.push(bytes_of(text) + pos, len, batch));
      drain(batch);
    }
    line_batch tail;
    ASSERT_FALSE(codec.finish(tail));
    drain(tail);
    ASSERT_EQ(got, reference_lines(text)) << "input: " << text;
  }
}

TEST(lines_codec, batch_keeps_empty_lines_and_reports_too_long) {
  lines_codec codec{4};
  line_batch batch;
  std::string in = "\n\r\nabcd\r\n\nxy";
  ASSERT_FALSE(codec.push(bytes_of(in), in.size(), batch));
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch[0], "");
  EXPECT_EQ(batch[1], "");
  EXPECT_EQ(batch[2], "abcd");
  EXPECT_EQ(batch[3], "");
  ASSERT_FALSE(codec.finish(batch));
  ASSERT_EQ(batch.size(), 5u);
  EXPECT_EQ(batch[4], "xy");
  lines_codec strict{4};
  line_batch out;
  std::string bad = "ok\nabcde\n";
  auto err = strict.push(bytes_of(bad), bad.size(), out);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::too_long)) << describe(err);
  EXPECT_NE(describe(err).find("at byte 3 "), std::string::npos) << describe(err);
}

TEST(lines_codec, edge_cases) {
  auto run = [](const std::string& in) {
    lines_codec codec;
    std::vector<std::string> out;
    EXPECT_FALSE(codec.push(bytes_of(in), in.size(), out));
    EXPECT_FALSE(codec.finish(out));
    return out;
  };
  EXPECT_EQ(run(""), std::vector<std::string>{});
  EXPECT_EQ(run("no newline"), std::vector<std::string>{"no newline"});
  EXPECT_EQ(run("\n\n\n"), (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(run("a\r\nb\r\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(run("a\rb\n"), std::vector<std::string>{"a\rb"});
  EXPECT_EQ(run("last\r"), std::vector<std::string>{"last\r"}); // no '\n': kept
  EXPECT_EQ(run("\r\n"), std::vector<std::string>{""});
}

TEST(lines_codec, cut_inside_crlf) {
  lines_codec codec;
  std::vector<std::string> out;
  std::string a = "one\r";
  std::string b = "\ntwo";
  ASSERT_FALSE(codec.push(bytes_of(a), a.size(), out));
  EXPECT_TRUE(out.empty());
  ASSERT_FALSE(codec.push(bytes_of(b), b.size(), out));
  ASSERT_FALSE(codec.finish(out));
  EXPECT_EQ(out, (std::vector<std::string>{"one", "two"}));
}

TEST(lines_codec, too_long_line_is_an_error_with_bounded_memory) {
  lines_codec codec{100};
  std::vector<std::string> out;
  std::string ok(100, 'x');
  ok += "\r\n"; // exactly the maximum, CRLF-terminated: fine
  ASSERT_FALSE(codec.push(bytes_of(ok), ok.size(), out));
  EXPECT_EQ(out.size(), 1u);
  std::string big(50, 'y');
  caf::error err;
  for (int i = 0; i < 10 && !err; ++i) // 500 bytes, no newline
    err = codec.push(bytes_of(big), big.size(), out);
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::too_long));
  EXPECT_NE(describe(err).find("at byte 102"), std::string::npos) << describe(err);
  lines_codec tail{3};
  std::string four = "abcd"; // no newline: checked at finish
  EXPECT_FALSE(tail.push(bytes_of(four), 4, out));
  EXPECT_TRUE(tail.finish(out));
}

TEST(split_codec, matches_reference_on_random_chunkings) {
  std::mt19937 gen{2};
  for (int round = 0; round < 300; ++round) {
    auto text = random_text(gen, std::uniform_int_distribution<size_t>{0, 400}(gen));
    byte_buffer in(text.begin(), text.end());
    split_codec codec{' ', 1024};
    std::vector<byte_buffer> got;
    for (auto [pos, len] : random_cuts(gen, in.size()))
      ASSERT_FALSE(codec.push(in.data() + pos, len, got));
    ASSERT_FALSE(codec.finish(got));
    ASSERT_EQ(got, reference_split(in, ' ')) << "input: " << text;
  }
}

TEST(split_codec, delimiter_edge_cases) {
  auto run = [](const std::string& s) {
    split_codec codec{','};
    std::vector<byte_buffer> out;
    EXPECT_FALSE(codec.push(bytes_of(s), s.size(), out));
    EXPECT_FALSE(codec.finish(out));
    return out.size();
  };
  EXPECT_EQ(run(""), 0u);
  EXPECT_EQ(run(","), 1u);      // one empty segment
  EXPECT_EQ(run("a,"), 1u);     // nothing after the last delimiter
  EXPECT_EQ(run("a,,b"), 3u);   // empty segment in the middle
}

TEST(length_delimited_codec, round_trip_on_random_chunkings) {
  std::mt19937 gen{3};
  for (int round = 0; round < 100; ++round) {
    std::vector<byte_buffer> frames;
    byte_buffer wire;
    auto n = std::uniform_int_distribution<int>{0, 20}(gen);
    for (int i = 0; i < n; ++i) {
      byte_buffer payload(std::uniform_int_distribution<size_t>{0, 300}(gen));
      for (auto& b : payload)
        b = static_cast<uint8_t>(gen());
      auto frame = encode_frame(payload.data(), payload.size());
      ASSERT_TRUE(frame);
      wire.insert(wire.end(), frame->begin(), frame->end());
      frames.push_back(payload);
    }
    length_delimited_codec codec{1024};
    std::vector<byte_buffer> got;
    for (auto [pos, len] : random_cuts(gen, wire.size()))
      ASSERT_FALSE(codec.push(wire.data() + pos, len, got));
    ASSERT_FALSE(codec.finish(got));
    ASSERT_EQ(got, frames);
  }
}

TEST(length_delimited_codec, oversize_and_truncated_frames_are_errors) {
  length_delimited_codec codec{16};
  std::vector<byte_buffer> out;
  auto ok = encode_frame(reinterpret_cast<const uint8_t*>("hello"), 5);
  ASSERT_FALSE(codec.push(ok->data(), ok->size(), out));
  uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff};
  auto err = codec.push(huge, 4, out);
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code(), static_cast<uint8_t>(errc::too_long));
  EXPECT_NE(describe(err).find("frame at byte 9"), std::string::npos)
    << describe(err);
  length_delimited_codec cut;
  ASSERT_FALSE(cut.push(ok->data(), 6, out)); // header + 2 of 5 bytes
  auto trunc = cut.finish(out);
  ASSERT_TRUE(trunc);
  EXPECT_EQ(trunc.code(), static_cast<uint8_t>(errc::malformed));
  EXPECT_FALSE(encode_frame(ok->data(), 17, 16)); // encoding refuses too
}

TEST(word_count, matches_reference_on_random_chunkings) {
  std::mt19937 gen{4};
  for (int round = 0; round < 200; ++round) {
    auto n = std::uniform_int_distribution<size_t>{0, 500}(gen);
    byte_buffer in(n);
    for (auto& b : in) // mostly text, some arbitrary bytes
      b = gen() % 4 == 0 ? static_cast<uint8_t>(gen())
                         : static_cast<uint8_t>(" \n\tab\r\v\fc"[gen() % 10]);
    uint64_t lines = 0, words = 0;
    bool in_word = false;
    for (auto c : in) {
      lines += c == '\n';
      if (c == ' ' || (c >= '\t' && c <= '\r'))
        in_word = false;
      else if (c > ' ' && c < 0x7f && !in_word) {
        ++words;
        in_word = true;
      } else if (c > ' ' && c < 0x7f) {
        in_word = true;
      }
    }
    word_count wc;
    for (auto [pos, len] : random_cuts(gen, in.size()))
      wc.push(in.data() + pos, len);
    ASSERT_EQ(wc.lines, lines);
    ASSERT_EQ(wc.words, words);
    ASSERT_EQ(wc.bytes, in.size());
  }
}

} // namespace
