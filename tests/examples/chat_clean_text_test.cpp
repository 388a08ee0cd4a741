// chat::clean_text: the one rule for text entering the chat (invalid UTF-8
// and control characters but TAB become U+FFFD).

#include <gtest/gtest.h>

#include "../../examples/chat/clean_text.hpp"

namespace {

const std::string fffd = "\xEF\xBF\xBD";

TEST(chat_clean_text, printable_ascii_and_valid_utf8_pass_unchanged) {
  EXPECT_EQ(chat::clean_text(""), "");
  EXPECT_EQ(chat::clean_text("hello, world ~!"), "hello, world ~!");
  EXPECT_EQ(chat::clean_text("a\tb"), "a\tb"); // TAB stays
  // 2, 3 and 4 byte forms at their edges.
  for (std::string s : {"\xC2\xA0", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
                        "\xEE\x80\x80", "\xEF\xBF\xBD", "\xF0\x90\x80\x80",
                        "\xF4\x8F\xBF\xBF", "gr\xC3\xBC\xC3\x9F"})
    EXPECT_EQ(chat::clean_text(s), s);
}

TEST(chat_clean_text, control_characters_become_replacement_characters) {
  EXPECT_EQ(chat::clean_text(std::string{"a\0b", 3}), "a" + fffd + "b");
  EXPECT_EQ(chat::clean_text("\x1B[2Jx"), fffd + "[2Jx");
  EXPECT_EQ(chat::clean_text("a\nb\rc\x7F"), "a" + fffd + "b" + fffd + "c"
                                               + fffd);
  EXPECT_EQ(chat::clean_text("\xC2\x80\xC2\x9B"), fffd + fffd); // C1
}

TEST(chat_clean_text, each_ill_formed_sequence_becomes_one_replacement) {
  EXPECT_EQ(chat::clean_text("\xFF"), fffd);
  EXPECT_EQ(chat::clean_text("a\x80\x80z"), "a" + fffd + fffd + "z");
  EXPECT_EQ(chat::clean_text("\xC3"), fffd);              // truncated
  EXPECT_EQ(chat::clean_text("\xE2\x82z"), fffd + "z");   // maximal subpart
  EXPECT_EQ(chat::clean_text("\xC0\xAF"), fffd + fffd);   // overlong
  EXPECT_EQ(chat::clean_text("\xE0\x80\x80"), fffd + fffd + fffd);
  EXPECT_EQ(chat::clean_text("\xED\xA0\x80"), fffd + fffd + fffd); // surrogate
  EXPECT_EQ(chat::clean_text("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);
  EXPECT_EQ(chat::clean_text("\xF0\x9F\x98"), fffd);       // truncated emoji
  EXPECT_EQ(chat::clean_text("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
}

TEST(chat_clean_text, the_result_is_clean_and_stable) {
  // Every byte value after every lead byte: the result is a fixed point.
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; b += 7) {
      std::string s{static_cast<char>(a), static_cast<char>(b), 'x'};
      auto once = chat::clean_text(s);
      EXPECT_EQ(chat::clean_text(once), once) << a << ' ' << b;
    }
}

} // namespace
