#pragma once

/// A FIFO queue that costs nothing until used: a ring over one vector,
/// growing by doubling. It replaces `std::deque` in the per-socket state of
/// the backends, because libstdc++'s deque allocates ~576 bytes when it is
/// constructed (and again when moved from), which made every idle
/// connection pay for three empty queues. Internal to the backends.
///
/// Elements must be default-constructible and move-assignable; a popped
/// slot is reset to `T{}` so it holds no buffer or promise.

#include <cstddef>
#include <utility>
#include <vector>

namespace actio::detail {

template <class T>
class fifo {
public:
  bool empty() const noexcept {
    return size_ == 0;
  }

  size_t size() const noexcept {
    return size_;
  }

  T& front() noexcept {
    return buf_[head_];
  }

  /// The `i`-th element from the front.
  T& operator[](size_t i) noexcept {
    return buf_[index(i)];
  }

  T& back() noexcept {
    return buf_[index(size_ - 1)];
  }

  void push_back(T x) {
    reserve_one();
    buf_[index(size_)] = std::move(x);
    ++size_;
  }

  template <class... Ts>
  T& emplace_back(Ts&&... xs) {
    push_back(T(std::forward<Ts>(xs)...));
    return back();
  }

  void push_front(T x) {
    reserve_one();
    head_ = head_ == 0 ? buf_.size() - 1 : head_ - 1;
    buf_[head_] = std::move(x);
    ++size_;
  }

  void pop_front() {
    buf_[head_] = T{};
    head_ = index(1);
    if (--size_ == 0) {
      head_ = 0;
      // A burst left a big ring behind: give it back.
      if (buf_.size() > shrink_above)
        std::vector<T>{}.swap(buf_);
    }
  }

  void clear() {
    std::vector<T>{}.swap(buf_);
    head_ = size_ = 0;
  }

private:
  static constexpr size_t shrink_above = 16;

  size_t index(size_t i) const noexcept {
    auto j = head_ + i;
    return j < buf_.size() ? j : j - buf_.size();
  }

  void reserve_one() {
    if (size_ < buf_.size())
      return;
    std::vector<T> bigger(buf_.empty() ? 1 : buf_.size() * 2);
    for (size_t i = 0; i < size_; ++i)
      bigger[i] = std::move(buf_[index(i)]);
    buf_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

} // namespace actio::detail
