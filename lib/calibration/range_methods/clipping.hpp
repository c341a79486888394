// What the range methods share: a histogram's bins with their edges, the expected
// quantization error of a clip, and the final clamp every method's range goes through.
//
// All histogram methods treat the values inside a bin as spread uniformly over it.
// Asymmetric variants (documented per method) clip the negative and positive sides
// separately; every result is clamped to the data's hull widened to include 0.
#pragma once

#include <cstdint>
#include <vector>

#include "libquant/calibrator.hpp"

namespace lq::range_methods {

// Candidate clips per side for the error searches (a clip per grid point).
constexpr int kSymmetricGrid = 1024;
constexpr int kAsymmetricGrid = 512;

double max_magnitude(const TensorStats& s);
double level_count(int bits);  // 2^bits

// [lo, hi] (symmetric: [-a, a] around it) kept inside the hull of the data and 0, and
// never empty.
Range finish(double lo, double hi, const TensorStats& stats, bool symmetric);

// A histogram's bins with their edges: quantiles, masses and squared clipping errors, with
// the values of a bin spread uniformly across it.
class Bins {
 public:
  Bins(std::vector<uint64_t> counts, double first_edge, double width);

  double total() const { return below_.back(); }
  double edge(size_t i) const { return first_edge_ + static_cast<double>(i) * width_; }
  double center(size_t i) const { return edge(i) + 0.5 * width_; }

  // The q quantile, interpolated inside its bin.
  double quantile(double q) const;
  double count_below(double t) const;
  double count_above(double t) const { return total() - count_below(t); }
  // Sum over the values x > t of (x - t)^2.
  double squared_excess_above(double t) const;
  // Sum over the values x < t of (t - x)^2.
  double squared_excess_below(double t) const;

 private:
  struct Position {
    size_t bin;
    double fraction;  // of the bin below t
  };
  Position locate(double t) const;

  std::vector<uint64_t> counts_;
  double first_edge_;
  double width_;
  std::vector<double> below_;  // below_[i]: values in bins before i
};

Bins signed_bins(const Histogram& h);
Bins magnitude_bins(const Histogram& h);

// The a in [from, to] of least expected error for [-a, a].
double least_error_clip(const TensorStats& stats, int bits, double from, double to);
// The [lo, hi] of least expected error, lo in [lower_from, lower_to], hi in [upper_from, upper_to].
Range least_error_range(const TensorStats& stats, int bits, double lower_from, double lower_to,
                        double upper_from, double upper_to);

}  // namespace lq::range_methods
