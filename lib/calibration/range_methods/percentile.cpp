// percentile: the `percentile` quantile of |x| (Kneron's "percentage").
//
// Asymmetric: the (1-p)/2 tail is cut from each side of the signed distribution, so that
// both variants drop the same share of the values.
#include <fmt/format.h>

#include "calibration/range_methods/builtin.hpp"
#include "calibration/range_methods/clipping.hpp"

namespace lq::range_methods {

namespace {

Range percentile_range(const TensorStats& stats, const RangeOptions& o) {
  if (o.percentile >= 1.0) return finish(stats.min, stats.max, stats, o.symmetric);
  if (o.symmetric) {
    const double a = magnitude_bins(stats.histogram).quantile(o.percentile);
    return finish(-a, a, stats, true);
  }
  const Bins bins = signed_bins(stats.histogram);
  const double tail = (1.0 - o.percentile) / 2.0;
  return finish(bins.quantile(tail), bins.quantile(1.0 - tail), stats, false);
}

void check_percentile(const RangeOptions& o) {
  if (!(o.percentile > 0.0 && o.percentile <= 1.0)) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("range options: percentile is {}, expected a fraction in (0, 1], e.g. 0.999",
                            o.percentile));
  }
}

}  // namespace

RangeMethodInfo percentile_range_method() {
  RangeMethodInfo m;
  m.name = "percentile";
  m.aliases = {"percentage"};
  m.choose = percentile_range;
  m.check = check_percentile;
  m.auto_candidate = true;
  return m;
}

}  // namespace lq::range_methods
