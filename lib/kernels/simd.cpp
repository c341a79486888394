#include "kernels/simd.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lq::kernels {

namespace {

int from_environment() {
  const char* value = std::getenv("LQ_SIMD");
  if (value == nullptr || *value == '\0') return static_cast<int>(SimdLevel::kAvx512);
  for (SimdLevel level : {SimdLevel::kPortable, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (std::strcmp(value, simd_level_name(level)) == 0) return static_cast<int>(level);
  }
  std::fprintf(stderr, "libquant: LQ_SIMD=%s is not one of portable, avx2, avx512; ignored\n", value);
  return static_cast<int>(SimdLevel::kAvx512);
}

std::atomic<int>& limit() {
  static std::atomic<int> level{from_environment()};
  return level;
}

}  // namespace

SimdLevel simd_limit() { return static_cast<SimdLevel>(limit().load(std::memory_order_relaxed)); }

void set_simd_limit(SimdLevel level) { limit().store(static_cast<int>(level), std::memory_order_relaxed); }

std::vector<SimdLevel> supported_simd_levels() {
  __builtin_cpu_init();
  std::vector<SimdLevel> levels{SimdLevel::kPortable};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) levels.push_back(SimdLevel::kAvx2);
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vnni")) {
    levels.push_back(SimdLevel::kAvx512);
  }
  return levels;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kPortable: return "portable";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kAvx512: return "avx512";
  }
  return "?";
}

}  // namespace lq::kernels
