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
#include <utility>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace lq {

// ---- Pictures -------------------------------------------------------------------------

enum class ColorOrder : uint8_t { kRGB, kBGR, kGray };
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
  // Set (not featuremap): the picture is written as raw pixels in [0, 255] in this runtime
  // format instead (`layout` for rgb, bgr, gray, yuv444; nv12 is [1, H*3/2, W]), with neither
  // mean nor scale: the input of a program with that format folded in (fuse_input_format).
  // Pixels are RGB -> BT.601 YUV in `range`, rounded; nv12 chroma averages each 2x2 block.
  PixelFormat format = PixelFormat::kFeatureMap;
  YuvRange range = YuvRange::kFull;
};

// Decodes a PNG/JPEG/BMP file and returns a float32 tensor [1,C,H,W] (or [1,H,W,C]).
LQ_EXPORT Tensor load_image(const std::string& path, const ImagePreprocess& preprocess);
// The same from an encoded picture in memory; `context` names it in errors.
LQ_EXPORT Tensor decode_image(const void* data, size_t size, const ImagePreprocess& preprocess,
                              const std::string& context = "image buffer");

// ---- Statistics -----------------------------------------------------------------------

// A histogram over [-limit, limit) with a fixed number of bins (even). When a value falls
// outside, the limit doubles and pairs of bins merge, so one pass over data of unknown
// range needs no second pass and bounded memory.
class LQ_EXPORT Histogram {
 public:
  explicit Histogram(int bins = 2048);
  void add(const float* data, int64_t n);  // NaNs are ignored
  // add() for data already scanned: `max_magnitude` is its largest finite |x| (0 if none),
  // `all_finite` false when some value is NaN or infinite.
  void add_scanned(const float* data, int64_t n, double max_magnitude, bool all_finite);
  void merge(const Histogram& other);      // same bin count; limits may differ
  // A histogram as serialized: `limit` 0 or a power of two, an even count of bins >= 2.
  // Throws kInvalidArgument otherwise.
  static Histogram from_counts(double limit, std::vector<uint64_t> counts);
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
  bool constant = false;  // a weight or other initializer: the same in every shard
};

// Statistics of every tensor (graph inputs, node outputs, constants), by value name.
// A sample the Calibrator kept (range searches score candidates on them), with its place
// in the whole calibration set: (source index << 20) | batch piece, so that shards merged
// keep the same first samples as one process over all of them.
struct KeptSample {
  uint64_t order = 0;
  TensorMap inputs;
};

struct LQ_EXPORT CalibrationTable {
  std::map<std::string, TensorStats> tensors;
  uint64_t samples = 0;
  // Of the calibrated graph (calibration_fingerprint): merge() refuses another model's.
  std::string model_fingerprint;
  size_t keep_limit = 0;          // at most this many kept samples, the first by order
  std::vector<KeptSample> kept;   // sorted by order

  const TensorStats& at(const std::string& value_name) const;  // throws kNotFound naming it
  std::string to_json() const;  // min, max, count, histogram limit and counts

  // Adds another shard's statistics exactly: N shards of a calibration set merged give the
  // same table, bit for bit, as one Calibrator over all samples (min/max and counts add up,
  // histograms have power-of-two limits and rebin exactly, constants are taken once).
  // Throws kInvalidArgument for another model, another bin count or another channel layout.
  void merge(const CalibrationTable& other);
  // A versioned file ("format": "libquant-calibration-statistics", "version": 1) holding
  // everything above, kept samples included; parse() rejects other formats, newer versions
  // and damaged files, naming `context` (the path).
  std::string serialize() const;
  static CalibrationTable parse(const std::string& text, const std::string& context = "statistics");
  void save(const std::string& path) const;  // a temporary file renamed over `path`
  static CalibrationTable load(const std::string& path);
  // The files of a sharded calibration loaded and merged (in any order); errors name the
  // file that does not fit and the first one.
  static CalibrationTable merge_files(const std::vector<std::string>& paths);
};

// Adds `data` to `stats` (min/max/count/histogram, and per-channel min/max when
// stats.channel_axis >= 0).
LQ_EXPORT void accumulate(TensorStats& stats, const Tensor& data);
// Adds `from` to `into` exactly (see CalibrationTable::merge); `what` names the tensor in errors.
LQ_EXPORT void merge_stats(TensorStats& into, const TensorStats& from, const std::string& what);
// A hash of what calibration statistics depend on: the graph's inputs, nodes, values and
// constants' shapes (not their data). Two tables of one model and input shapes match.
LQ_EXPORT std::string calibration_fingerprint(const Graph& graph);

// ---- Range methods ----------------------------------------------------------------------

