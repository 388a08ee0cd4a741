#pragma once

// A thread-safe list that tests fill from actors and wait on with a bound
// (closing reasons, received events): `push` from any thread, `wait(n)`
// until at least n arrived or the timeout passed.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

namespace actio::test {

template <class T>
struct collector {
  std::mutex mx;
  std::condition_variable cv;
  std::vector<T> xs;

  void push(T x) {
    std::lock_guard<std::mutex> g{mx};
    xs.push_back(std::move(x));
    cv.notify_all();
  }

  /// True once `n` items arrived; false after `timeout` without them.
  bool wait(size_t n,
            std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
    std::unique_lock<std::mutex> g{mx};
    return cv.wait_for(g, timeout, [&] { return xs.size() >= n; });
  }
};

} // namespace actio::test
