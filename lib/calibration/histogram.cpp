// Histogram of a stream of floats over a range that doubles as larger values arrive.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "libquant/calibrator.hpp"

namespace lq {

namespace {

// Values are binned a chunk at a time: the chunk's largest magnitude is found first, so the
// binning loop itself never has to grow the histogram.
constexpr int64_t kChunk = 4096;

// Bins are addressed relative to zero (bin j covers [j, j+1) * width), so that after the
// width grows by 2^shift the old bin j lies inside the new bin floor(j / 2^shift). Zero is
// always the lower edge of bin bins/2, which keeps the positive and negative halves apart.
int64_t floor_div_pow2(int64_t j, int shift) {
  const int64_t factor = int64_t{1} << std::min(shift, 62);
  return j >= 0 ? j / factor : -((-j + factor - 1) / factor);
}

void add_rebinned(const std::vector<uint64_t>& from, int shift, std::vector<uint64_t>& to) {
  const int64_t half = static_cast<int64_t>(to.size()) / 2;
  for (size_t i = 0; i < from.size(); ++i) {
    if (from[i] == 0) continue;
    const int64_t j = floor_div_pow2(static_cast<int64_t>(i) - half, shift);
    to[static_cast<size_t>(j + half)] += from[i];
  }
}

// The smallest power of two strictly above `magnitude` (> 0, finite).
double power_of_two_above(double magnitude) { return std::ldexp(1.0, std::ilogb(magnitude) + 1); }

struct ChunkScan {
  double max_magnitude = 0.0;  // of the finite values
  bool all_finite = true;
};

ChunkScan scan(const float* data, int64_t n) {
  // Independent lanes keep the compares out of one long dependency chain.
  constexpr int kLanes = 8;
  float largest[kLanes] = {};
  int finite[kLanes] = {1, 1, 1, 1, 1, 1, 1, 1};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float magnitude = std::fabs(data[i + k]);
      finite[k] &= magnitude <= std::numeric_limits<float>::max();  // false for NaN and inf
      largest[k] = magnitude > largest[k] ? magnitude : largest[k];
    }
  }
  for (; i < n; ++i) {
    const float magnitude = std::fabs(data[i]);
    finite[0] &= magnitude <= std::numeric_limits<float>::max();
    largest[0] = magnitude > largest[0] ? magnitude : largest[0];
  }
  ChunkScan result{0.0, true};
  for (int k = 0; k < kLanes; ++k) {
    result.max_magnitude = std::max<double>(result.max_magnitude, largest[k]);
    result.all_finite = result.all_finite && finite[k];
  }
  if (result.all_finite) return result;
  result.max_magnitude = 0.0;
  for (i = 0; i < n; ++i) {
    const float magnitude = std::fabs(data[i]);
    if (std::isfinite(magnitude))
      result.max_magnitude = std::max<double>(result.max_magnitude, magnitude);
  }
  return result;
}

}  // namespace

Histogram::Histogram(int bins) {
  if (bins < 2 || bins % 2 != 0) {
    throw Error(
        StatusCode::kInvalidArgument,
        fmt::format("histogram bin count {} must be even and at least 2 (2048 is usual)", bins));
  }
  counts_.assign(static_cast<size_t>(bins), 0);
}

Histogram Histogram::from_counts(double limit, std::vector<uint64_t> counts) {
  Histogram h(static_cast<int>(counts.size()));
  int exponent = 0;
  const bool power_of_two = limit == 0.0 || (std::isfinite(limit) && std::frexp(limit, &exponent) == 0.5);
  if (!power_of_two) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("histogram limit {} is neither 0 nor a power of two", limit));
  }
  h.limit_ = limit;
  h.counts_ = std::move(counts);
  return h;
}

uint64_t Histogram::total() const {
  return std::accumulate(counts_.begin(), counts_.end(), uint64_t{0});
}

void Histogram::grow_to(double magnitude) {
  if (magnitude < limit_) return;
  if (limit_ == 0.0) {
    // Before the first non-zero value only zeros were counted, in bin bins/2, which is where
    // zero stays at any limit.
    limit_ = power_of_two_above(magnitude);
    return;
  }
  int shift = 0;
  while (limit_ <= magnitude) {
    limit_ *= 2.0;
    ++shift;
  }
  std::vector<uint64_t> old(counts_.size(), 0);
  old.swap(counts_);
  add_rebinned(old, shift, counts_);
}

void Histogram::add(const float* data, int64_t n) {
  const size_t zero_bin = counts_.size() / 2;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const float* chunk = data + begin;
    const int64_t size = std::min(kChunk, n - begin);
    const ChunkScan scanned = scan(chunk, size);
    if (scanned.max_magnitude > 0.0) grow_to(scanned.max_magnitude);
    if (limit_ == 0.0) {  // nothing but zeros (and non-finite values) so far
      for (int64_t i = 0; i < size; ++i) counts_[zero_bin] += chunk[i] == 0.0f ? 1 : 0;
      continue;
    }
    const double bins_per_unit = static_cast<double>(counts_.size()) / (2.0 * limit_);
    const double offset = static_cast<double>(zero_bin);
    const int64_t last_bin = static_cast<int64_t>(counts_.size()) - 1;
    uint64_t* counts = counts_.data();
    // |x| < limit, so the position is in [0, bins]; truncation is the floor there, and the
    // clamp only catches x just below the limit rounding up to `bins`.
    auto bin_of = [&](float x) {
      return std::min(static_cast<int64_t>(x * bins_per_unit + offset), last_bin);
    };
    if (scanned.all_finite) {
      for (int64_t i = 0; i < size; ++i) ++counts[bin_of(chunk[i])];
    } else {
      for (int64_t i = 0; i < size; ++i) {
        if (std::isfinite(chunk[i])) ++counts[bin_of(chunk[i])];
      }
    }
  }
}

void Histogram::merge(const Histogram& other) {
  if (other.bins() != bins()) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("cannot merge a histogram of {} bins into one of {} bins", other.bins(),
                            bins()));
  }
  // Limits are powers of two, so the larger is the smaller times 2^shift.
  if (other.limit_ > 0.0) grow_to(other.limit_ / 2.0);
  int shift = 0;
  for (double l = other.limit_; l > 0.0 && l < limit_; l *= 2.0) ++shift;
  add_rebinned(other.counts_, shift, counts_);
}

std::vector<uint64_t> Histogram::abs_counts() const {
  const size_t half = counts_.size() / 2;
  std::vector<uint64_t> folded(half);
  for (size_t i = 0; i < half; ++i) folded[i] = counts_[half + i] + counts_[half - 1 - i];
  return folded;
}

}  // namespace lq
