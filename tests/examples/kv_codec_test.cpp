// actio-kv's RESP2 codec (examples/kv/resp_codec.*): commands split at every
// byte boundary, inline commands, the limits, malformed input, replies.

#include <string>

#include <gtest/gtest.h>

#include "../../examples/kv/resp_codec.hpp"

namespace {

using kv::command;
using kv::resp_codec;

const uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// Feeds `input` as a connection would, in pieces cut at `cut` (0: whole);
// decodes everything possible after each piece. Returns the commands, and
// the error text in `err` if decoding failed.
std::vector<command> feed(resp_codec& codec, const std::string& input,
                          size_t cut, std::string* err = nullptr,
                          bool eof = false) {
  std::vector<command> out;
  std::string buf;
  size_t given = 0;
  while (given < input.size()) {
    size_t n = cut == 0 ? input.size() : std::min(cut, input.size() - given);
    if (given == 0 && cut != 0)
      n = cut; // the first piece ends at the boundary under test
    n = std::min(n, input.size() - given);
    buf.append(input, given, n);
    given += n;
    for (;;) {
      auto r = codec.decode(bytes(buf), buf.size());
      if (r.error) {
        if (err)
          *err = resp_codec::error_text(r.error);
        return out;
      }
      buf.erase(0, r.consumed);
      if (r.frame)
        out.push_back(std::move(*r.frame));
      if (r.consumed == 0)
        break;
    }
  }
  if (eof && !buf.empty()) {
    auto r = codec.finish(bytes(buf), buf.size());
    EXPECT_EQ(r.consumed, buf.size());
    if (r.frame)
      out.push_back(std::move(*r.frame));
  }
  return out;
}

TEST(kv_codec, multibulk_commands_split_at_every_byte_boundary_decode_the_same) {
  const std::string input = "*3\r\n$3\r\nSET\r\n$5\r\nk\r\ney\r\n$0\r\n\r\n"
                            "*2\r\n$3\r\nGET\r\n$5\r\nk\r\ney\r\n"
                            "*0\r\n"
                            "*1\r\n$4\r\nPING\r\n";
  const std::vector<command> want = {
    {"SET", "k\r\ney", ""}, {"GET", "k\r\ney"}, {"PING"}};
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    resp_codec codec;
    EXPECT_EQ(feed(codec, input, cut), want) << "first piece " << cut;
  }
  // One byte at a time throughout.
  resp_codec codec;
  std::string buf;
  std::vector<command> got;
  for (char c : input) {
    buf += c;
    auto r = codec.decode(bytes(buf), buf.size());
    ASSERT_FALSE(r.error);
    buf.erase(0, r.consumed);
    if (r.frame)
      got.push_back(*r.frame);
  }
  EXPECT_EQ(got, want);
}

TEST(kv_codec, binary_arguments_keep_every_byte) {
  std::string arg;
  for (int i = 0; i < 256; ++i)
    arg += static_cast<char>(i);
  std::string input = "*2\r\n$4\r\nECHO\r\n$256\r\n" + arg + "\r\n";
  resp_codec codec;
  auto got = feed(codec, input, 7);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0][1], arg);
}

TEST(kv_codec, inline_commands_split_on_blanks_with_quotes_and_escapes) {
  const std::string input = "SET k v\r\n"
                            "  get\t k  \n"
                            "\r\n"
                            "set \"a b\\x41\\n\" 'it\\'s'\r\n"
                            "ping";
  const std::vector<command> want = {
    {"SET", "k", "v"}, {"get", "k"}, {"set", "a bA\n", "it's"}, {"ping"}};
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    resp_codec codec;
    EXPECT_EQ(feed(codec, input, cut, nullptr, true), want) << cut;
  }
}

TEST(kv_codec, unbalanced_quotes_are_a_protocol_error) {
  for (std::string line : {"set \"a b\r\n", "set 'a\r\n", "set \"a\"b\r\n"}) {
    resp_codec codec;
    std::string err;
    feed(codec, line, 0, &err);
    EXPECT_EQ(err, "Protocol error: unbalanced quotes in request") << line;
  }
}

