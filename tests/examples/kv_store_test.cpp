// actio-kv's key space and commands (examples/kv/store.*, commands.*) with
// the clock driven by hand: expiry on access, by the sweep, TTL, and the
// replies Redis gives for the same commands.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "../../examples/kv/commands.hpp"
#include "../../examples/kv/key_table.hpp"
#include "../../examples/kv/store.hpp"

namespace {

using kv::store;

TEST(kv_store, keys_expire_on_access_at_their_time_not_before) {
  store db;
  db.set("a", "1", 1000);
  db.set("b", "2", store::no_expiry);
  ASSERT_NE(db.get("a", 999), nullptr);
  EXPECT_EQ(db.pttl("a", 400), 600);
  EXPECT_EQ(db.pttl("b", 400), -1);
  EXPECT_EQ(db.get("a", 1000), nullptr);
  EXPECT_EQ(db.pttl("a", 1000), -2);
  EXPECT_EQ(db.size(), 1u); // removed on that access
  EXPECT_NE(db.get("b", 1'000'000), nullptr);
}

TEST(kv_store, sweep_removes_expired_keys_nobody_reads_bounded_per_call) {
  store db;
  for (int i = 0; i < 50; ++i)
    db.set(std::to_string(i), "v", 100 + i);
  db.set("forever", "v", store::no_expiry);
  EXPECT_EQ(db.sweep(99), 0u);
  EXPECT_EQ(db.sweep(200, 20), 20u); // bounded
  EXPECT_EQ(db.sweep(200), 30u);
  EXPECT_EQ(db.size(), 1u);
  EXPECT_EQ(db.with_expiry(), 0u);
}

TEST(kv_store, set_replaces_the_expiry_unless_told_to_keep_it) {
  store db;
  db.set("a", "1", 500);
  db.set("a", "2", store::no_expiry, true); // KEEPTTL
  EXPECT_EQ(db.pttl("a", 0), 500);
  db.set("a", "3", store::no_expiry);
  EXPECT_EQ(db.pttl("a", 0), -1);
  EXPECT_EQ(db.sweep(1000), 0u); // the old expiry is gone from the index
  EXPECT_NE(db.get("a", 1000), nullptr);
  EXPECT_TRUE(db.expire_at("a", 50, 10));
  EXPECT_EQ(db.pttl("a", 10), 40);
  EXPECT_TRUE(db.expire_at("a", 10, 10)); // a time already past deletes
  EXPECT_FALSE(db.exists("a", 10));
  EXPECT_FALSE(db.expire_at("missing", 50, 10));
}

TEST(kv_store, keys_match_globs_as_redis) {
  auto m = [](std::string p, std::string s) {
    return kv::glob_match(p.data(), p.data() + p.size(), s.data(), s.data() + s.size());
  };
  EXPECT_TRUE(m("*", ""));
  EXPECT_TRUE(m("user:*", "user:42"));
  EXPECT_FALSE(m("user:*", "usr:42"));
  EXPECT_TRUE(m("h?llo", "hello"));
  EXPECT_TRUE(m("h[ae]llo", "hallo"));
  EXPECT_FALSE(m("h[^e]llo", "hello"));
  EXPECT_TRUE(m("h[a-c]llo", "hbllo"));
  EXPECT_TRUE(m("a\\*b", "a*b"));
  EXPECT_FALSE(m("a\\*b", "axb"));
  store db;
  db.set("user:1", "", store::no_expiry);
  db.set("user:2", "", 5);
  db.set("other", "", store::no_expiry);
  auto keys = db.keys("user:*", 10);
  EXPECT_EQ(keys, std::vector<std::string>{"user:1"});
}

// Runs commands on one store at time `now`, returning each reply's RESP text.
struct runner {
  store db;
  kv::server_stats stats;
  kv::resp_codec codec;
  std::string operator()(kv::command c, store::millis now = 0) {
    actio::byte_buffer out;
    codec.encode(kv::execute(db, c, now, stats), out);
    return std::string(out.begin(), out.end());
  }
};

TEST(kv_commands, string_commands_reply_as_redis) {
  runner run;
  EXPECT_EQ(run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(run({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(run({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(run({"SET", "k", "w", "NX"}), "$-1\r\n");
  EXPECT_EQ(run({"SET", "n", "w", "XX"}), "$-1\r\n");
  EXPECT_EQ(run({"SET", "k", "w", "XX", "GET"}), "$1\r\nv\r\n");
  EXPECT_EQ(run({"SET", "k", "w", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(run({"SET", "k", "w", "EX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(run({"SET", "k", "w", "EX", "x"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(run({"SET", "k", "w", "EX", "0"}),
            "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(run({"INCR", "k"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(run({"INCR", "c"}), ":1\r\n");
  EXPECT_EQ(run({"INCRBY", "c", "41"}), ":42\r\n");
  EXPECT_EQ(run({"DECR", "c"}), ":41\r\n");
  EXPECT_EQ(run({"INCRBY", "c", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(run({"SET", "big", "9223372036854775807"}), "+OK\r\n");
  EXPECT_EQ(run({"INCR", "big"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(run({"MSET", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(run({"MSET", "a", "1", "b"}),
            "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(run({"MGET", "a", "zz", "b"}), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
  EXPECT_EQ(run({"EXISTS", "a", "b", "zz", "a"}), ":3\r\n");
  EXPECT_EQ(run({"DEL", "a", "zz"}), ":1\r\n");
  EXPECT_EQ(run({"ECHO", "x y"}), "$3\r\nx y\r\n");
  EXPECT_EQ(run({"NOPE", "a"}),
            "-ERR unknown command 'NOPE', with args beginning with: 'a' \r\n");
}

TEST(kv_commands, expiry_commands_follow_the_injected_clock) {
  runner run;
  EXPECT_EQ(run({"SET", "k", "v", "EX", "10"}, 1000), "+OK\r\n");
  EXPECT_EQ(run({"TTL", "k"}, 1000), ":10\r\n");
  EXPECT_EQ(run({"PTTL", "k"}, 4000), ":7000\r\n");
  EXPECT_EQ(run({"GET", "k"}, 10999), "$1\r\nv\r\n");
  EXPECT_EQ(run({"GET", "k"}, 11000), "$-1\r\n");
  EXPECT_EQ(run({"TTL", "k"}, 11000), ":-2\r\n");
  EXPECT_EQ(run({"SET", "p", "v", "PX", "250"}, 0), "+OK\r\n");
  EXPECT_EQ(run({"EXISTS", "p"}, 249), ":1\r\n");
  EXPECT_EQ(run({"EXISTS", "p"}, 250), ":0\r\n");
  EXPECT_EQ(run({"SET", "e", "v"}, 0), "+OK\r\n");
  EXPECT_EQ(run({"TTL", "e"}, 0), ":-1\r\n");
  EXPECT_EQ(run({"EXPIRE", "e", "5"}, 0), ":1\r\n");
  EXPECT_EQ(run({"EXPIRE", "nope", "5"}, 0), ":0\r\n");
  EXPECT_EQ(run({"EXPIRE", "e", "x"}, 0), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(run({"INCR", "e"}, 100), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(run({"SET", "c", "1", "EX", "5"}, 0), "+OK\r\n");
  EXPECT_EQ(run({"INCR", "c"}, 0), ":2\r\n");
  EXPECT_EQ(run({"TTL", "c"}, 0), ":5\r\n"); // INCR keeps the expiry
  EXPECT_EQ(run({"GET", "e"}, 5000), "$-1\r\n");
}

TEST(kv_commands, keys_and_scan_list_live_keys) {
  runner run;
  run({"MSET", "a1", "x", "a2", "y", "b1", "z"});
  run({"SET", "a3", "v", "PX", "10"});
  auto keys = run({"KEYS", "a*"}, 20);
  EXPECT_EQ(keys.substr(0, 4), "*2\r\n");
  EXPECT_NE(keys.find("a1"), std::string::npos);
  EXPECT_NE(keys.find("a2"), std::string::npos);
  EXPECT_EQ(run({"SCAN", "0", "MATCH", "b*", "COUNT", "10"}, 20),
            "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nb1\r\n");
  EXPECT_EQ(run({"SCAN", "x"}), "-ERR invalid cursor\r\n");
  EXPECT_EQ(run({"DBSIZE"}, 20).substr(0, 1), ":");
}

// The open-addressing table against std::unordered_map: 200,000 random
// inserts, overwrites, lookups and erases over 3,000 keys (so probe runs
// wrap around the table and erases shift entries back), checked after
// every step for the key touched and, now and then, for every key.
TEST(kv_key_table, agrees_with_unordered_map_under_random_operations) {
  kv::key_table<int> t;
  std::unordered_map<std::string, int> ref;
  std::mt19937 rng{12345};
  auto key = [&] {
    auto n = rng() % 3000;
    return (n % 2 ? "key:" : "k") + std::to_string(n * 7919);
  };
  for (int step = 0; step < 200000; ++step) {
    auto k = key();
    switch (rng() % 4) {
      case 0:
      case 1: {
        auto [e, added] = t.try_emplace(k);
        auto [i, ref_added] = ref.try_emplace(k, 0);
        ASSERT_EQ(added, ref_added) << k;
        ASSERT_EQ(*e, i->second) << k;
        *e = i->second = step;
        break;
      }
      case 2:
        ASSERT_EQ(t.erase(k), ref.erase(k) == 1) << k;
        break;
      default: {
        auto* e = t.find(k);
        auto i = ref.find(k);
        ASSERT_EQ(e != nullptr, i != ref.end()) << k;
        if (e) {
          ASSERT_EQ(*e, i->second) << k;
        }
      }
    }
    ASSERT_EQ(t.size(), ref.size());
    if (step % 20000 == 0) {
      size_t seen = 0;
      t.for_each([&](std::string_view k2, const int& v) {
        ++seen;
        auto i = ref.find(std::string{k2});
        ASSERT_NE(i, ref.end()) << k2;
        EXPECT_EQ(v, i->second) << k2;
      });
      EXPECT_EQ(seen, ref.size());
      for (auto& [k2, v] : ref) {
        auto* e = t.find(k2);
        ASSERT_NE(e, nullptr) << k2;
        EXPECT_EQ(*e, v);
      }
    }
  }
  // Everything erased: empty, and every key gone.
  for (auto& [k2, v] : ref)
    EXPECT_TRUE(t.erase(k2));
  EXPECT_EQ(t.size(), 0u);
  t.for_each([](std::string_view k2, const int&) { ADD_FAILURE() << k2; });
}

// prefetch (run by the store before each batch) only warms the cache: on
// an empty table, for no keys, for present and missing keys and more keys
// than one of its chunks (32), every lookup afterwards finds what it did.
TEST(kv_key_table, prefetch_changes_nothing) {
  kv::key_table<int> t;
  std::vector<std::string> names;
  for (int i = 0; i < 100; ++i)
    names.push_back("key:" + std::to_string(i));
  std::vector<std::string_view> keys(names.begin(), names.end());
  t.prefetch(keys.data(), keys.size()); // empty table
  EXPECT_EQ(t.size(), 0u);
  for (int i = 0; i < 100; i += 2)
    *t.try_emplace(names[i]).first = i;
  t.prefetch(keys.data(), 0);
  t.prefetch(keys.data(), 1);
  t.prefetch(keys.data(), keys.size()); // 100: four chunks, half missing
  EXPECT_EQ(t.size(), 50u);
  for (int i = 0; i < 100; ++i) {
    auto* e = t.find(names[i]);
    if (i % 2 == 0) {
      ASSERT_NE(e, nullptr) << names[i];
      EXPECT_EQ(*e, i);
    } else {
      EXPECT_EQ(e, nullptr) << names[i];
    }
  }
}

} // namespace
