// Range methods: from a tensor's statistics to the range it is quantized over.
//
// All histogram methods treat the values inside a bin as spread uniformly over it.
// Asymmetric variants (documented per method below) clip the negative and positive sides
// separately; every result is clamped to the data's hull widened to include 0.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <numeric>

#include "libquant/calibrator.hpp"

namespace lq {

namespace {

// Half-width given to a tensor that is zero everywhere: any scale represents it exactly,
// but a zero-width range has no scale at all.
constexpr double kZeroDataHalfWidth = 1e-6;
// Candidate clips per side for the error searches (a clip per grid point).
constexpr int kSymmetricGrid = 1024;
constexpr int kAsymmetricGrid = 512;
// KL smoothing of empty bins (TensorRT / MXNet use the same value, on counts).
constexpr double kSmoothingEpsilon = 1e-4;

constexpr struct {
  RangeMethod method;
  const char* name;
} kMethodNames[] = {
    {RangeMethod::kMax, "max"},   {RangeMethod::kPercentile, "percentile"},
    {RangeMethod::kKL, "kl"},     {RangeMethod::kMSE, "mse"},
    {RangeMethod::kMMSE, "mmse"}, {RangeMethod::kAuto, "auto"},
    {RangeMethod::kSkip, "skip"},
};

void check_options(const RangeOptions& o) {
  auto fail = [](const std::string& what) {
    throw Error(StatusCode::kInvalidArgument, "range options: " + what);
  };
  if (o.bits < 2 || o.bits > 32) fail(fmt::format("bits is {}, expected 2 to 32", o.bits));
  if (o.method == RangeMethod::kPercentile && !(o.percentile > 0.0 && o.percentile <= 1.0)) {
    fail(fmt::format("percentile is {}, expected a fraction in (0, 1], e.g. 0.999", o.percentile));
  }
  if (o.method == RangeMethod::kMMSE) {
    if (!(o.search_range >= 0.0 && o.search_range < 1.0)) {
      fail(fmt::format("search_range is {}, expected a fraction in [0, 1), e.g. 0.001",
                       o.search_range));
    }
    if (!(o.outlier_factor >= 1.0)) {
      fail(fmt::format("outlier_factor is {}, expected 1 or more (2 keeps more outliers)",
                       o.outlier_factor));
    }
  }
}

double max_magnitude(const TensorStats& s) { return std::max(std::fabs(s.min), std::fabs(s.max)); }

// [lo, hi] (symmetric: [-a, a] around it) kept inside the hull of the data and 0, and
// never empty.
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

double level_count(int bits) { return std::ldexp(1.0, bits); }

// A histogram's bins with their edges: quantiles, masses and squared clipping errors, with
// the values of a bin spread uniformly across it.
class Bins {
 public:
  Bins(std::vector<uint64_t> counts, double first_edge, double width)
      : counts_(std::move(counts)),
        first_edge_(first_edge),
        width_(width),
        below_(counts_.size() + 1, 0.0) {
    for (size_t i = 0; i < counts_.size(); ++i) below_[i + 1] = below_[i] + counts_[i];
  }

  double total() const { return below_.back(); }
  double edge(size_t i) const { return first_edge_ + static_cast<double>(i) * width_; }
  double center(size_t i) const { return edge(i) + 0.5 * width_; }

  // The q quantile, interpolated inside its bin.
  double quantile(double q) const {
    const double target = q * total();
    size_t i = 0;
    while (i + 1 < counts_.size() && (counts_[i] == 0 || below_[i + 1] < target)) ++i;
    const double inside = counts_[i] ? (target - below_[i]) / counts_[i] : 0.0;
    return edge(i) + std::clamp(inside, 0.0, 1.0) * width_;
  }

  double count_below(double t) const {
    const Position p = locate(t);
    return below_[p.bin] + counts_[p.bin] * p.fraction;
  }
  double count_above(double t) const { return total() - count_below(t); }

  // Sum over the values x > t of (x - t)^2.
  double squared_excess_above(double t) const {
    const Position p = locate(t);
    const double part = width_ * (1.0 - p.fraction);
    double sum = counts_[p.bin] * (1.0 - p.fraction) * part * part / 3.0;
    for (size_t i = p.bin + 1; i < counts_.size(); ++i) {
      const double d = center(i) - t;
      sum += counts_[i] * (d * d + width_ * width_ / 12.0);
    }
    return sum;
  }
  // Sum over the values x < t of (t - x)^2.
  double squared_excess_below(double t) const {
    const Position p = locate(t);
    const double part = width_ * p.fraction;
    double sum = counts_[p.bin] * p.fraction * part * part / 3.0;
    for (size_t i = 0; i < p.bin; ++i) {
      const double d = t - center(i);
      sum += counts_[i] * (d * d + width_ * width_ / 12.0);
    }
    return sum;
  }

