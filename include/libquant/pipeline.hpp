// Pipeline: the whole job from one set of options (what `lquant build CONFIG` and the C ABI
// fill in): load and optimize the float model, calibrate, quantize, compile to an integer
// Program, measure the fake-quantized and the fixed-point outputs against float, write the
// artifacts. Each stage stays usable on its own.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/export.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"

namespace lq {

struct PipelineInput {
  std::optional<Shape> shape;       // fixes dynamic dimensions (all shapes become static)
  std::vector<std::string> calibration;  // .npy files / folders, or pictures with `images`
  bool images = false;
  ImagePreprocess preprocess;
  // Set: the conversion from this runtime format (and its mean/scale) is folded into the
  // program (fuse_input_format), which then takes raw pixels; the calibration data are raw
  // pixels in that format too (pictures are converted to it, .npy files must hold it).
  std::optional<InputFormat> format;
  // The range method skip without calibration data: the values random inputs are drawn from
  // ([-1, 1] if not given). Config key `range: [min, max]`.
  std::optional<Range> range;
};

struct LQ_EXPORT PipelineOptions {
  // model
  std::string model;
  std::vector<std::string> outputs;              // cut the graph at these values
  std::vector<std::string> remove_output_nodes;  // drop these nodes at the output boundary
  BoundaryRemoval remove_nodes;                  // boundary surgery (types, names), reported
  std::vector<std::string> extra_outputs;        // values made outputs too (after the cut)
  std::optional<int64_t> batch;                  // every input's first dimension
  // input name -> its shape and calibration data; the name "" stands for the model's only
  // input. With the range method skip and no calibration files, uniform random inputs in
  // [-1, 1] of the inputs' shapes stand in for data (4 samples).
  std::map<std::string, PipelineInput> inputs;
  // calibration and quantization. Sharded calibration (calibration.shard_index/shard_count)
  // writes its statistics to `stats_out` and stops (`calibrate_only`); a later run reads
  // the shards' files from `stats` (merged exactly, in any order) instead of calibrating.
  CalibrationOptions calibration;
  std::vector<std::string> stats;  // calibration statistics files to use instead of data
  std::string stats_out;           // write the calibration statistics here
  bool calibrate_only = false;     // stop after the calibrate stage
  QuantConfig quantization;
  StepProgress progress;  // optional: the quantize searches' and the compile's progress
  // compiler (input shapes come from the inputs' shapes or the calibration samples)
  Target target;
  int threads = 1;  // fixed-point Simulator threads in the evaluate stage
  CompileMode compile_mode = CompileMode::kBalance;  // the cost plan in program.json
  double balance_factor = 0.25;                       // kBalance's DDR traffic allowance
  // output: the artifacts written, in this order (report.json, which lists the others, last):
  // float (model.float.onnx), qdq (model.qdq.onnx), params (quant_params.json), quant_config
  // (quant_config.json, the QuantConfig used), config (config.json, these options), program
  // (model.lqm), program_summary (program.json), report (report.json)
  std::string output_dir;
  std::vector<std::string> artifacts = {"float", "qdq", "params", "config", "program",
                                        "program_summary", "report"};
  static const std::vector<std::string>& artifact_names();  // every artifact there is
  // The analyze stage (after evaluate): the precision report of the program on the kept
  // calibration samples, written into `analysis_dir` (default: output_dir/analysis).
  bool analyze = false;
  AnalysisOptions analysis;
  std::string analysis_dir;

  // One schema for JSON and YAML; errors name the key's path, the allowed values and the
  // nearest valid key. Relative paths are taken relative to `base_dir`.
  static PipelineOptions from_json(const std::string& text, const std::string& base_dir = "");
  static PipelineOptions from_yaml(const std::string& text, const std::string& base_dir = "");
  // Every option with its value (defaults included), as JSON.
  std::string to_json() const;
};

struct StageTime {
  std::string stage;
  double seconds;
};

struct PipelineResult {
  Graph float_graph;                      // optimized, cut, shapes fixed
  QuantizedGraph quantized;
  Program program;                        // the compiled integer program
  uint64_t calibration_samples = 0;
  size_t evaluation_samples = 0;          // the kept calibration samples the SNRs are over
  std::vector<TensorMap> evaluation_inputs;  // those samples (what the analyze stage reads)
  std::map<std::string, double> output_snr_db;  // fake-quantized vs float on kept samples
  std::map<std::string, double> fixed_snr_db;   // fixed-point Simulator vs float, same samples
  std::vector<StageTime> times;
  std::vector<RemovedNode> removed_nodes;  // boundary surgery: what the application runs
  std::vector<std::string> artifacts;     // files written
  std::string report_json;                // everything above, as JSON
  std::optional<PrecisionReport> analysis;  // with PipelineOptions::analyze
  std::string analysis_dir;                 // where it was written
  // The range method skip without data: activation ranges (and the SNRs) come from random
  // inputs, so the program runs but is not for accuracy (report.json "not_for_accuracy").
  bool random_calibration = false;
};

using StageCallback = std::function<void(const std::string& stage)>;

class LQ_EXPORT Pipeline {
 public:
  explicit Pipeline(PipelineOptions options);
  // Runs every stage in order. `on_stage` (optional) hears each stage's name as it starts;
  // options.calibration.progress hears calibration progress.
  PipelineResult run(const StageCallback& on_stage = nullptr) const;
  const PipelineOptions& options() const { return options_; }

 private:
  PipelineOptions options_;
};

}  // namespace lq
