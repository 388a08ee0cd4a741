#include "actio/io/text_pool.hpp"

#include <mutex>
#include <vector>

namespace actio::io::text_pool {

namespace {

constexpr size_t max_entries = max_cached_bytes / min_capacity;

struct cache {
  cache() {
    bufs.reserve(max_entries); // give() never allocates
  }
  std::mutex mtx;
  std::vector<std::string> bufs; // most recently given last (warm)
  size_t bytes = 0;
};

cache& the_cache() {
  // Never destroyed: batches may still be destroyed during static
  // destruction.
  static auto* c = new cache;
  return *c;
}

} // namespace

std::string take(size_t size) {
  std::string out;
  if (size >= min_capacity && size <= max_capacity) {
    auto& c = the_cache();
    std::lock_guard guard{c.mtx};
    for (auto i = c.bufs.size(); i > 0; --i) {
      auto& b = c.bufs[i - 1];
      if (b.capacity() >= size) {
        out.swap(b);
        b.swap(c.bufs.back()); // (a no-op when b is the last one)
        c.bufs.pop_back();
        c.bytes -= out.capacity();
        return out;
      }
    }
  }
  out.reserve(size);
  return out;
}

void give(std::string& buf) noexcept {
  std::string mine;
  mine.swap(buf);
  auto cap = mine.capacity();
  if (cap < min_capacity || cap > max_capacity)
    return; // freed here
  mine.clear();
  auto& c = the_cache();
  std::lock_guard guard{c.mtx};
  if (c.bytes + cap <= max_cached_bytes && c.bufs.size() < max_entries) {
    c.bufs.push_back(std::move(mine));
    c.bytes += cap;
  }
}

size_t cached_bytes() noexcept {
  auto& c = the_cache();
  std::lock_guard guard{c.mtx};
  return c.bytes;
}

} // namespace actio::io::text_pool
