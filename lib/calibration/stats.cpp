// Tensor statistics: min/max, histogram and per-channel min/max, accumulated sample by sample.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <nlohmann/json.hpp>

#include "calibration/accumulate.hpp"
#include "libquant/calibrator.hpp"

namespace lq {

namespace {

// Chunks keep the min/max scan and the histogram's binning on data that is still in cache.
constexpr int64_t kChunk = 4096;

struct Extremes {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool found() const { return min <= max; }
};

// The extremes of the finite values, one by one (data holding infinities).
Extremes finite_extremes_slow(const float* data, int64_t n) {
  Extremes e;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(data[i])) continue;
    e.min = std::min(e.min, data[i]);
    e.max = std::max(e.max, data[i]);
  }
  return e;
}

// Comparisons with NaN are false, so NaNs never become an extreme; infinities are dropped
// afterwards (no range can represent them), which is rare enough to afford a second look.
// `all_finite` (optional) is cleared when some value is NaN or infinite.
#if defined(__x86_64__) && defined(__GNUC__)
// The lanes below, eight at a time: max_ps / min_ps(v, m) keep m when v is NaN, as the
// comparisons do.
__attribute__((target("avx2"))) Extremes extremes_avx2(const float* data, int64_t n,
                                                        bool* all_finite) {
  __m256 lo = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  __m256 hi = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 poison = _mm256_setzero_ps();
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(data + i);
    lo = _mm256_min_ps(v, lo);
    hi = _mm256_max_ps(v, hi);
    poison = _mm256_add_ps(poison, _mm256_mul_ps(v, zero));
  }
  alignas(32) float los[8], his[8], bad[8];
  _mm256_store_ps(los, lo);
  _mm256_store_ps(his, hi);
  _mm256_store_ps(bad, poison);
  Extremes e;
  for (int k = 0; k < 8; ++k) {
    e.min = std::min(e.min, los[k]);
    e.max = std::max(e.max, his[k]);
    if (all_finite && bad[k] != 0.0f) *all_finite = false;
  }
  for (; i < n; ++i) {
    e.min = data[i] < e.min ? data[i] : e.min;
    e.max = data[i] > e.max ? data[i] : e.max;
    if (all_finite && data[i] * 0.0f != 0.0f) *all_finite = false;
  }
  return e;
}
#endif

Extremes finite_extremes(const float* data, int64_t n, bool* all_finite = nullptr) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) {
    Extremes e = extremes_avx2(data, n, all_finite);
    if (std::isfinite(e.min) && std::isfinite(e.max)) return e;
    return finite_extremes_slow(data, n);
  }
#endif
  // Independent lanes keep the compares out of one long dependency chain.
  constexpr int kLanes = 8;
  Extremes lanes[kLanes];
  float poison[kLanes] = {};  // x * 0 is NaN exactly for NaN and infinite x
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float v = data[i + k];
      lanes[k].min = v < lanes[k].min ? v : lanes[k].min;
      lanes[k].max = v > lanes[k].max ? v : lanes[k].max;
      poison[k] += v * 0.0f;
    }
  }
  Extremes e;
  for (; i < n; ++i) {
    e.min = data[i] < e.min ? data[i] : e.min;
    e.max = data[i] > e.max ? data[i] : e.max;
    poison[0] += data[i] * 0.0f;
  }
  for (int k = 0; k < kLanes; ++k) {
    e.min = std::min(e.min, lanes[k].min);
    e.max = std::max(e.max, lanes[k].max);
    if (all_finite && poison[k] != 0.0f) *all_finite = false;  // NaN != 0
  }
  if (std::isfinite(e.min) && std::isfinite(e.max)) return e;
  return finite_extremes_slow(data, n);
}

void accumulate_channels(TensorStats& stats, const Tensor& data, const float* values) {
  const auto axis = static_cast<size_t>(stats.channel_axis);
  if (axis >= data.rank()) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("statistics: channel axis {} is out of range for shape {}", axis,
                            shape_str(data.shape())));
  }
  const int64_t channels = data.dim(axis);
  if (stats.channel_min.empty()) {
    stats.channel_min.assign(static_cast<size_t>(channels),
                             std::numeric_limits<double>::infinity());
    stats.channel_max.assign(static_cast<size_t>(channels),
                             -std::numeric_limits<double>::infinity());
  } else if (static_cast<int64_t>(stats.channel_min.size()) != channels) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("statistics: shape {} has {} channels on axis {}, earlier data had {}",
                            shape_str(data.shape()), channels, axis, stats.channel_min.size()));
  }
  int64_t inner = 1;
  for (size_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
  const int64_t outer = channels * inner == 0 ? 0 : data.numel() / (channels * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      const Extremes e = finite_extremes(values + (o * channels + c) * inner, inner);
      if (!e.found()) continue;
      auto& lo = stats.channel_min[static_cast<size_t>(c)];
      auto& hi = stats.channel_max[static_cast<size_t>(c)];
      lo = std::min(lo, static_cast<double>(e.min));
      hi = std::max(hi, static_cast<double>(e.max));
    }
  }
}

}  // namespace

