// Tensor statistics: min/max, histogram and per-channel min/max, accumulated sample by sample.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

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

// Comparisons with NaN are false, so NaNs never become an extreme; infinities are dropped
// afterwards (no range can represent them), which is rare enough to afford a second look.
Extremes finite_extremes(const float* data, int64_t n) {
  // Independent lanes keep the compares out of one long dependency chain.
  constexpr int kLanes = 8;
  Extremes lanes[kLanes];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float v = data[i + k];
      lanes[k].min = v < lanes[k].min ? v : lanes[k].min;
      lanes[k].max = v > lanes[k].max ? v : lanes[k].max;
    }
  }
  Extremes e;
  for (; i < n; ++i) {
    e.min = data[i] < e.min ? data[i] : e.min;
    e.max = data[i] > e.max ? data[i] : e.max;
  }
  for (const Extremes& lane : lanes) {
    e.min = std::min(e.min, lane.min);
    e.max = std::max(e.max, lane.max);
  }
  if (std::isfinite(e.min) && std::isfinite(e.max)) return e;
  e = Extremes{};
  for (i = 0; i < n; ++i) {
    if (!std::isfinite(data[i])) continue;
    e.min = std::min(e.min, data[i]);
    e.max = std::max(e.max, data[i]);
  }
  return e;
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

void accumulate(TensorStats& stats, const Tensor& data) {
  if (data.dtype() == DType::kUndefined) {
    throw Error(StatusCode::kInvalidArgument, "statistics: the tensor has no data");
  }
  if (data.dtype() != DType::kFloat32) {
    accumulate(stats, data.cast(DType::kFloat32));
    return;
  }
  const float* values = data.data<float>();
  const int64_t n = data.numel();
  if (stats.channel_axis >= 0) accumulate_channels(stats, data, values);
  // Any finite value seen so far sits in the histogram (zeros in the middle bin).
  const Histogram& h = stats.histogram;
  bool seen_finite = h.limit() > 0.0 || h.counts()[static_cast<size_t>(h.bins() / 2)] > 0;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int64_t size = std::min(kChunk, n - begin);
    const Extremes e = finite_extremes(values + begin, size);
    if (e.found()) {
      stats.min = seen_finite ? std::min(stats.min, static_cast<double>(e.min)) : e.min;
      stats.max = seen_finite ? std::max(stats.max, static_cast<double>(e.max)) : e.max;
      seen_finite = true;
    }
    stats.histogram.add(values + begin, size);
  }
  stats.count += static_cast<uint64_t>(n);
}

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
