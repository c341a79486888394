// kl: entropy calibration (TensorRT, Sophgo), the clip of |x| whose quantized distribution
// is closest in KL divergence to the data's.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "calibration/range_methods/builtin.hpp"
#include "calibration/range_methods/clipping.hpp"

namespace lq::range_methods {

namespace {

// KL smoothing of empty bins (TensorRT / MXNet use the same value, on counts).
constexpr double kSmoothingEpsilon = 1e-4;

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
  const double a = entropy_threshold(stats.histogram, static_cast<size_t>(level_count(level_bits)));
  return finish(-a, a, stats, o.symmetric);
}

}  // namespace

RangeMethodInfo kl_range_method() {
  RangeMethodInfo m;
  m.name = "kl";
  m.choose = kl_range;
  m.auto_candidate = true;
  return m;
}

}  // namespace lq::range_methods
