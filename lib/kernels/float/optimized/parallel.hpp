// How finely the optimized kernels split work over the thread pool: waking
// the workers costs microseconds, so chunks get at least kMinChunkWork units of
// work (about one multiply-add or one copied float each; 2^17 is some 10 us of
// AVX-512 multiply-adds, several times a wake-up) and small problems run
// on the calling thread.
#pragma once

#include <algorithm>
#include <cstdint>

namespace lq::kernels::optimized {

constexpr int64_t kMinChunkWork = int64_t{1} << 17;

// The parallel_for grain for items that each cost `work_per_item` units.
inline int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kMinChunkWork / std::max<int64_t>(1, work_per_item));
}

}  // namespace lq::kernels::optimized