TEST(kv_codec, malformed_multibulk_gets_redis_error_texts) {
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"*x\r\n", "Protocol error: invalid multibulk length"},
    {"*1\r\n$x\r\n", "Protocol error: invalid bulk length"},
    {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
    {"*1\r\n$2147483648\r\n", "Protocol error: invalid bulk length"},
    {"*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"},
    {"*99999999999\r\n", "Protocol error: invalid multibulk length"},
  };
  for (auto& [input, text] : cases) {
    resp_codec codec;
    std::string err;
    auto got = feed(codec, input, 0, &err);
    EXPECT_TRUE(got.empty()) << input;
    EXPECT_EQ(err, text) << input;
  }
}

TEST(kv_codec, limits_stop_input_before_it_is_buffered_whole) {
  kv::resp_limits lim;
  lim.max_bulk = 100;
  lim.max_args = 3;
  lim.max_inline = 50;
  lim.max_command = 1000;
  auto err_of = [&](const std::string& input) {
    resp_codec codec{lim};
    std::string err;
    feed(codec, input, 0, &err);
    return err;
  };
  // At the limits: fine.
  EXPECT_EQ(err_of("*3\r\n$1\r\na\r\n$1\r\nb\r\n$100\r\n" + std::string(100, 'x') + "\r\n"), "");
  EXPECT_EQ(err_of(std::string(49, 'a') + "\n"), "");
  // Past them: an error as soon as the header or the line says so.
  EXPECT_EQ(err_of("*4\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(err_of("*1\r\n$101\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(err_of(std::string(51, 'a')), "Protocol error: too big inline request");
  EXPECT_EQ(err_of("*" + std::string(60, '1')), "Protocol error: too big mbulk count string");
  EXPECT_EQ(err_of("*1\r\n$" + std::string(60, '1')), "Protocol error: too big bulk count string");
  lim.max_command = 150;
  EXPECT_EQ(err_of("*2\r\n$100\r\n" + std::string(100, 'x') + "\r\n$100\r\n"),
            "Protocol error: command too long");
}

TEST(kv_codec, garbage_without_newlines_fails_at_the_inline_limit) {
  resp_codec codec;
  std::string garbage(1024 * 1024, '\x01');
  auto r = codec.decode(bytes(garbage), garbage.size());
  EXPECT_TRUE(r.error);
  EXPECT_FALSE(r.frame);
}

TEST(kv_codec, a_multibulk_cut_short_at_eof_is_dropped) {
  resp_codec codec;
  std::string input = "*2\r\n$3\r\nGET\r\n";
  auto r = codec.finish(bytes(input), input.size());
  EXPECT_FALSE(r.error);
  EXPECT_FALSE(r.frame);
  EXPECT_EQ(r.consumed, input.size());
}

TEST(kv_codec, replies_encode_as_resp2) {
  resp_codec codec;
  auto enc = [&](const kv::reply& r) {
    actio::byte_buffer out;
    codec.encode(r, out);
    return std::string(out.begin(), out.end());
  };
  EXPECT_EQ(enc(kv::ok()), "+OK\r\n");
  EXPECT_EQ(enc(kv::error("ERR bad\r\nthing")), "-ERR bad  thing\r\n");
  EXPECT_EQ(enc(kv::integer(-42)), ":-42\r\n");
  EXPECT_EQ(enc(kv::bulk("a\r\nb")), "$4\r\na\r\nb\r\n");
  EXPECT_EQ(enc(kv::null_bulk()), "$-1\r\n");
  kv::reply arr{kv::reply_array{std::vector<kv::reply>{kv::bulk("x"), kv::null_bulk(),
                                                        kv::integer(1)}}};
  EXPECT_EQ(enc(arr), "*3\r\n$1\r\nx\r\n$-1\r\n:1\r\n");
  EXPECT_EQ(enc(kv::reply{kv::reply_array{}}), "*-1\r\n");
}

} // namespace