 private:
  struct Position {
    size_t bin;
    double fraction;  // of the bin below t
  };
  Position locate(double t) const {
    const double x = (t - first_edge_) / width_;
    const double last = static_cast<double>(counts_.size());
    if (!(x > 0.0)) return {0, 0.0};
    if (x >= last) return {counts_.size() - 1, 1.0};
    const auto bin = static_cast<size_t>(x);
    return {bin, x - static_cast<double>(bin)};
  }

  std::vector<uint64_t> counts_;
  double first_edge_;
  double width_;
  std::vector<double> below_;  // below_[i]: values in bins before i
};

Bins signed_bins(const Histogram& h) { return Bins(h.counts(), -h.limit(), h.bin_width()); }
Bins magnitude_bins(const Histogram& h) { return Bins(h.abs_counts(), 0.0, h.bin_width()); }

// ---- percentile ----

// Asymmetric: the (1-p)/2 tail is cut from each side of the signed distribution, so that
// both variants drop the same share of the values.
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

// ---- expected quantization error ----

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

// The a in [from, to] of least expected error for [-a, a].
double least_error_clip(const TensorStats& stats, int bits, double from, double to) {
  const Bins magnitudes = magnitude_bins(stats.histogram);
  const ErrorModel model(magnitudes, bits);
  return model.least_error_clip(model.upper_side(from, to, kSymmetricGrid));
}

// The [lo, hi] of least expected error, lo in [lower_from, lower_to], hi in [upper_from, upper_to].
Range least_error_range(const TensorStats& stats, int bits, double lower_from, double lower_to,
                        double upper_from, double upper_to) {
  const Bins bins = signed_bins(stats.histogram);
  const ErrorModel model(bins, bits);
  return model.least_error_range(model.lower_side(lower_from, lower_to, kAsymmetricGrid),
                                 model.upper_side(upper_from, upper_to, kAsymmetricGrid));
}

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

// Kneron's SNR search: S (the signal power) does not depend on the clip, so the clip of
// highest S/N is the one of least quantization noise N, searched only from the
// (1 - search_range) quantile up to the max; outlier_factor then widens it.
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

// ---- KL divergence (TensorRT entropy calibration) ----

// Shifts a little mass to the empty bins so that KL stays finite; false if all are empty.
bool smooth(std::vector<double>& p) {
  const auto zeros = static_cast<double>(std::count(p.begin(), p.end(), 0.0));
  const double nonzeros = static_cast<double>(p.size()) - zeros;
  if (nonzeros == 0.0) return false;
  const double taken = kSmoothingEpsilon * zeros / nonzeros;
  for (double& v : p) v = v == 0.0 ? kSmoothingEpsilon : std::max(v - taken, kSmoothingEpsilon);
  return true;
}

double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  const double p_total = std::accumulate(p.begin(), p.end(), 0.0);
  const double q_total = std::accumulate(q.begin(), q.end(), 0.0);
  double sum = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double pi = p[i] / p_total, qi = q[i] / q_total;
    sum += pi * std::log(pi / qi);
  }
  return sum;
}

// KL(P || Q) for keeping the first `kept` bins: P is those bins with the clipped values
// added to the last one, Q the same bins (without the clipped values) quantized into
// `levels` and spread back over the bins where P is non-zero.
double clipping_divergence(const std::vector<uint64_t>& counts, size_t kept, size_t levels,
                           double clipped) {
  std::vector<double> p(counts.begin(), counts.begin() + static_cast<ptrdiff_t>(kept));
  p.back() += clipped;
  std::vector<double> q(kept, 0.0);
  const size_t merged = kept / levels;
  for (size_t j = 0; j < levels; ++j) {
    const size_t begin = j * merged, end = j + 1 == levels ? kept : begin + merged;
    double sum = 0.0, nonzero = 0.0;
    for (size_t i = begin; i < end; ++i) {
      sum += static_cast<double>(counts[i]);
      nonzero += p[i] != 0.0 ? 1.0 : 0.0;
    }
    for (size_t i = begin; i < end; ++i) q[i] = p[i] != 0.0 ? sum / nonzero : 0.0;
  }
  if (!smooth(p) || !smooth(q)) return std::numeric_limits<double>::infinity();
  return kl_divergence(p, q);
}

