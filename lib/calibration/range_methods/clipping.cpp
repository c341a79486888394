// The clip searches' shared pieces (clipping.hpp).
#include "calibration/range_methods/clipping.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lq::range_methods {

namespace {

// Half-width given to a tensor that is zero everywhere: any scale represents it exactly,
// but a zero-width range has no scale at all.
constexpr double kZeroDataHalfWidth = 1e-6;

// Expected squared error of quantize-dequantize over [lo, hi] with `bits`: rounding inside
// the range (step^2/12 per value) plus the distance of each clipped value to the range.
class ErrorModel {
 public:
  ErrorModel(const Bins& bins, int bits) : bins_(bins), steps_(level_count(bits) - 1.0) {}

  // Clips tried on one side: `count` points from `from` to `to` (both included).
  struct Side {
    std::vector<double> clip;
    std::vector<double> outside;  // values beyond the clip
    std::vector<double> excess;   // their squared distance to it
  };
  Side upper_side(double from, double to, int count) const { return side(from, to, count, true); }
  Side lower_side(double from, double to, int count) const { return side(from, to, count, false); }

  // [-a, a] for bins of |x|: the upper side's clips are the candidate a.
  double least_error_clip(const Side& magnitude) const {
    double best = magnitude.clip.back(), least = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < magnitude.clip.size(); ++k) {
      const double e = error(magnitude.outside[k], 2.0 * magnitude.clip[k], magnitude.excess[k]);
      if (e < least) {
        least = e;
        best = magnitude.clip[k];
      }
    }
    return best;
  }

  Range least_error_range(const Side& lower, const Side& upper) const {
    Range best{lower.clip.front(), upper.clip.back()};
    double least = std::numeric_limits<double>::infinity();
    for (size_t u = 0; u < upper.clip.size(); ++u) {
      for (size_t l = 0; l < lower.clip.size(); ++l) {
        const double e = error(lower.outside[l] + upper.outside[u], upper.clip[u] - lower.clip[l],
                               lower.excess[l] + upper.excess[u]);
        if (e < least) {
          least = e;
          best = {lower.clip[l], upper.clip[u]};
        }
      }
    }
    return best;
  }

 private:
  // `outside` values clipped with squared distance `excess`, the rest rounded to a grid of
  // `width` / steps.
  double error(double outside, double width, double excess) const {
    if (width <= 0.0) return std::numeric_limits<double>::infinity();
    const double step = width / steps_;
    return (bins_.total() - outside) * step * step / 12.0 + excess;
  }

  Side side(double from, double to, int count, bool upper) const {
    Side s;
    const int points = from == to ? 1 : count;
    for (int k = 0; k < points; ++k) {
      const double t = points == 1 ? to : from + (to - from) * k / (points - 1);
      s.clip.push_back(t);
      s.outside.push_back(upper ? bins_.count_above(t) : bins_.count_below(t));
      s.excess.push_back(upper ? bins_.squared_excess_above(t) : bins_.squared_excess_below(t));
    }
    return s;
  }

  const Bins& bins_;
  double steps_;
};

}  // namespace

double max_magnitude(const TensorStats& s) { return std::max(std::fabs(s.min), std::fabs(s.max)); }

double level_count(int bits) { return std::ldexp(1.0, bits); }

Range finish(double lo, double hi, const TensorStats& stats, bool symmetric) {
  if (symmetric) {
    const double a = std::min(std::max(-lo, hi), max_magnitude(stats));
    return a > 0.0 ? Range{-a, a} : Range{-kZeroDataHalfWidth, kZeroDataHalfWidth};
  }
  lo = std::min(std::max(lo, std::min(stats.min, 0.0)), 0.0);
  hi = std::max(std::min(hi, std::max(stats.max, 0.0)), 0.0);
  if (hi - lo <= 0.0) hi = kZeroDataHalfWidth;
  return {lo, hi};
}

Bins::Bins(std::vector<uint64_t> counts, double first_edge, double width)
    : counts_(std::move(counts)), first_edge_(first_edge), width_(width), below_(counts_.size() + 1, 0.0) {
  for (size_t i = 0; i < counts_.size(); ++i) below_[i + 1] = below_[i] + counts_[i];
}

double Bins::quantile(double q) const {
  const double target = q * total();
  size_t i = 0;
  while (i + 1 < counts_.size() && (counts_[i] == 0 || below_[i + 1] < target)) ++i;
  const double inside = counts_[i] ? (target - below_[i]) / counts_[i] : 0.0;
  return edge(i) + std::clamp(inside, 0.0, 1.0) * width_;
}

double Bins::count_below(double t) const {
  const Position p = locate(t);
  return below_[p.bin] + counts_[p.bin] * p.fraction;
}

double Bins::squared_excess_above(double t) const {
  const Position p = locate(t);
  const double part = width_ * (1.0 - p.fraction);
  double sum = counts_[p.bin] * (1.0 - p.fraction) * part * part / 3.0;
  for (size_t i = p.bin + 1; i < counts_.size(); ++i) {
    const double d = center(i) - t;
    sum += counts_[i] * (d * d + width_ * width_ / 12.0);
  }
  return sum;
}

double Bins::squared_excess_below(double t) const {
  const Position p = locate(t);
  const double part = width_ * p.fraction;
  double sum = counts_[p.bin] * p.fraction * part * part / 3.0;
  for (size_t i = 0; i < p.bin; ++i) {
    const double d = t - center(i);
    sum += counts_[i] * (d * d + width_ * width_ / 12.0);
  }
  return sum;
}

Bins::Position Bins::locate(double t) const {
  const double x = (t - first_edge_) / width_;
  const double last = static_cast<double>(counts_.size());
  if (!(x > 0.0)) return {0, 0.0};
  if (x >= last) return {counts_.size() - 1, 1.0};
  const auto bin = static_cast<size_t>(x);
  return {bin, x - static_cast<double>(bin)};
}

Bins signed_bins(const Histogram& h) { return Bins(h.counts(), -h.limit(), h.bin_width()); }
Bins magnitude_bins(const Histogram& h) { return Bins(h.abs_counts(), 0.0, h.bin_width()); }

double least_error_clip(const TensorStats& stats, int bits, double from, double to) {
  const Bins magnitudes = magnitude_bins(stats.histogram);
  const ErrorModel model(magnitudes, bits);
  return model.least_error_clip(model.upper_side(from, to, kSymmetricGrid));
}

Range least_error_range(const TensorStats& stats, int bits, double lower_from, double lower_to,
                        double upper_from, double upper_to) {
  const Bins bins = signed_bins(stats.histogram);
  const ErrorModel model(bins, bits);
  return model.least_error_range(model.lower_side(lower_from, lower_to, kAsymmetricGrid),
                                 model.upper_side(upper_from, upper_to, kAsymmetricGrid));
}

}  // namespace lq::range_methods
