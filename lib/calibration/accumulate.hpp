// Statistics accumulation with an optional parallel-for (the Calibrator's threads).
#pragma once

#include "libquant/calibrator.hpp"

#include <cstdint>
#include <functional>

namespace lq::calibration {

// Runs fn(begin, end) over disjoint pieces covering [0, n), possibly on several threads.
using ParallelFor = std::function<void(int64_t n, const std::function<void(int64_t, int64_t)>& fn)>;

// lq::accumulate, with the scan and the binning split over `parallel` (may be empty). The
// statistics are the same, bit for bit, with or without it and for any thread count.
void accumulate(TensorStats& stats, const Tensor& data, const ParallelFor& parallel);

}  // namespace lq::calibration
