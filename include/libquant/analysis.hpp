// Analysis: the fake-quantized model against its float graph (fake_quant_simulator, SNR),
// and the searches that quantize many times. quantize_model is the Quantizer with the
// searches its config asks for: RangeMethod::kAuto (each tensor's range chosen among the
// range methods' by the error at its consumers, then refined by the model outputs' error,
// QuantConfig::auto_evaluations) and mixed precision (QuantConfig::int16_budget).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libquant/calibrator.hpp"
#include "libquant/export.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace lq {

// A float Simulator that quantizes and dequantizes every value of `qgraph` that has
// parameters, as the QDQ export does. `qgraph` must outlive it.
LQ_EXPORT Simulator fake_quant_simulator(const QuantizedGraph& qgraph, SimulatorOptions options = {});

// SNR (dB) of each float32 output of `measured` against `reference` (one TensorMap per
// sample, same names), signal and noise power accumulated over all samples.
LQ_EXPORT std::map<std::string, double> snr_db(const std::vector<TensorMap>& reference,
                                               const std::vector<TensorMap>& measured);

// SNR (dB) of each float output of the fake-quantized model against the float model
// (qgraph.graph), accumulated over `samples`.
LQ_EXPORT std::map<std::string, double> output_snr_db(const QuantizedGraph& qgraph,
                                                      const std::vector<TensorMap>& samples,
                                                      int threads = 1);

// Noise power over signal power of `got` against `want` (0 unless both are float32).
LQ_EXPORT double relative_error(const Tensor& got, const Tensor& want);

// Progress of a long step: its name ("auto search", "mixed precision", "compile"), done of
// total units (model evaluations, tensors, nodes); the last call of a step has done == total.
using StepProgress = std::function<void(const std::string& step, int64_t done, int64_t total)>;

// `quantizer`'s QuantizedGraph of `graph`, with the searches of its config. `samples` (the
// calibration samples kept, CalibrationOptions::keep_samples) are what kAuto and
// int16_budget score on; the first QuantConfig::auto_samples of them are used. With
// samples and QuantConfig::select_range (on unless a range method is set), the range method
// is chosen per model among the single methods by output SNR on the first kSelectSamples;
// QuantConfig::min_snr_db then spends int16 until the kept samples reach it. Without
// kAuto, select_range, min_snr_db or int16_budget this equals quantizer.quantize(graph, table). Throws as the
// Quantizer does, and kFailedPrecondition when a search has no samples. `progress`
// (optional) hears the searches' steps.
LQ_EXPORT QuantizedGraph quantize_model(const Quantizer& quantizer, const Graph& graph,
                                        const CalibrationTable& table,
                                        const std::vector<TensorMap>& samples = {},
                                        const StepProgress& progress = nullptr);

// ---- Precision analysis: where accuracy was lost, layer by layer ------------------------
// The report's JSON schema is docs/report-schema.md.

struct AnalysisOptions {
  // Per activation: the model outputs' SNR with only it fake-quantized, and the gain when
  // only it goes int16 (two fake-quantized runs per tensor on `sensitivity_samples`).
  bool sensitivity = false;
  size_t sensitivity_samples = 8;
  // With sensitivity: the activations whose fake-quantized int16 gain is largest (at most
  // this many) are measured again on the integer program: recompiled with only that tensor
  // (and the values sharing its parameters) int16 and run by the fixed-point Simulator on
  // the same samples (TensorAnalysis::int16_gain_integer_db). 0: fake quantization only.
  size_t integer_checks = 5;
  // The recompiled programs' target (the program's own: `lquant quantize --target`).
  Target target;
  std::optional<size_t> dump_sample;  // keep every tensor of this sample, float and fixed
  int histogram_bins = 64;
  int threads = 1;
  // Optional: steps "analysis" (samples run, float and fixed-point) and "sensitivity"
  // (activations measured).
  StepProgress progress;
};

// One tensor against its float values; `relative` is noise power over signal power.
struct ErrorFigures {
  double snr_db = 0.0;
  double cosine = 1.0;
  double max_abs = 0.0;
  double relative = 0.0;
};

