// Which SIMD code paths the optimized kernels may take: every kernel family (float sgemm and
// depthwise, int8 matrix and depthwise, int8 element-wise) picks its best path up to this
// level among those the CPU runs. Tests force each level in turn to check that integer
// outputs are bit-identical; users can set LQ_SIMD=portable|avx2|avx512 in the environment
// (read once, at the first kernel call) to rule out a path.
#pragma once

#include <string>
#include <vector>

namespace lq::kernels {

enum class SimdLevel { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

// LQ_SIMD if set (an unknown value is ignored with a message on stderr), else kAvx512.
SimdLevel simd_limit();
void set_simd_limit(SimdLevel level);
// The levels this CPU runs, lowest first (kPortable always; kAvx2 with AVX2+FMA; kAvx512
// with AVX-512 F/BW/VL/DQ/VNNI, what the integer AVX-512 paths need).
std::vector<SimdLevel> supported_simd_levels();
const char* simd_level_name(SimdLevel level);

}  // namespace lq::kernels
