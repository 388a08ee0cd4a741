#pragma once

// What actio-file-bench's readers share: the block size, the offsets (the
// same sequence for every reader) and a result.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace read_bench {

using clock_type = std::chrono::steady_clock;
constexpr uint64_t block = 4096;

/// splitmix64, one per in-flight slot.
struct offset_gen {
  uint64_t state;
  uint64_t blocks;

  offset_gen(uint64_t seed, size_t slot, uint64_t blocks)
    : state(seed * 0x9E3779B97F4A7C15ull + slot * 0xD1B54A32D192ED03ull + 1),
      blocks(blocks) {
  }

  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (z % blocks) * block;
  }
};

/// CPU time of the whole process (every thread), in seconds.
inline double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct result {
  uint64_t reads = 0;
  double seconds = 0;
  double cpu = 0; ///< process CPU seconds over the same interval

  double cpu_us_per_read() const {
    return reads > 0 ? cpu * 1e6 / static_cast<double>(reads) : 0;
  }

  double iops() const {
    return seconds > 0 ? static_cast<double>(reads) / seconds : 0;
  }

  double mib_per_s() const {
    return iops() * static_cast<double>(block) / (1024.0 * 1024.0);
  }
};

} // namespace read_bench
