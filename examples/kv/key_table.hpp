#pragma once
// actio-kv's key table: string keys to entries, open addressing with linear
// probing. A slot holds the key's full hash and a pointer to a node that
// carries the key's bytes inline after the entry, so a lookup touches the
// slot array and one node. (std::unordered_map touches a bucket, the node
// before, the node and, for a key over 15 bytes, the key's own buffer: the
// kv profile under redis-benchmark showed 24% of the server's time in that
// lookup, mostly cache misses.)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

namespace kv {

template <class Entry>
class key_table {
public:
  key_table() = default;
  key_table(const key_table&) = delete;
  key_table& operator=(const key_table&) = delete;
  ~key_table() {
    for (auto& s : slots_)
      if (s.n)
        destroy(s.n);
  }

  /// The entry of `key`, or null.
  Entry* find(std::string_view key) noexcept {
    if (slots_.empty())
      return nullptr;
    auto* n = slots_[probe(key, hash(key))].n;
    return n ? &n->entry : nullptr;
  }

  /// Warms the cache for lookups of `keys` about to come: every key's slot
  /// first, then the nodes those slots point to, so that the cache misses
  /// of a batch of random keys overlap instead of following one another
  /// (the lookups were a fifth of actio-kv's time under redis-benchmark
  /// -P 16 with 100,000 keys). Changes nothing.
  void prefetch(const std::string_view* keys, size_t n) const noexcept {
    if (slots_.empty())
      return;
    constexpr size_t chunk = 32;
    uint64_t h[chunk];
    for (size_t at = 0; at < n; at += chunk) {
      auto m = std::min(chunk, n - at);
      for (size_t i = 0; i < m; ++i) {
        h[i] = hash(keys[at + i]);
        __builtin_prefetch(&slots_[h[i] & mask_]);
      }
      for (size_t i = 0; i < m; ++i) {
        auto& s = slots_[h[i] & mask_];
        if (s.n && s.hash == h[i])
          __builtin_prefetch(s.n);
      }
    }
  }

  /// The entry of `key`, made (value-initialised) if missing; true if made.
  std::pair<Entry*, bool> try_emplace(std::string_view key) {
    if ((size_ + 1) * 4 > slots_.size() * 3) // load factor <= 3/4
      grow();
    auto h = hash(key);
    auto i = probe(key, h);
    if (slots_[i].n)
      return {&slots_[i].n->entry, false};
    slots_[i] = {h, make(key)};
    ++size_;
    return {&slots_[i].n->entry, true};
  }

  /// Removes `key`; false if it was not there.
  bool erase(std::string_view key) noexcept {
    if (slots_.empty())
      return false;
    auto i = probe(key, hash(key));
    if (!slots_[i].n)
      return false;
    destroy(slots_[i].n);
    slots_[i].n = nullptr;
    --size_;
    close_gap(i);
    return true;
  }

  size_t size() const noexcept {
    return size_;
  }

  /// Calls `f(key, entry)` for every key, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (auto& s : slots_)
      if (s.n)
        f(s.n->key(), static_cast<const Entry&>(s.n->entry));
  }

private:
  struct node {
    Entry entry;
    size_t size;
    std::string_view key() const noexcept {
      return {reinterpret_cast<const char*>(this + 1), size};
    }
  };
  struct slot {
    uint64_t hash = 0;
    node* n = nullptr; ///< null: empty
  };

  static uint64_t hash(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key);
  }

  /// The slot holding `key`, else the empty slot ending its probe run.
  /// @pre the table has slots (and, being at most 3/4 full, an empty one)
  size_t probe(std::string_view key, uint64_t h) const noexcept {
    size_t i = h & mask_;
    while (slots_[i].n
           && !(slots_[i].hash == h && slots_[i].n->key() == key))
      i = (i + 1) & mask_;
    return i;
  }

  static node* make(std::string_view key) {
    void* mem = ::operator new(sizeof(node) + key.size());
    auto* n = new (mem) node{Entry{}, key.size()};
    std::memcpy(reinterpret_cast<char*>(n + 1), key.data(), key.size());
    return n;
  }

  static void destroy(node* n) noexcept {
    n->~node();
    ::operator delete(n);
  }

  /// Backward-shift deletion: moves later entries of the probe run into
  /// the emptied slot `i` where their home allows, so that no lookup stops
  /// early at a hole (no tombstones).
  void close_gap(size_t i) noexcept {
    for (size_t j = (i + 1) & mask_; slots_[j].n; j = (j + 1) & mask_) {
      size_t home = slots_[j].hash & mask_;
      // Slot j may move to i unless its home lies cyclically in (i, j].
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays)
        continue;
      slots_[i] = slots_[j];
      slots_[j].n = nullptr;
      i = j;
    }
  }

  void grow() {
    std::vector<slot> old(slots_.empty() ? 16 : slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (auto& s : old) {
      if (!s.n)
        continue;
      size_t i = s.hash & mask_;
      while (slots_[i].n)
        i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

} // namespace kv
