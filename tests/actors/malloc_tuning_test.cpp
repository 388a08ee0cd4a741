// actio.io.malloc-retain: glibc keeps freed memory instead of trimming it
// and faulting it back in on the next allocation. Each case runs in a
// forked child (glibc's settings are process-wide and cannot be read
// back): the child resets glibc's defaults, does what the case says, frees
// a 2 MiB block it touched and reports whether the resident set dropped.

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#include <caf/actor_system.hpp>
#include <caf/settings.hpp>
#include <gtest/gtest.h>

#include "actio/actors/config.hpp"
#include "actio/actors/malloc_tuning.hpp"
#include "actio/actors/runtime.hpp"

namespace {

constexpr size_t block = size_t{2} << 20;

/// Exact: smaps_rollup walks the page tables (statm's counters are per-CPU
/// approximations that lag behind by hundreds of KiB).
long resident_bytes() {
  long kb = -1;
  if (FILE* f = std::fopen("/proc/self/smaps_rollup", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr)
      if (std::sscanf(line, "Rss: %ld", &kb) == 1)
        break;
    std::fclose(f);
  }
  return kb * 1024;
}

/// 0: the freed block stayed resident; 1: it went back to the kernel;
/// 2: the child failed.
int freed_block_fate(const std::function<void()>& setup) {
  pid_t pid = fork();
  if (pid == 0) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024); // glibc's defaults
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    setup();
    auto* p = static_cast<char*>(std::malloc(block));
    if (p == nullptr)
      _exit(2);
    std::memset(p, 1, block);
    __asm__ volatile("" : : "r"(p) : "memory"); // not elided with the free
    auto before = resident_bytes();
    std::free(p);
    auto after = resident_bytes();
    if (before < 0 || after < 0)
      _exit(2);
    _exit(before - after >= static_cast<long>(block / 2) ? 1 : 0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return 2;
  return WEXITSTATUS(status);
}

bool sanitized() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
  return true;
#  endif
#endif
  return false;
}

} // namespace

TEST(malloc_tuning, glibc_defaults_hand_a_freed_block_back) {
  if (sanitized())
    GTEST_SKIP() << "the sanitizer's allocator ignores glibc's settings";
  EXPECT_EQ(freed_block_fate([] {}), 1);
}

TEST(malloc_tuning, tuned_a_freed_block_stays_for_reuse) {
  if (sanitized())
    GTEST_SKIP() << "the sanitizer's allocator ignores glibc's settings";
  EXPECT_EQ(freed_block_fate([] { actio::tune_malloc(actio::default_malloc_retain); }), 0);
  EXPECT_EQ(freed_block_fate([] { actio::tune_malloc(0); }), 1) << "0 must change nothing";
}

TEST(malloc_tuning, the_runtime_applies_actio_io_malloc_retain) {
  if (sanitized())
    GTEST_SKIP() << "the sanitizer's allocator ignores glibc's settings";
  auto with_runtime = [](size_t retain, bool given) {
    return [=] {
      actio::config cfg;
      if (given)
        caf::put(cfg.content, "actio.io.malloc-retain", retain);
      caf::actor_system sys{cfg};
      auto rt = actio::runtime::start(sys);
      if (!rt)
        _exit(2);
      (*rt)->shutdown();
    };
  };
  EXPECT_EQ(freed_block_fate(with_runtime(0, false)), 0) << "the default tunes";
  EXPECT_EQ(freed_block_fate(with_runtime(0, true)), 1) << "0 leaves glibc alone";
}
