// Calibration: one float pass over sample inputs collects, for every tensor, the
// statistics that range methods turn into quantization ranges. Pictures are turned into
// model inputs by a declared preprocessing, the same for calibration and evaluation.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace lq {

// ---- Pictures -------------------------------------------------------------------------

enum class ColorOrder : uint8_t { kRGB, kBGR, kGray };
enum class Layout : uint8_t { kNCHW, kNHWC };
enum class ResizeMode : uint8_t {
  kNone,           // keep the picture's size
  kStretch,        // bilinear to exactly height x width
  kFitHeightPad,   // height fixed, width by aspect ratio up to `width`, padded on the right
                   // (PP-OCR text lines)
};

struct ImagePreprocess {
  int64_t height = 0;
  int64_t width = 0;
  ResizeMode resize = ResizeMode::kStretch;
  ColorOrder color = ColorOrder::kRGB;
  Layout layout = Layout::kNCHW;
  // Per channel, in the output's channel order: value = (pixel - mean) * scale, pixel in [0, 255].
  std::array<float, 3> mean = {0.0f, 0.0f, 0.0f};
  std::array<float, 3> scale = {1.0f, 1.0f, 1.0f};
  float pad_value = 0.0f;  // after normalization
};

// Decodes a PNG/JPEG/BMP file and returns a float32 tensor [1,C,H,W] (or [1,H,W,C]).
LQ_EXPORT Tensor load_image(const std::string& path, const ImagePreprocess& preprocess);

// ---- Statistics -----------------------------------------------------------------------

// A histogram over [-limit, limit) with a fixed number of bins (even). When a value falls
// outside, the limit doubles and pairs of bins merge, so one pass over data of unknown
// range needs no second pass and bounded memory.
class LQ_EXPORT Histogram {
 public:
  explicit Histogram(int bins = 2048);
  void add(const float* data, int64_t n);  // NaNs are ignored
  void merge(const Histogram& other);      // same bin count; limits may differ
  int bins() const { return static_cast<int>(counts_.size()); }
  double limit() const { return limit_; }
  double bin_width() const { return 2.0 * limit_ / bins(); }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t total() const;
  // Counts of |x| over [0, limit): bin i covers [i, i+1) * bin_width.
  std::vector<uint64_t> abs_counts() const;

 private:
  void grow_to(double magnitude);
  std::vector<uint64_t> counts_;
  double limit_ = 0.0;  // 0 until the first non-zero value
};

struct TensorStats {
  double min = 0.0;
  double max = 0.0;
  uint64_t count = 0;  // elements seen
  Histogram histogram;
  // Per channel along `channel_axis` (weights: output channels; empty for activations
  // unless per-channel activation statistics were asked for).
  int channel_axis = -1;
  std::vector<double> channel_min;
  std::vector<double> channel_max;
};

// Statistics of every tensor (graph inputs, node outputs, constants), by value name.
struct LQ_EXPORT CalibrationTable {
  std::map<std::string, TensorStats> tensors;
  uint64_t samples = 0;
  const TensorStats& at(const std::string& value_name) const;  // throws kNotFound naming it
  std::string to_json() const;  // min, max, count, histogram limit and counts
};

// Adds `data` to `stats` (min/max/count/histogram, and per-channel min/max when
// stats.channel_axis >= 0).
LQ_EXPORT void accumulate(TensorStats& stats, const Tensor& data);

// ---- Range methods ----------------------------------------------------------------------

enum class RangeMethod : uint8_t {
  kMax,         // min/max of the data
  kPercentile,  // the `percentile` quantile of |x| (Kneron's "percentage")
  kKL,          // entropy calibration (TensorRT, Sophgo): the clip minimizing KL divergence
  kMSE,         // the clip minimizing the quantization mean squared error
  kMMSE,        // Kneron's SNR-based search around the percentile range
  kAuto,        // each of the above per tensor, keeping the least output error (Quantizer)
  kSkip,        // no data: weights' ranges and a nominal activation range
};

LQ_EXPORT const char* range_method_name(RangeMethod method);
// Throws kInvalidArgument listing the valid names.
LQ_EXPORT RangeMethod parse_range_method(const std::string& name);

struct RangeOptions {
  RangeMethod method = RangeMethod::kPercentile;
  double percentile = 0.999;      // kPercentile: quantile of |x| kept
  double search_range = 0.001;    // kMMSE: how far below the max the search reaches (Kneron "percentile")
  double outlier_factor = 1.0;    // kMMSE: > 1 widens the chosen range to keep more outliers
  int bits = 8;                   // target bit width (levels = 2^bits)
  bool symmetric = true;          // symmetric ranges are [-a, a]
};

struct Range {
  double min = 0.0;
  double max = 0.0;
};

// The range a tensor is quantized over, from its statistics. kAuto and kSkip are decided
// by the Quantizer and are rejected here. The result always contains 0 and is never empty
// (a constant-zero tensor gets a tiny positive range).
LQ_EXPORT Range choose_range(const TensorStats& stats, const RangeOptions& options);

// ---- Calibrator -----------------------------------------------------------------------

using ProgressCallback = std::function<void(int64_t done, int64_t total)>;

struct CalibrationOptions {
  int threads = 1;
  int histogram_bins = 2048;
  ProgressCallback progress;  // called after each sample
  size_t keep_samples = 0;    // the first samples are kept (RangeMethod::kAuto scores on them)
};

// Input name -> the sample files for it: .npy files (or folders of them, sorted by name),
// or pictures read with `preprocess`.
struct CalibrationSource {
  std::vector<std::string> paths;
  bool images = false;
  ImagePreprocess preprocess;
};

class LQ_EXPORT Calibrator {
 public:
  // The graph must outlive the Calibrator.
  explicit Calibrator(const Graph& graph, CalibrationOptions options = {});
  ~Calibrator();

  // One sample: every graph input, batch > 1 allowed.
  void add_sample(const TensorMap& inputs);
  // Samples from files, one source per model input; every input must have a source with
  // the same number of samples. A model input with no source is an error naming it.
  void add_sources(const std::map<std::string, CalibrationSource>& sources);

  const CalibrationTable& table() const;
  // The first CalibrationOptions::keep_samples samples, as run.
  const std::vector<TensorMap>& kept_samples() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lq
