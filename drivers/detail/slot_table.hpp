#pragma once

/// A generational slab: the registry behind socket and file ids (mio's
/// Slab + Token), one kind for all three tables (the drivers' sockets,
/// io_uring's files, the file engines' files). An id is
/// (generation << 32) | index; a slot's generation changes when it is
/// released, so an id that outlived its socket or file never reaches
/// whatever took the slot next.
///
/// The table keeps each slot's generation and whether it is in use; `Slot`
/// is the caller's state, default-constructible, reset to `Slot{}` on
/// release. A `Slot` with a `std::string path` keeps it past release until
/// the slot is reused, so an error about a just-closed id can still name
/// the file (`named`).

#include <concepts>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace actio::detail {

template <class Slot>
class slot_table {
public:
  /// Takes a free slot (or appends one), reset, and returns its index.
  uint32_t allocate() {
    uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
      entries_[index].slot = Slot{}; // drops a kept path
    } else {
      index = static_cast<uint32_t>(entries_.size());
      entries_.emplace_back();
    }
    entries_[index].used = true;
    ++live_;
    return index;
  }

  /// Resets the slot (keeping its path, if it has one), bumps its
  /// generation and returns it to the free list.
  void release(uint32_t index) {
    auto& e = entries_[index];
    if constexpr (keeps_path) {
      auto path = std::move(e.slot.path);
      e.slot = Slot{};
      e.slot.path = std::move(path);
    } else {
      e.slot = Slot{};
    }
    e.gen = next(e.gen);
    e.used = false;
    free_.push_back(index);
    --live_;
  }

  /// Returns an allocated slot to the free list without use (its
  /// generation is kept: no id was handed out).
  void undo(uint32_t index) {
    auto& e = entries_[index];
    e.slot = Slot{};
    e.used = false;
    free_.push_back(index);
    --live_;
  }

  uint64_t id_of(uint32_t index) const noexcept {
    return (uint64_t{entries_[index].gen} << 32) | index;
  }

  static uint32_t index_of(uint64_t id) noexcept {
    return static_cast<uint32_t>(id & 0xFFFFFFFFu);
  }

  /// The slot `id` names, if it is in use and of the same generation.
  Slot* find(uint64_t id) noexcept {
    auto index = index_of(id);
    if (index >= entries_.size())
      return nullptr;
    auto& e = entries_[index];
    return e.used && e.gen == gen_of(id) ? &e.slot : nullptr;
  }

  /// The slot `id` named, in use or released and not reused since (its
  /// path kept); null otherwise. For error texts.
  const Slot* named(uint64_t id) const noexcept {
    auto index = index_of(id);
    if (index >= entries_.size())
      return nullptr;
    auto& e = entries_[index];
    auto gen = gen_of(id);
    if (e.used ? e.gen == gen : next(gen) == e.gen)
      return &e.slot;
    return nullptr;
  }

  /// The slot `id` names if it is in use and not closing: for the file
  /// tables, whose `Slot` has a `closing` flag (set by close_file; no new
  /// requests from then on).
  Slot* find_open(uint64_t id) noexcept
    requires requires(Slot& s) { bool{s.closing}; }
  {
    auto* s = find(id);
    return s != nullptr && !s->closing ? s : nullptr;
  }

  /// For error texts: the path of the file `id` named (`named`), else the
  /// id ("file id 42").
  std::string name_of(uint64_t id) const
    requires requires(const Slot& s) { s.path.empty(); }
  {
    if (const auto* s = named(id); s != nullptr && !s->path.empty())
      return s->path;
    return "file id " + std::to_string(id);
  }

  /// Whether slot `index` is in use (between `allocate` and `release`).
  bool in_use(uint32_t index) const noexcept {
    return entries_[index].used;
  }

  Slot& operator[](uint32_t index) noexcept {
    return entries_[index].slot;
  }

  const Slot& operator[](uint32_t index) const noexcept {
    return entries_[index].slot;
  }

  /// Number of slots, used or not (for iteration).
  uint32_t size() const noexcept {
    return static_cast<uint32_t>(entries_.size());
  }

  /// Number of slots in use.
  size_t live() const noexcept {
    return live_;
  }

private:
  static constexpr bool keeps_path = requires(Slot& s) {
    requires std::same_as<decltype(s.path), std::string>;
  };

  struct entry {
    Slot slot;
    uint32_t gen = 1;
    bool used = false;
  };

  static uint32_t gen_of(uint64_t id) noexcept {
    return static_cast<uint32_t>(id >> 32);
  }

  /// The generation after `gen`; 0 is skipped (no id is 0).
  static uint32_t next(uint32_t gen) noexcept {
    return gen + 1 == 0 ? 1 : gen + 1;
  }

  std::vector<entry> entries_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

} // namespace actio::detail
