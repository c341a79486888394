// mse: the clip of least expected quantization error (rounding inside, clipping outside).
#include <algorithm>

#include "calibration/range_methods/builtin.hpp"
#include "calibration/range_methods/clipping.hpp"

namespace lq::range_methods {

namespace {

Range mse_range(const TensorStats& stats, const RangeOptions& o) {
  if (o.symmetric) {
    const double a_max = max_magnitude(stats);
    const double a = least_error_clip(stats, o.bits, a_max / kSymmetricGrid, a_max);
    return finish(-a, a, stats, true);
  }
  const double lo = std::min(stats.min, 0.0), hi = std::max(stats.max, 0.0);
  const Range r = least_error_range(stats, o.bits, lo, 0.0, 0.0, hi);
  return finish(r.min, r.max, stats, false);
}

}  // namespace

RangeMethodInfo mse_range_method() {
  RangeMethodInfo m;
  m.name = "mse";
  m.choose = mse_range;
  m.auto_candidate = true;
  return m;
}

}  // namespace lq::range_methods