// The clip of |x| of least divergence, trying every bin edge from `levels` bins up.
double entropy_threshold(const Histogram& histogram, size_t levels) {
  std::vector<uint64_t> counts = histogram.abs_counts();
  while (!counts.empty() && counts.back() == 0) counts.pop_back();
  const double width = histogram.bin_width();
  if (counts.size() <= levels) return static_cast<double>(counts.size()) * width;
  // A clip below most of the data puts it all in P's last bin, where Q matches it exactly
  // and KL is ~0: data far from zero (all in [0.15, 0.34], say) would be clipped to its
  // lowest value. Clips therefore keep at least kMinKeptMass of the values, as the outlier
  // tails KL is meant to trim are far thinner than that.
  constexpr double kMinKeptMass = 0.99;
  double total = 0.0;
  for (uint64_t c : counts) total += static_cast<double>(c);
  size_t first = levels;
  double below = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    below += static_cast<double>(counts[i]);
    if (below >= kMinKeptMass * total) {
      first = std::max(levels, i + 1);
      break;
    }
  }
  double clipped = 0.0;  // values beyond the kept bins
  for (size_t i = first; i < counts.size(); ++i) clipped += static_cast<double>(counts[i]);
  size_t best = counts.size();
  double least = std::numeric_limits<double>::infinity();
  for (size_t kept = first; kept <= counts.size(); ++kept) {
    const double divergence = clipping_divergence(counts, kept, levels, clipped);
    if (divergence < least) {
      least = divergence;
      best = kept;
    }
    if (kept < counts.size()) clipped -= static_cast<double>(counts[kept]);
  }
  return static_cast<double>(best) * width;
}

// Symmetric: 2^(bits-1) levels cover |x|. Asymmetric: one-signed data gets all 2^bits
// levels on its side; data of both signs is treated as the symmetric case, then each side
// is clamped to the data.
Range kl_range(const TensorStats& stats, const RangeOptions& o) {
  const bool one_signed = stats.min >= 0.0 || stats.max <= 0.0;
  const int level_bits = !o.symmetric && one_signed ? o.bits : o.bits - 1;
  const double a =
      entropy_threshold(stats.histogram, static_cast<size_t>(level_count(level_bits)));
  return finish(-a, a, stats, o.symmetric);
}

}  // namespace

const char* range_method_name(RangeMethod method) {
  for (const auto& entry : kMethodNames) {
    if (entry.method == method) return entry.name;
  }
  return "unknown";
}

RangeMethod parse_range_method(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "percentage") return RangeMethod::kPercentile;  // Kneron's name
  std::string valid;
  for (const auto& entry : kMethodNames) {
    if (lower == entry.name) return entry.method;
    valid += valid.empty() ? entry.name : std::string(", ") + entry.name;
  }
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("unknown range method \"{}\"; valid methods: {}", name, valid));
}

Range choose_range(const TensorStats& stats, const RangeOptions& options) {
  check_options(options);
  if (options.method == RangeMethod::kAuto || options.method == RangeMethod::kSkip) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("range method {} is decided per tensor by the Quantizer; "
                            "choose_range takes max, percentile, kl, mse or mmse",
                            range_method_name(options.method)));
  }
  if (stats.count == 0) {
    throw Error(StatusCode::kFailedPrecondition,
                "choose_range: the statistics hold no data; run calibration samples through "
                "the tensor first (or use the skip method)");
  }
  if (stats.histogram.limit() == 0.0) return finish(0.0, 0.0, stats, options.symmetric);
  switch (options.method) {
    case RangeMethod::kMax:
      return finish(stats.min, stats.max, stats, options.symmetric);
    case RangeMethod::kPercentile:
      return percentile_range(stats, options);
    case RangeMethod::kKL:
      return kl_range(stats, options);
    case RangeMethod::kMSE:
      return mse_range(stats, options);
    case RangeMethod::kMMSE:
      return mmse_range(stats, options);
    default:
      break;
  }
  throw Error(StatusCode::kInternal, "choose_range: unhandled range method");
}

}  // namespace lq
