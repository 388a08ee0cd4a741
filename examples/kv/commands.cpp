#include "commands.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>

#include "actio/actors/pinned.hpp"

namespace kv {

namespace {

using millis = store::millis;

const char* const not_integer = "ERR value is not an integer or out of range";
const char* const syntax = "ERR syntax error";

reply arity(const std::string& name) {
  return error("ERR wrong number of arguments for '" + name + "' command");
}

std::string lower(const std::string& s) {
  std::string out = s;
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(const std::string& a, const char* b) {
  return lower(a) == b;
}

// Redis's string2ll: no blanks, no '+', no leading zeros, in range.
bool to_int(const std::string& s, long long& out) {
  if (s.empty() || s.size() > 20 || s[0] == '+')
    return false;
  size_t digits = s[0] == '-' ? 1 : 0;
  if (s.size() > digits + 1 && s[digits] == '0')
    return false;
  if (s == "-0")
    return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

reply array(std::vector<reply> items) {
  return reply{reply_array{std::move(items)}};
}

reply incr_by(store& db, const std::string& key, long long by, millis now) {
  long long value = 0;
  const std::string* old = db.get(key, now);
  if (old != nullptr && !to_int(*old, value))
    return error(not_integer);
  if ((by > 0 && value > std::numeric_limits<long long>::max() - by)
      || (by < 0 && value < std::numeric_limits<long long>::min() - by))
    return error("ERR increment or decrement would overflow");
  value += by;
  db.set(key, std::to_string(value), store::no_expiry, true);
  return integer(value);
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
reply set(store& db, const command& c, millis now) {
  bool nx = false, xx = false, get = false, keep = false;
  millis at = store::no_expiry;
  bool timed = false;
  for (size_t i = 3; i < c.size(); ++i) {
    auto opt = lower(c[i]);
    if (opt == "nx" && !xx)
      nx = true;
    else if (opt == "xx" && !nx)
      xx = true;
    else if (opt == "get")
      get = true;
    else if (opt == "keepttl" && !timed)
      keep = true;
    else if ((opt == "ex" || opt == "px" || opt == "exat" || opt == "pxat")
             && !timed && !keep && i + 1 < c.size()) {
      long long n = 0;
      if (!to_int(c[++i], n))
        return error(not_integer);
      bool secs = opt == "ex" || opt == "exat";
      if (n <= 0 || (secs && n > std::numeric_limits<long long>::max() / 1000))
        return error("ERR invalid expire time in 'set' command");
      millis ms = secs ? n * 1000 : n;
      at = opt.size() == 2 ? now + ms : ms;
      timed = true;
    } else {
      return error(syntax);
    }
  }
  std::optional<std::string> old;
  if (auto* v = db.get(c[1], now))
    old = *v;
  reply done = get ? reply{bulk_string{old}} : ok();
  if ((nx && old) || (xx && !old))
    return get ? done : null_bulk();
  db.set(c[1], c[2], at, keep);
  return done;
}

reply expire(store& db, const command& c, millis now, bool secs) {
  long long n = 0;
  if (!to_int(c[2], n))
    return error(not_integer);
  if (secs && (n > std::numeric_limits<long long>::max() / 1000
               || n < std::numeric_limits<long long>::min() / 1000))
    return error("ERR invalid expire time in '" + lower(c[0]) + "' command");
  millis ms = secs ? n * 1000 : n;
  return integer(db.expire_at(c[1], now + ms, now) ? 1 : 0);
}

reply scan(store& db, const command& c, millis now) {
  long long cursor = 0;
  if (!to_int(c[1], cursor) || cursor < 0)
    return error("ERR invalid cursor");
  std::string pattern = "*";
  for (size_t i = 2; i < c.size(); i += 2) {
    if (i + 1 >= c.size())
      return error(syntax);
    auto opt = lower(c[i]);
    long long n = 0;
    if (opt == "match")
      pattern = c[i + 1];
    else if (opt == "count") {
      if (!to_int(c[i + 1], n))
        return error(not_integer);
      if (n < 1)
        return error(syntax);
    } else if (opt != "type")
      return error(syntax);
  }
  // Every key in the first call, cursor 0 next: within SCAN's guarantees
  // (COUNT is a hint), and simple while the key space is one hash map.
  std::vector<reply> keys;
  if (cursor == 0)
    for (auto& k : db.keys(pattern, now))
      keys.push_back(bulk(std::move(k)));
  return array({bulk("0"), array(std::move(keys))});
}

reply info(store& db, const server_stats& stats, millis now) {
  std::string s = "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n"
                  "actio_kv:1\r\nuptime_in_seconds:";
  s += std::to_string((now - stats.started) / 1000);
  s += "\r\n\r\n# Clients\r\nconnected_clients:";
  s += std::to_string(stats.clients ? stats.clients->load() : 0);
  s += "\r\n\r\n# Stats\r\ntotal_commands_processed:";
  s += std::to_string(stats.commands);
  s += "\r\n\r\n# Keyspace\r\n";
  if (db.size() > 0)
    s += "db0:keys=" + std::to_string(db.size()) + ",expires="
         + std::to_string(db.with_expiry()) + ",avg_ttl=0\r\n";
  return bulk(std::move(s));
}

reply unknown(const command& c) {
  std::string s = "ERR unknown command '";
  s.append(c[0], 0, 128);
  s += "', with args beginning with: ";
  for (size_t i = 1; i < c.size(); ++i) {
    s += '\'';
    s.append(c[i], 0, 128);
    s += "' ";
  }
  return error(std::move(s));
}

} // namespace

millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
    .count();
}

reply execute(store& db, const command& c, millis now, server_stats& stats) {
  ++stats.commands;
  auto name = lower(c[0]);
  auto n = c.size();
  // Arity as Redis: exact (n) or at least (-n).
  auto need = [&](size_t exact) { return n == exact; };
  auto least = [&](size_t min) { return n >= min; };
  if (name == "get") {
    if (!need(2))
      return arity(name);
    auto* v = db.get(c[1], now);
    return v ? bulk(*v) : null_bulk();
  }
  if (name == "set")
    return least(3) ? set(db, c, now) : arity(name);
  if (name == "ping") {
    if (n > 2)
      return arity(name);
    return n == 2 ? bulk(c[1]) : reply{simple_string{"PONG"}};
  }
  if (name == "echo")
    return need(2) ? bulk(c[1]) : arity(name);
  if (name == "del" || name == "exists") {
    if (!least(2))
      return arity(name);
    int64_t count = 0;
    for (size_t i = 1; i < n; ++i)
      count += name == "del" ? db.erase(c[i], now) : db.exists(c[i], now);
    return integer(count);
  }
  if (name == "incr" || name == "decr")
    return need(2) ? incr_by(db, c[1], name == "incr" ? 1 : -1, now) : arity(name);
  if (name == "incrby" || name == "decrby") {
    if (!need(3))
      return arity(name);
    long long by = 0;
    if (!to_int(c[2], by))
      return error(not_integer);
    if (name == "decrby") {
      if (by == std::numeric_limits<long long>::min())
        return error("ERR decrement would overflow");
      by = -by;
    }
    return incr_by(db, c[1], by, now);
  }
  if (name == "mget") {
    if (!least(2))
      return arity(name);
    std::vector<reply> out;
    out.reserve(n - 1);
    for (size_t i = 1; i < n; ++i) {
      auto* v = db.get(c[i], now);
      out.push_back(v ? bulk(*v) : null_bulk());
    }
    return array(std::move(out));
  }
  if (name == "mset") {
    if (!least(3) || n % 2 == 0)
      return arity(name);
    for (size_t i = 1; i + 1 < n; i += 2)
      db.set(c[i], c[i + 1], store::no_expiry);
    return ok();
  }
  if (name == "expire" || name == "pexpire")
    return need(3) ? expire(db, c, now, name == "expire") : arity(name);
  if (name == "ttl" || name == "pttl") {
    if (!need(2))
      return arity(name);
    auto ms = db.pttl(c[1], now);
    if (ms < 0 || name == "pttl")
      return integer(ms);
    return integer((ms + 500) / 1000); // Redis rounds to the nearest second
  }
  if (name == "keys") {
    if (!need(2))
      return arity(name);
    std::vector<reply> out;
    for (auto& k : db.keys(c[1], now))
      out.push_back(bulk(std::move(k)));
    return array(std::move(out));
  }
  if (name == "scan")
    return least(2) ? scan(db, c, now) : arity(name);
  if (name == "dbsize")
    return need(1) ? integer(static_cast<int64_t>(db.size())) : arity(name);
  if (name == "info")
    return info(db, stats, now);
  if (name == "quit")
    return ok();
  if (name == "config") { // redis-benchmark asks for "save" and "appendonly"
    if (n >= 3 && iequals(c[1], "get")) {
      std::vector<reply> out; // no persistence: say so
      for (size_t i = 2; i < n; ++i)
        if (iequals(c[i], "save") || iequals(c[i], "appendonly")) {
          out.push_back(bulk(lower(c[i])));
          out.push_back(bulk(iequals(c[i], "save") ? "" : "no"));
        }
      return array(std::move(out));
    }
    return least(2) ? error("ERR unsupported CONFIG subcommand") : arity(name);
  }
  return unknown(c);
}

caf::actor spawn_store(actio::driver_unit& unit,
                       const std::atomic<int64_t>* clients) {
  using sweep_atom = caf::atom_constant<caf::atom("kvsweep")>;
  return actio::spawn_pinned_fn(unit, [clients](actio::pinned_actor* self) {
    struct state {
      store db;
      server_stats stats;
      std::vector<std::string_view> keys; // a batch's, for prefetch
    };
    auto st = std::make_shared<state>();
    st->stats.started = now_ms();
    st->stats.clients = clients;
    constexpr auto period = std::chrono::milliseconds{100};
    self->delayed_send(self, period, sweep_atom::value);
    return caf::behavior{
      [=](const std::vector<command>& batch) {
        auto now = now_ms();
        // The first key of each command (most commands have one there):
        // their cache misses overlap before the commands run one by one.
        auto& keys = st->keys; // (reused: no allocation per batch)
        keys.clear();
        for (auto& cmd : batch)
          if (cmd.size() >= 2)
            keys.emplace_back(cmd[1]);
        st->db.prefetch(keys.data(), keys.size());
        std::vector<reply> out;
        out.reserve(batch.size());
        for (auto& cmd : batch)
          out.push_back(execute(st->db, cmd, now, st->stats));
        return out; // (encoded by the connection, on its own thread)
      },
      [=](sweep_atom) {
        st->db.sweep(now_ms());
        self->delayed_send(self, period, sweep_atom::value);
      },
    };
  });
}

} // namespace kv
