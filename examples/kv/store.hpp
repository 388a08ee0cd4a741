#pragma once
// The key space: string values with optional expiry times. Expired keys are
// removed lazily (every access checks) and by `sweep` (called periodically by
// the store actor). Time is passed in (milliseconds of any monotonic-enough
// clock), so tests drive it by hand.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "key_table.hpp"

namespace kv {

class store {
public:
  using millis = int64_t;
  static constexpr millis no_expiry = -1;

  /// The value of `key`, unless missing or expired at `now`.
  const std::string* get(const std::string& key, millis now);
  /// Sets `key`; `expire_at` is absolute, `no_expiry` for none. With
  /// `keep_ttl`, an existing expiry stays.
  void set(const std::string& key, std::string value, millis expire_at,
           bool keep_ttl = false);
  /// True if `key` was there (and not expired).
  bool erase(const std::string& key, millis now);
  bool exists(const std::string& key, millis now);
  /// Sets the absolute expiry of an existing key; false if there is none.
  /// A time at or before `now` deletes the key.
  bool expire_at(const std::string& key, millis at, millis now);
  /// Milliseconds left: -2 no such key, -1 no expiry.
  millis pttl(const std::string& key, millis now);
  /// Keys matching the glob `pattern` (*, ?, [a-z], [^x], \x).
  std::vector<std::string> keys(const std::string& pattern, millis now);
  /// Warms the cache for `n` keys a batch is about to use (key_table's
  /// prefetch); changes nothing.
  void prefetch(const std::string_view* keys, size_t n) const noexcept {
    map_.prefetch(keys, n);
  }
  /// Removes up to `max` keys whose time has come; returns how many.
  size_t sweep(millis now, size_t max = 1000);

  size_t size() const noexcept {
    return map_.size();
  }
  size_t with_expiry() const noexcept {
    return expiries_.size();
  }

private:
  struct entry {
    std::string value;
    millis expire_at = no_expiry;
  };
  /// The entry of `key`, or null; erases it first if it expired.
  entry* find(const std::string& key, millis now);
  void drop_expiry(const std::string& key, millis at);
  key_table<entry> map_;
  std::set<std::pair<millis, std::string>> expiries_; ///< for sweep
};

/// Redis's glob matching (stringmatchlen), case-sensitive.
bool glob_match(const char* p, const char* pend, const char* s, const char* send);

} // namespace kv
