// net::address: the text forms round-trip; malformed input is a typed error.

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actio/drivers/address.hpp"
#include "actio/drivers/errc.hpp"

using namespace actio;

namespace {

void expect_round_trip(const std::string& text, int family) {
  auto a = net::address::parse(text);
  ASSERT_TRUE(a) << text << ": " << describe(a.error());
  EXPECT_EQ(a->family(), family) << text;
  EXPECT_EQ(to_string(*a), text);
  auto again = net::address::parse(to_string(*a));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *a);
}

TEST(address, text_forms_round_trip) {
  expect_round_trip("127.0.0.1:7002", AF_INET);
  expect_round_trip("0.0.0.0:0", AF_INET);
  expect_round_trip("[::1]:5", AF_INET6);
  expect_round_trip("[fe80::1]:65535", AF_INET6);
  expect_round_trip("/tmp/actio.sock", AF_UNIX);
  expect_round_trip("./relative/x.sock", AF_UNIX);
  expect_round_trip("@actio-abstract", AF_UNIX);
  expect_round_trip("(unnamed)", AF_UNIX);
  EXPECT_TRUE(net::address::parse("")->empty());
}

TEST(address, ports_and_unix_names) {
  EXPECT_EQ(net::address::parse("1.2.3.4:5")->port(), 5);
  EXPECT_EQ(net::address::parse("[::1]:7002")->port(), 7002);
  auto abs = net::address::parse("@name");
  EXPECT_FALSE(abs->is_unix_path());
  EXPECT_EQ(abs->unix_name(), "@name");
  auto path = net::address::parse("/run/x");
  EXPECT_TRUE(path->is_unix_path());
  EXPECT_EQ(path->unix_name(), "/run/x");
  EXPECT_NE(*net::address::parse("@a"), *net::address::parse("@b"));
}

TEST(address, malformed_input_is_invalid_argument) {
  for (const std::string& bad : std::vector<std::string>{
         "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:x", "host:80",
        "::1:5", "[::1:5", "[1.2.3.4]:5", "1.2.3:5", "@" + std::string(200, 'x'),
        "/" + std::string(120, 'p')}) {
    auto a = net::address::parse(bad);
    ASSERT_FALSE(a) << bad;
    EXPECT_EQ(a.error().code(), static_cast<uint8_t>(errc::invalid_argument))
      << bad;
    EXPECT_EQ(a.error().category(), caf::atom("actio")) << bad;
  }
}

TEST(address, travels_in_messages_as_text) {
  auto a = *net::address::parse("[::1]:9");
  auto msg = caf::make_message(a);
  EXPECT_NE(to_string(msg).find("[::1]:9"), std::string::npos);
}

} // namespace
