// mmse: Kneron's SNR search. S (the signal power) does not depend on the clip, so the clip
// of highest S/N is the one of least quantization noise N, searched only from the
// (1 - search_range) quantile up to the max; outlier_factor then widens it.
#include <fmt/format.h>

#include <algorithm>

#include "calibration/range_methods/builtin.hpp"
#include "calibration/range_methods/clipping.hpp"

namespace lq::range_methods {

namespace {

Range mmse_range(const TensorStats& stats, const RangeOptions& o) {
  Range r;
  if (o.symmetric) {
    const double a_max = max_magnitude(stats);
    const double from = magnitude_bins(stats.histogram).quantile(1.0 - o.search_range);
    const double a = least_error_clip(stats, o.bits, std::min(from, a_max), a_max);
    r = {-a, a};
  } else {
    // Each side searches its share of the tail, as the asymmetric percentile cuts it.
    const Bins bins = signed_bins(stats.histogram);
    const double lo = std::min(stats.min, 0.0), hi = std::max(stats.max, 0.0);
    const double tail = o.search_range / 2.0;
    const double lower_to = std::clamp(bins.quantile(tail), lo, 0.0);
    const double upper_from = std::clamp(bins.quantile(1.0 - tail), 0.0, hi);
    r = least_error_range(stats, o.bits, lo, lower_to, upper_from, hi);
  }
  return finish(r.min * o.outlier_factor, r.max * o.outlier_factor, stats, o.symmetric);
}

void check_mmse(const RangeOptions& o) {
  auto fail = [](const std::string& what) {
    throw Error(StatusCode::kInvalidArgument, "range options: " + what);
  };
  if (!(o.search_range >= 0.0 && o.search_range < 1.0)) {
    fail(fmt::format("search_range is {}, expected a fraction in [0, 1), e.g. 0.001", o.search_range));
  }
  if (!(o.outlier_factor >= 1.0)) {
    fail(fmt::format("outlier_factor is {}, expected 1 or more (2 keeps more outliers)", o.outlier_factor));
  }
}

}  // namespace

RangeMethodInfo mmse_range_method() {
  RangeMethodInfo m;
  m.name = "mmse";
  m.choose = mmse_range;
  m.check = check_mmse;
  m.auto_candidate = true;
  return m;
}

}  // namespace lq::range_methods