struct TensorAnalysis {
  std::string tensor;   // value name
  std::string node;     // its producer (for weights: the node reading it)
  std::string op_type;
  bool weight = false;  // a constant (weights), else an activation
  QuantParams params;
  int64_t elements = 0;  // per sample
  int64_t macs = 0;      // of the producing node (program layers)
  // The fixed-point program's tensor (dequantized) against float, over all samples;
  // empty for weights and for values the program does not store.
  std::optional<ErrorFigures> cumulative;
  // Only this tensor quantized and dequantized, its float values as input (fake
  // quantization of the float tensor alone).
  ErrorFigures isolated;
  double clipped_share = 0.0;  // values outside params.range
  // Every reader saturates (HardSigmoid, Clip, Relu, HardSwish): the Quantizer may clip the
  // range where they do, so clipped values there cost nothing downstream.
  bool readers_saturate = false;
  double histogram_min = 0.0, histogram_max = 0.0;  // bins span this (clip range included)
  std::vector<int64_t> histogram;
  double channel_spread = 0.0;  // weights: max / min of the output channels' max |w|
  std::optional<double> sensitivity_snr_db;  // model outputs, only this tensor quantized
  std::optional<double> int16_gain_db;       // model outputs' SNR gain, only this one int16
  // The same gain on the integer program (AnalysisOptions::integer_checks): the recompiled
  // program's outputs against float, minus the program's own, on the sensitivity samples.
  std::optional<double> int16_gain_integer_db;
};

struct LQ_EXPORT PrecisionReport {
  std::string model;
  size_t samples = 0;
  std::vector<TensorAnalysis> tensors;          // in graph order
  std::map<std::string, ErrorFigures> outputs;  // fixed-point program vs float
  std::map<std::string, double> fake_quant_output_snr_db;  // with sensitivity
  int64_t total_macs = 0;
  // The program's cost on AnalysisOptions::target (estimate_program, the balance plan):
  // ProgramEstimate::to_json, as `lquant estimate --json` and program.json write it.
  std::string estimate_json;
  std::vector<std::string> suggestions;  // worst first
  // Per suggestion: a quant config (JSON, QuantConfig::from_json) that applies it; "" when
  // the action is no config change. The suggestion's text ends with the same JSON.
  std::vector<std::string> suggestion_configs;
  std::vector<std::string> notes;  // what could not be measured, and why
  TensorMap dump_float, dump_fixed;      // AnalysisOptions::dump_sample
  double seconds = 0.0;

  std::string to_json() const;  // docs/report-schema.md
  std::string to_html() const;  // one self-contained page (inline SVG and script)
  // DIR/report.json, DIR/report.html and DIR/dumps/ (with a dump): written into a
  // temporary folder, then renamed into place.
  void write(const std::string& dir) const;
};

// Runs `samples` through the float graph and the fixed-point `program` and measures every
// tensor `qgraph` quantized. Throws kInvalidArgument naming the input when a sample does
// not fit the program's inputs.
LQ_EXPORT PrecisionReport analyze_precision(const QuantizedGraph& qgraph, const Program& program,
                                            const std::vector<TensorMap>& samples,
                                            const AnalysisOptions& options = {});

// quant_params.json (QuantizedGraph::params_json) back onto its float graph; throws
// kInvalidModel naming `context` and the tensor when a name is not in the graph.
LQ_EXPORT QuantizedGraph parse_quant_params(Graph graph, const std::string& json,
                                            const std::string& context = "quant_params.json");

// What `lquant analyze` does: reads QUANT_DIR (model.float.onnx, quant_params.json,
// model.lqm, as `lquant quantize` writes them), samples from folders of .npy files (input
// name -> folder; "" for a one-input model) and writes the report into `out_dir`.
LQ_EXPORT PrecisionReport analyze_quant_dir(const std::string& quant_dir,
                                            const std::map<std::string, std::string>& data_dirs,
                                            const std::string& out_dir,
                                            const AnalysisOptions& options = {});
// The same with sample sources as calibration takes them: per input, folders (or files) of
// .npy files, or of pictures (`images`) read with `preprocess`, as `lquant quantize --images`.
// Errors name the input and the file: a folder without samples, a sample of the wrong shape
// or dtype, files of different models in QUANT_DIR, a missing file. Nothing is written then.
LQ_EXPORT PrecisionReport analyze_quant_dir(const std::string& quant_dir,
                                            const std::map<std::string, CalibrationSource>& data,
                                            const std::string& out_dir,
                                            const AnalysisOptions& options = {});

}  // namespace lq
