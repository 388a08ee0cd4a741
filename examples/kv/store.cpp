#include "store.hpp"

namespace kv {

store::entry* store::find(const std::string& key, millis now) {
  auto* e = map_.find(key);
  if (e && e->expire_at != no_expiry && e->expire_at <= now) {
    drop_expiry(key, e->expire_at);
    map_.erase(key);
    return nullptr;
  }
  return e;
}

void store::drop_expiry(const std::string& key, millis at) {
  if (at != no_expiry)
    expiries_.erase({at, key});
}

const std::string* store::get(const std::string& key, millis now) {
  auto* e = find(key, now);
  return e ? &e->value : nullptr;
}

void store::set(const std::string& key, std::string value, millis expire_at,
                bool keep_ttl) {
  auto [e, added] = map_.try_emplace(key);
  e->value = std::move(value);
  if (keep_ttl && !added)
    return;
  drop_expiry(key, e->expire_at);
  e->expire_at = expire_at;
  if (expire_at != no_expiry)
    expiries_.emplace(expire_at, key);
}

bool store::erase(const std::string& key, millis now) {
  auto* e = find(key, now);
  if (!e)
    return false;
  drop_expiry(key, e->expire_at);
  map_.erase(key);
  return true;
}

bool store::exists(const std::string& key, millis now) {
  return find(key, now) != nullptr;
}

bool store::expire_at(const std::string& key, millis at, millis now) {
  auto* e = find(key, now);
  if (!e)
    return false;
  drop_expiry(key, e->expire_at);
  if (at <= now) {
    map_.erase(key);
    return true;
  }
  e->expire_at = at;
  expiries_.emplace(at, key);
  return true;
}

store::millis store::pttl(const std::string& key, millis now) {
  auto* e = find(key, now);
  if (!e)
    return -2;
  if (e->expire_at == no_expiry)
    return -1;
  return e->expire_at - now;
}

std::vector<std::string> store::keys(const std::string& pattern, millis now) {
  std::vector<std::string> out;
  bool all = pattern == "*";
  map_.for_each([&](std::string_view k, const entry& e) {
    if (e.expire_at != no_expiry && e.expire_at <= now)
      return; // expired: the sweep removes it
    if (all || glob_match(pattern.data(), pattern.data() + pattern.size(),
                          k.data(), k.data() + k.size()))
      out.emplace_back(k);
  });
  return out;
}

size_t store::sweep(millis now, size_t max) {
  size_t n = 0;
  while (n < max && !expiries_.empty() && expiries_.begin()->first <= now) {
    auto node = expiries_.extract(expiries_.begin());
    map_.erase(node.value().second);
    ++n;
  }
  return n;
}

bool glob_match(const char* p, const char* pend, const char* s,
                const char* send) {
  while (p < pend) {
    switch (*p) {
      case '*': {
        while (p + 1 < pend && p[1] == '*')
          ++p;
        if (p + 1 == pend)
          return true;
        for (const char* t = s; t <= send; ++t)
          if (glob_match(p + 1, pend, t, send))
            return true;
        return false;
      }
      case '?':
        if (s == send)
          return false;
        ++s;
        break;
      case '[': {
        if (s == send)
          return false;
        ++p;
        bool negate = p < pend && *p == '^';
        if (negate)
          ++p;
        bool match = false;
        while (p < pend && *p != ']') {
          if (*p == '\\' && p + 1 < pend) {
            ++p;
            match |= *p == *s;
          } else if (p + 2 < pend && p[1] == '-' && p[2] != ']') {
            char lo = p[0], hi = p[2];
            if (lo > hi)
              std::swap(lo, hi);
            match |= *s >= lo && *s <= hi;
            p += 2;
          } else {
            match |= *p == *s;
          }
          ++p;
        }
        if (negate)
          match = !match;
        if (!match)
          return false;
        ++s;
        break;
      }
      case '\\':
        if (p + 1 < pend)
          ++p;
        [[fallthrough]];
      default:
        if (s == send || *p != *s)
          return false;
        ++s;
        break;
    }
    if (p < pend)
      ++p;
  }
  return s == send;
}

} // namespace kv
