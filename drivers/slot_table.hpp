#pragma once

/// A generational slab: the registry behind socket and file ids (mio's
/// Slab + Token). An id is (generation << 32) | index; a slot's generation
/// changes when it is freed, so an id that outlived its socket or file never
/// reaches whatever took the slot next.
///
/// `Slot` needs `int fd` (-1 while free) and `uint32_t gen`, and must be
/// default-constructible (a freed slot is reset to `Slot{}`).

#include <cstdint>
#include <vector>

namespace actio {

template <class Slot>
class slot_table {
public:
  /// Takes a free slot (or appends one) and returns its index.
  uint32_t allocate() {
    uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    ++live_;
    return index;
  }

  /// Resets the slot, bumps its generation and returns it to the free list.
  void release(uint32_t index) {
    auto next = slots_[index].gen + 1;
    slots_[index] = Slot{};
    slots_[index].gen = next == 0 ? 1 : next;
    free_.push_back(index);
    --live_;
  }

  /// Returns an allocated slot back to the free list without use (its
  /// generation is kept: no id was handed out).
  void undo(uint32_t index) {
    slots_[index] = Slot{};
    free_.push_back(index);
    --live_;
  }

  uint64_t id_of(uint32_t index) const noexcept {
    return (uint64_t{slots_[index].gen} << 32) | index;
  }

  static uint32_t index_of(uint64_t id) noexcept {
    return static_cast<uint32_t>(id & 0xFFFFFFFFu);
  }

  /// The slot `id` names, if it is in use and of the same generation.
  Slot* find(uint64_t id) noexcept {
    auto index = index_of(id);
    if (index >= slots_.size())
      return nullptr;
    auto& s = slots_[index];
    return s.fd >= 0 && s.gen == static_cast<uint32_t>(id >> 32) ? &s : nullptr;
  }

  Slot& operator[](uint32_t index) noexcept {
    return slots_[index];
  }

  /// Number of slots, used or not (for iteration).
  uint32_t size() const noexcept {
    return static_cast<uint32_t>(slots_.size());
  }

  /// Number of slots in use.
  size_t live() const noexcept {
    return live_;
  }

private:
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

} // namespace actio