// A range method, by the name it is registered under. The built-in names have constants
// (RangeMethod::kMax ...); parse_range_method turns any registered name (or alias) into
// one. Two RangeMethods are equal when their names are.
class RangeMethod {
 public:
  explicit RangeMethod(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  bool operator==(const RangeMethod& other) const { return name_ == other.name_; }
  bool operator!=(const RangeMethod& other) const { return name_ != other.name_; }
  bool operator<(const RangeMethod& other) const { return name_ < other.name_; }

  static const RangeMethod kMax;         // min/max of the data
  static const RangeMethod kPercentile;  // the `percentile` quantile of |x| (Kneron's "percentage")
  static const RangeMethod kKL;          // entropy calibration (TensorRT, Sophgo): the clip minimizing KL divergence
  static const RangeMethod kMSE;         // the clip minimizing the quantization mean squared error
  static const RangeMethod kMMSE;        // Kneron's SNR-based search around the percentile range
  static const RangeMethod kAuto;        // each auto candidate per tensor, keeping the least output error (Quantizer)
  static const RangeMethod kSkip;        // no data: weights' ranges and a nominal activation range

 private:
  std::string name_;
};

inline const RangeMethod RangeMethod::kMax{"max"};
inline const RangeMethod RangeMethod::kPercentile{"percentile"};
inline const RangeMethod RangeMethod::kKL{"kl"};
inline const RangeMethod RangeMethod::kMSE{"mse"};
inline const RangeMethod RangeMethod::kMMSE{"mmse"};
inline const RangeMethod RangeMethod::kAuto{"auto"};
inline const RangeMethod RangeMethod::kSkip{"skip"};

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

// One registered range method. Built-in methods are one file each under
// lib/calibration/range_methods/ (docs/adding-a-range-method.md).
struct RangeMethodInfo {
  std::string name;                  // lower case; what configs, the CLI and the C ABI use
  std::vector<std::string> aliases;  // other accepted spellings (Kneron's "percentage")
  // From statistics holding data (count > 0, a non-zero histogram) to a range that
  // contains 0 and is not empty. Empty for names whose range the Quantizer decides per
  // tensor (auto, skip): choose_range rejects them.
  std::function<Range(const TensorStats&, const RangeOptions&)> choose;
  // Throws kInvalidArgument for options the method cannot use (called before `choose`,
  // also for statistics without data). May be empty.
  std::function<void(const RangeOptions&)> check;
  bool auto_candidate = false;  // RangeMethod::kAuto tries it on every tensor
};

// Range methods by name, in registration order. The library's methods are in builtin();
// a registry object of one's own can add more (e.g. a test's), copied from builtin().
class LQ_EXPORT RangeMethodRegistry {
 public:
  // max, percentile, kl, mse, mmse, then auto and skip.
  static const RangeMethodRegistry& builtin();

  // Throws kInvalidArgument when the name or an alias is already registered.
  void add(RangeMethodInfo method);
  // By name or alias, ignoring case; nullptr when unknown.
  const RangeMethodInfo* find(const std::string& name) const;
  // The method `name` (or alias) names, canonical; throws kInvalidArgument listing the
  // valid names.
  RangeMethod parse(const std::string& name) const;
  std::vector<std::string> names() const;  // registration order, without aliases
  std::vector<RangeMethod> auto_candidates() const;
  // See choose_range.
  Range choose(const TensorStats& stats, const RangeOptions& options) const;

 private:
  std::vector<RangeMethodInfo> methods_;
};

// The free functions use RangeMethodRegistry::builtin().
LQ_EXPORT std::string range_method_name(const RangeMethod& method);
// Throws kInvalidArgument listing the valid names.
LQ_EXPORT RangeMethod parse_range_method(const std::string& name);
// The methods RangeMethod::kAuto tries, in registration order.
LQ_EXPORT std::vector<RangeMethod> auto_range_candidates();

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
  // Sharded calibration: add_sources runs only the shard_index-th of shard_count contiguous
  // blocks of the samples (their global order kept), so that the shards' tables, merged,
  // equal one table over all samples.
  int shard_index = 0;
  int shard_count = 1;
};

// "I/N" (0 <= I < N) into options.shard_index and shard_count; throws kInvalidArgument
// naming `what` otherwise.
LQ_EXPORT void parse_shard(const std::string& text, CalibrationOptions& options, const std::string& what);

// Input name -> the sample files for it: .npy files (or folders of them, sorted by name),
// or pictures read with `preprocess`, or LMDB databases (for sets too large for folders).
//
// An LMDB calibration set is a path ending in .lmdb (an LMDB file, or a directory) or a
// directory holding data.mdb. Each record is one sample of the input: the key is any byte
// string (samples are taken in LMDB's key order, bytewise; zero-padded numbers such as
// "00000042" keep numeric order), the value the bytes of an .npy file (format 1-3, little
// endian, C order; as numpy.save writes). A multi-input model takes one database per input,
// paired record by record in key order. The database is opened read-only without a lock
// file and read one record at a time, never whole; a record that is not an .npy blob is an
// error naming the database and its key.
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

// The range method skip without data: `samples` inputs drawn uniformly from each model
// input's declared range (`input_ranges`, by input name; [-1, 1] for one not named), in the
// inputs' static shapes, fed to `calibrator`. Weight ranges come from the weights as always;
// activation ranges from these inputs are good enough to compile and run a model, not for
// accuracy. Throws kInvalidArgument naming an input whose shape is not static, whose range
// is empty or not finite, or a range naming no input; kUnsupported for a non-float32 input.
constexpr int kRandomCalibrationSamples = 4;
LQ_EXPORT void add_random_samples(Calibrator& calibrator, const Graph& graph,
                                  const std::map<std::string, Range>& input_ranges = {},
                                  int samples = kRandomCalibrationSamples, uint32_t seed = 20261126);

}  // namespace lq
