// max: the data's min and max (the hull, widened to include 0).
#include "calibration/range_methods/builtin.hpp"
#include "calibration/range_methods/clipping.hpp"

namespace lq::range_methods {

RangeMethodInfo max_range_method() {
  RangeMethodInfo m;
  m.name = "max";
  m.choose = [](const TensorStats& stats, const RangeOptions& o) {
    return finish(stats.min, stats.max, stats, o.symmetric);
  };
  m.auto_candidate = true;
  return m;
}

}  // namespace lq::range_methods
