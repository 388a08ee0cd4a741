#pragma once

/// A downstream manager that moves elements to their receiver instead of
/// copying them.
///
/// CAF 0.17's `broadcast_downstream_manager` (the default of sources and
/// stages) fans every element out from its central buffer to each path's
/// buffer by *copy* (`st.buf.insert(..., chunk.begin(), chunk.end())`),
/// also when there is only one path, and then destroys the original. For
/// chunk and batch elements that is one more allocation and memcpy of every
/// byte per hop, and the copy is freed on the receiver's thread while the
/// original is freed here (allocator churn across threads). Measured in
/// bench/lines: about a third of the pipeline's CPU.
///
/// With exactly one path (every actio source and stage: a stream goes to one
/// receiver) this manager moves the elements; with several it behaves as
/// the broadcast manager (copies). Credit, batching and closing paths are
/// handled as in CAF's `emit_batches_impl`.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include <caf/broadcast_downstream_manager.hpp>
#include <caf/outbound_path.hpp>

namespace actio::io::detail {

template <class T>
class move_downstream_manager : public caf::broadcast_downstream_manager<T> {
public:
  using super = caf::broadcast_downstream_manager<T>;

  using super::super;

  void emit_batches() override {
    if (!emit_one(false))
      super::emit_batches();
  }

  void force_emit_batches() override {
    if (!emit_one(true))
      super::force_emit_batches();
  }

private:
  /// The single-path case; false if there is not exactly one path.
  bool emit_one(bool force_underfull) {
    auto& paths = this->paths_.container();
    auto& states = this->states().container();
    if (paths.size() != 1 || states.size() != 1)
      return false;
    auto& path = *paths.front().second;
    auto& cache = states.front().second.buf;
    if (!path.closing) { // a closing path takes no new data
      auto credit = static_cast<size_t>(std::max(path.open_credit, int32_t{0}));
      auto room = credit > cache.size() ? credit - cache.size() : size_t{0};
      auto& buf = this->buf_;
      auto n = std::min(room, buf.size());
      if (n > 0) {
        auto first = buf.begin();
        auto last = first + static_cast<std::ptrdiff_t>(n);
        cache.insert(cache.end(), std::make_move_iterator(first),
                     std::make_move_iterator(last));
        buf.erase(first, last);
      }
    }
    path.emit_batches(this->self(), cache, force_underfull || path.closing);
    return true;
  }
};

} // namespace actio::io::detail
