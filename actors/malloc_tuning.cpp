#include "actio/actors/malloc_tuning.hpp"

#include <climits>

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

namespace actio {

void tune_malloc(size_t retain) noexcept {
#if defined(__GLIBC__)
  if (retain == 0)
    return;
  auto clamp = [](size_t n) {
    return static_cast<int>(n > size_t{INT_MAX} ? size_t{INT_MAX} : n);
  };
  mallopt(M_MMAP_THRESHOLD, clamp(tuned_mmap_threshold));
  mallopt(M_TRIM_THRESHOLD, clamp(retain));
#else
  (void) retain;
#endif
}

} // namespace actio