namespace {

// Values per piece of the parallel accumulation, and per chunk of one pass: a chunk's min and
// max are found, then its values binned while they are still in cache.
constexpr int64_t kPiece = int64_t{1} << 18;
constexpr int64_t kPassChunk = int64_t{1} << 16;

// Min/max of the finite values of data[0, n) into `extremes`, and the values into `histogram`.
void accumulate_range(const float* data, int64_t n, Extremes& extremes, Histogram& histogram) {
  for (int64_t begin = 0; begin < n; begin += kPassChunk) {
    const int64_t size = std::min(kPassChunk, n - begin);
    bool all_finite = true;
    const Extremes e = finite_extremes(data + begin, size, &all_finite);
    double magnitude = 0.0;
    if (e.found()) {
      extremes.min = std::min(extremes.min, e.min);
      extremes.max = std::max(extremes.max, e.max);
      magnitude = std::max(std::fabs(static_cast<double>(e.min)), std::fabs(static_cast<double>(e.max)));
    }
    histogram.add_scanned(data + begin, size, magnitude, all_finite);
  }
}

}  // namespace

void accumulate(TensorStats& stats, const Tensor& data) {
  calibration::accumulate(stats, data, nullptr);
}

namespace calibration {

void accumulate(TensorStats& stats, const Tensor& data, const ParallelFor& parallel) {
  if (data.dtype() == DType::kUndefined) {
    throw Error(StatusCode::kInvalidArgument, "statistics: the tensor has no data");
  }
  if (data.dtype() != DType::kFloat32) {
    accumulate(stats, data.cast(DType::kFloat32), parallel);
    return;
  }
  const float* values = data.data<float>();
  const int64_t n = data.numel();
  if (stats.channel_axis >= 0) accumulate_channels(stats, data, values);
  // Any finite value seen so far sits in the histogram (zeros in the middle bin).
  const Histogram& h = stats.histogram;
  const bool seen_finite = h.limit() > 0.0 || h.counts()[static_cast<size_t>(h.bins() / 2)] > 0;
  Extremes all;
  const int64_t pieces = (n + kPiece - 1) / kPiece;
  if (!parallel || pieces <= 1) {
    accumulate_range(values, n, all, stats.histogram);
  } else {
    // Each worker fills a histogram of its own, merged after: histograms merge exactly and
    // min/max do not depend on the order, so the result is the same for any thread count.
    std::mutex mutex;
    parallel(pieces, [&](int64_t first, int64_t end) {
      Extremes extremes;
      Histogram histogram(stats.histogram.bins());
      const int64_t begin = first * kPiece;
      accumulate_range(values + begin, std::min(n, end * kPiece) - begin, extremes, histogram);
      std::lock_guard<std::mutex> lock(mutex);
      all.min = std::min(all.min, extremes.min);
      all.max = std::max(all.max, extremes.max);
      stats.histogram.merge(histogram);
    });
  }
  if (all.found()) {
    stats.min = seen_finite ? std::min(stats.min, static_cast<double>(all.min)) : all.min;
    stats.max = seen_finite ? std::max(stats.max, static_cast<double>(all.max)) : all.max;
  }
  stats.count += static_cast<uint64_t>(n);
}

}  // namespace calibration

const TensorStats& CalibrationTable::at(const std::string& value_name) const {
  auto it = tensors.find(value_name);
  if (it == tensors.end()) {
    throw Error(StatusCode::kNotFound,
                fmt::format("no calibration statistics for value \"{}\": it is not a float value "
                            "of the calibrated graph (or calibration has not run)",
                            value_name));
  }
  return it->second;
}

std::string CalibrationTable::to_json() const {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [name, stats] : tensors) {
    nlohmann::json entry = {
        {"min", stats.min},
        {"max", stats.max},
        {"count", stats.count},
        {"histogram", {{"limit", stats.histogram.limit()}, {"counts", stats.histogram.counts()}}},
    };
    if (stats.channel_axis >= 0) {
      entry["channel_axis"] = stats.channel_axis;
      entry["channel_min"] = stats.channel_min;
      entry["channel_max"] = stats.channel_max;
    }
    values[name] = std::move(entry);
  }
  return nlohmann::json{{"samples", samples}, {"tensors", std::move(values)}}.dump();
}

}  // namespace lq
