// Accuracy of the quantized PP-OCR models on rendered pictures of known content: for each
// quantization config, the float Simulator with fake quantization against the known
// contents and against the float model, plus the output SNR; a plain min/max uint8 QDQ
// model run in ONNX Runtime as the baseline; ONNX Runtime on our QDQ export of the best
// config, which must agree with our fake quantization; and the best int8 and int16 configs
// compiled to integer programs and run by the fixed-point Simulator.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "eval_data.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"
#include "ocr_outputs.hpp"
#include "ort_peer.hpp"

namespace fs = std::filesystem;
using lq::bench::LabeledPicture;
using lq::bench::ModelTask;
using lq::bench::OcrResult;
using lq::bench::Task;

namespace {

const char* kUsage =
    "usage: lq_accuracy [--models det,rec,cls] [--quick] [--threads N] [--data-dir DIR]\n"
    "Quantizes the PP-OCR models with each range method (int8 and int16, per-channel weights),\n"
    "calibrated on rendered pictures, and prints per model: config | metric vs the known\n"
    "contents | metric vs the float model | output SNR against float. The baseline is a plain\n"
    "min/max per-tensor uint8 QDQ model run in ONNX Runtime. Metrics: rec exact string match %\n"
    "(character accuracy %), cls direction accuracy %, det box F1 % at IoU 0.5.\n"
    "  --quick      8 calibration and a few evaluation pictures per model\n"
    "  --threads N  Simulator and ONNX Runtime threads (default 2)\n"
    "  --data-dir   pictures (default $LQ_CACHE_DIR/eval, made by scripts/make-eval-data.py)\n"
    "Exit status: 0, 1 on an error or when ONNX Runtime running our QDQ export (DQ -> float op\n"
    "-> Q) disagrees with our fake quantization (cosine < 0.9999),\n"
    "77 when the models cannot be fetched.\n";

// ONNX Runtime's run of our QDQ export and our fake quantization compute the same numbers
// up to float summation order.
constexpr double kMinOrtCosine = 0.9999;

const lq::RangeMethod kMethods[] = {lq::RangeMethod::kMax,  lq::RangeMethod::kPercentile,
                                    lq::RangeMethod::kKL,   lq::RangeMethod::kMSE,
                                    lq::RangeMethod::kMMSE, lq::RangeMethod::kAuto};
// int16 leaves little to clip: the full range and the least-error one (also keeps a full
// run within ten minutes on two cores).
const lq::RangeMethod kInt16Methods[] = {lq::RangeMethod::kMax, lq::RangeMethod::kMSE};

struct Options {
  std::vector<std::string> models = {"det", "rec", "cls"};
  bool quick = false;
  int threads = 2;
  std::string data_dir;
};

// ---- Configs ----------------------------------------------------------------------------

struct Candidate {
  std::string label;
  lq::QuantConfig config;
  bool int8 = false;
  bool int16 = false;
};

lq::QuantConfig method_config(lq::RangeMethod method, lq::DType dtype) {
  lq::QuantConfig config;
  config.model.method = method;
  config.model.activation_dtype = dtype;
  config.model.weight_dtype = dtype;
  config.model.per_channel = true;
  return config;
}

// What a quantization tool does by default: min/max, uint8 asymmetric data, int8 weights
// with one scale per tensor.
lq::QuantConfig minmax_uint8_config() {
  lq::QuantConfig config;
  config.model.method = lq::RangeMethod::kMax;
  config.model.activation_dtype = lq::DType::kUInt8;
  config.model.symmetric_activations = false;
  config.model.weight_dtype = lq::DType::kInt8;
  config.model.per_channel = false;
  return config;
}

std::vector<Candidate> candidates() {
  std::vector<Candidate> list;
  // What `lquant quantize` does without flags, and with --bits 16 alone.
  list.push_back({"int8 default", lq::QuantConfig{}, false, false});
  lq::QuantConfig wide;
  wide.model.activation_dtype = lq::DType::kInt16;
  wide.model.weight_dtype = lq::DType::kInt16;
  list.push_back({"int16 default", wide, false, false});
  // The 8-bit default method forced on int16 (what --bits 16 did before it followed the width).
  list.push_back({"int16 percentile", method_config(lq::RangeMethod::kPercentile, lq::DType::kInt16), false, false});
  for (lq::RangeMethod m : kMethods) {
    list.push_back({fmt::format("int8 {}", lq::range_method_name(m)),
                    method_config(m, lq::DType::kInt8), true, false});
  }
  for (lq::RangeMethod m : kInt16Methods) {
    list.push_back({fmt::format("int16 {}", lq::range_method_name(m)),
                    method_config(m, lq::DType::kInt16), false, true});
  }
  // Mixed precision: a quarter of the activation elements int16, the most sensitive first.
  lq::QuantConfig mixed = method_config(lq::RangeMethod::kMSE, lq::DType::kInt8);
  mixed.int16_budget = 0.25;
  list.push_back({"int8 mse, 25 % int16", mixed, false, false});
  return list;
}

// ---- Running and decoding -----------------------------------------------------------------

struct Model {
  ModelTask task;
  std::string path;
  lq::Graph graph;
  std::string input;
  std::string output;
};

struct EvalSet {
  std::vector<lq::TensorMap> inputs;
  std::vector<OcrResult> truth;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

EvalSet load_eval_set(const Model& model, const std::vector<LabeledPicture>& pictures) {
  EvalSet set;
  for (const LabeledPicture& p : pictures) {
    set.inputs.push_back({{model.input, lq::load_image(p.path, model.task.preprocess)}});
    set.truth.push_back(p.truth);
  }
  return set;
}

std::vector<lq::Tensor> run_all(const lq::Simulator& simulator, const Model& model,
                                const EvalSet& set) {
  std::vector<lq::Tensor> outputs;
  for (const lq::TensorMap& inputs : set.inputs)
    outputs.push_back(simulator.run(inputs).at(model.output));
  return outputs;
}

std::vector<OcrResult> decode_all(Task task, const std::vector<lq::Tensor>& outputs,
                                  const std::vector<std::string>& dictionary) {
  std::vector<OcrResult> results;
  for (const lq::Tensor& out : outputs) {
    OcrResult r;
    if (task == Task::kRec) r.text = lq::bench::ctc_greedy_decode(out, dictionary);
    if (task == Task::kCls) r.angle = lq::bench::text_angle(out);
    if (task == Task::kDet) r.boxes = lq::bench::db_boxes(out);
    results.push_back(std::move(r));
  }
  return results;
}

// One batch of all pictures for ONNX Runtime (every picture of a set has the same shape).
lq::Tensor stack(const std::vector<lq::TensorMap>& inputs, const std::string& name) {
  const lq::Tensor& first = inputs.at(0).at(name);
  lq::Shape shape = first.shape();
  shape[0] = static_cast<int64_t>(inputs.size());
  lq::Tensor batch(lq::DType::kFloat32, shape);
  float* out = batch.data<float>();
  for (const lq::TensorMap& one : inputs) {
    const lq::Tensor& t = one.at(name);
    if (t.shape() != first.shape())
      throw std::runtime_error("pictures of different shapes in one set");
    out = std::copy(t.data<float>(), t.data<float>() + t.numel(), out);
  }
  return batch;
}

std::vector<lq::Tensor> unstack(const lq::Tensor& batch) {
  lq::Shape shape = batch.shape();
  const int64_t count = shape.at(0);
  shape[0] = 1;
  const int64_t each = lq::shape_numel(shape);
  std::vector<lq::Tensor> items;
  for (int64_t i = 0; i < count; ++i) {
    lq::Tensor item(lq::DType::kFloat32, shape);
    const float* from = batch.data<float>() + i * each;
    std::copy(from, from + each, item.data<float>());
    items.push_back(std::move(item));
  }
  return items;
}

// tests/ort/ort_run.js's graph optimization level for the ORT runs in its scope. "all" fuses
// QDQ pairs into integer kernels (QLinearConv, ...) that round differently at ties;
// "disabled" runs DequantizeLinear -> float op -> QuantizeLinear as exported, the computation
// fake quantization does.
class OrtOptimizationLevel {
 public:
  explicit OrtOptimizationLevel(const char* level) {
    if (const char* old = std::getenv(kVariable)) previous_ = old;
    setenv(kVariable, level, 1);
  }
  ~OrtOptimizationLevel() {
    if (previous_) {
      setenv(kVariable, previous_->c_str(), 1);
    } else {
      unsetenv(kVariable);
    }
  }
  OrtOptimizationLevel(const OrtOptimizationLevel&) = delete;
  OrtOptimizationLevel& operator=(const OrtOptimizationLevel&) = delete;

 private:
  static constexpr const char* kVariable = "LQ_ORT_OPT_LEVEL";
  std::optional<std::string> previous_;
};

std::vector<lq::Tensor> run_ort(const lq::test::OrtPeer& ort, const lq::Graph& graph,
                                const fs::path& file, const Model& model, const EvalSet& set,
                                int threads) {
  lq::save_onnx(graph, file.string());
  const lq::TensorMap outputs =
      ort.run(file.string(), {{model.input, stack(set.inputs, model.input)}}, threads);
  return unstack(outputs.at(model.output));
}

// ---- Metrics -------------------------------------------------------------------------------

struct Score {
  double primary = 0.0;             // percent
  std::optional<double> secondary;  // percent (rec: character accuracy)
};

std::string trimmed(const std::string& text) {
  const size_t begin = text.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

Score compare(Task task, const std::vector<OcrResult>& got, const std::vector<OcrResult>& want) {
  const auto n = static_cast<double>(want.size());
  if (task == Task::kRec) {
    double exact = 0.0, errors = 0.0, length = 0.0;
    for (size_t i = 0; i < want.size(); ++i) {
      const std::string a = trimmed(got[i].text), b = trimmed(want[i].text);
      exact += a == b;
      errors += static_cast<double>(
          std::min(lq::bench::edit_distance(a, b), lq::bench::code_point_count(b)));
      length += static_cast<double>(lq::bench::code_point_count(b));
    }
    return {100.0 * exact / n, 100.0 * (1.0 - errors / std::max(length, 1.0))};
  }
  if (task == Task::kCls) {
    double same = 0.0;
    for (size_t i = 0; i < want.size(); ++i) same += got[i].angle == want[i].angle;
    return {100.0 * same / n, std::nullopt};
  }
  lq::bench::BoxCounts counts;
  for (size_t i = 0; i < want.size(); ++i)
    counts += lq::bench::match_boxes(got[i].boxes, want[i].boxes);
  return {100.0 * counts.f1(), std::nullopt};
}

// Signal-to-noise ratio (dB) of `got` against `reference`, over every element of every output.
double snr_db(const std::vector<lq::Tensor>& reference, const std::vector<lq::Tensor>& got) {
  double signal = 0.0, noise = 0.0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const float* r = reference[i].data<float>();
    const float* g = got[i].data<float>();
    for (int64_t k = 0; k < reference[i].numel(); ++k) {
      signal += static_cast<double>(r[k]) * r[k];
      noise += (static_cast<double>(g[k]) - r[k]) * (static_cast<double>(g[k]) - r[k]);
    }
  }
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

double cosine(const std::vector<lq::Tensor>& a, const std::vector<lq::Tensor>& b) {
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const float* x = a[i].data<float>();
    const float* y = b[i].data<float>();
    for (int64_t k = 0; k < a[i].numel(); ++k) {
      ab += static_cast<double>(x[k]) * y[k];
      aa += static_cast<double>(x[k]) * x[k];
      bb += static_cast<double>(y[k]) * y[k];
    }
  }
  return ab / std::sqrt(std::max(aa * bb, 1e-300));
}

bool same_params(const lq::QuantizedGraph& a, const lq::QuantizedGraph& b) {
  auto same = [](const auto& x, const auto& y) {
    return x.first == y.first && x.second.dtype == y.second.dtype &&
           x.second.scale == y.second.scale && x.second.zero_point == y.second.zero_point &&
           x.second.axis == y.second.axis;
  };
  return std::equal(a.params.begin(), a.params.end(), b.params.begin(), b.params.end(), same);
}

// ---- Report ----------------------------------------------------------------------------------

struct Row {
  std::string label;
  bool int8 = false;
  bool int16 = false;
  Score vs_truth;
  Score vs_float;
  double snr = 0.0;
  double seconds = 0.0;
  std::vector<lq::Tensor> outputs;
};

std::string format_score(const Score& s) {
  return s.secondary ? fmt::format("{:5.1f} ({:5.1f})", s.primary, *s.secondary)
                     : fmt::format("{:5.1f}", s.primary);
}

const char* metric_name(Task task) {
  if (task == Task::kRec) return "exact string match % (character accuracy %)";
  if (task == Task::kCls) return "direction accuracy %";
  return "box F1 % at IoU 0.5";
}

void print_row(const Row& row) {
  fmt::print("{:<22} | {:>13} | {:>13} | {:>6.1f} | {:>6.1f}\n", row.label,
             format_score(row.vs_truth), format_score(row.vs_float), row.snr, row.seconds);
  std::fflush(stdout);
}

// Highest agreement with float, then highest SNR.
const Row& best_int8(const std::vector<Row>& rows) {
  const Row* best = nullptr;
  for (const Row& r : rows) {
    if (!r.int8) continue;
    if (!best || r.vs_float.primary > best->vs_float.primary ||
        (r.vs_float.primary == best->vs_float.primary && r.snr > best->snr)) {
      best = &r;
    }
  }
  return *best;
}

// ---- One model ------------------------------------------------------------------------------

struct Sets {
  std::vector<std::string> calibration_files;
  std::vector<LabeledPicture> evaluation;
};

Sets choose_sets(const ModelTask& task, const std::string& data_dir, bool quick) {
  Sets sets;
  for (const LabeledPicture& p : lq::bench::load_labeled_pictures(
           (fs::path(data_dir) / "calib" / task.name).string(), task.task)) {
    sets.calibration_files.push_back(p.path);
  }
  sets.evaluation = lq::bench::load_labeled_pictures(
      (fs::path(data_dir) / "eval" / task.name).string(), task.task);
  if (quick) {
    sets.calibration_files.resize(std::min<size_t>(sets.calibration_files.size(), 8));
    sets.evaluation.resize(
        std::min<size_t>(sets.evaluation.size(), task.task == Task::kDet ? 4 : 20));
  }
  return sets;
}

class ModelBench {
 public:
  ModelBench(const Model& model, const Sets& sets, const Options& options,
             const std::vector<std::string>& dictionary, const lq::test::OrtPeer& ort,
             const fs::path& work_dir)
      : model_(model),
        sets_(sets),
        options_(options),
        dictionary_(dictionary),
        ort_(ort),
        work_dir_(work_dir) {}

  // Prints the model's table; returns false when ORT disagrees with our fake quantization.
  bool run() {
    eval_ = load_eval_set(model_, sets_.evaluation);
    calibrate();
    fmt::print("\n{}: {} evaluation, {} calibration pictures; metric: {}\n", model_.task.name,
               eval_.inputs.size(), sets_.calibration_files.size(), metric_name(model_.task.task));
    fmt::print("{:<22} | {:>13} | {:>13} | {:>6} | {:>6}\n", "config", "vs truth", "vs float",
               "SNR dB", "s");
    run_float();
    for (const Candidate& c : candidates()) rows_.push_back(evaluate(c));
    rows_.push_back(evaluate_baseline());
    return summarize();
  }

 private:
  void calibrate() {
    const auto start = std::chrono::steady_clock::now();
    lq::CalibrationOptions options;
    options.threads = options_.threads;
    lq::Calibrator calibrator(model_.graph, options);
    calibrator.add_sources(
        {{model_.input, {sets_.calibration_files, true, model_.task.preprocess}}});
    table_ = calibrator.table();
    // kAuto scores its candidates on a few calibration pictures.
    const size_t scored =
        std::min<size_t>(sets_.calibration_files.size(), lq::QuantConfig{}.auto_samples);
    for (size_t i = 0; i < scored; ++i) {
      auto_samples_.push_back(
          {{model_.input, lq::load_image(sets_.calibration_files[i], model_.task.preprocess)}});
    }
    calibration_seconds_ = seconds_since(start);
  }

  lq::SimulatorOptions simulator_options() const {
    lq::SimulatorOptions options;
    options.threads = options_.threads;
    return options;
  }

  void run_float() {
    const auto start = std::chrono::steady_clock::now();
    const lq::Simulator simulator(model_.graph, simulator_options());
    float_outputs_ = run_all(simulator, model_, eval_);
    float_results_ = decode_all(model_.task.task, float_outputs_, dictionary_);
    Row row;
    row.label = "float";
    row.vs_truth = compare(model_.task.task, float_results_, eval_.truth);
    row.vs_float = compare(model_.task.task, float_results_, float_results_);
    row.snr = std::numeric_limits<double>::infinity();
    row.seconds = seconds_since(start);
    float_row_ = row;
    print_row(row);
    fmt::print("{:<22} | {:>13} | {:>13} | {:>6} | {:>6.1f}\n", "(calibration)", "", "", "",
               calibration_seconds_);
  }

  Row scored_row(std::string label, std::vector<lq::Tensor> outputs) const {
    Row row;
    row.label = std::move(label);
    const std::vector<OcrResult> results = decode_all(model_.task.task, outputs, dictionary_);
    row.vs_truth = compare(model_.task.task, results, eval_.truth);
    row.vs_float = compare(model_.task.task, results, float_results_);
    row.snr = snr_db(float_outputs_, outputs);
    row.outputs = std::move(outputs);
    return row;
  }

  Row evaluate(const Candidate& candidate) {
    const auto start = std::chrono::steady_clock::now();
    qgraphs_.push_back(
        lq::quantize_model(lq::Quantizer(candidate.config), model_.graph, table_, auto_samples_));
    Row row;
    if (const Row* same = row_with_params(qgraphs_.back())) {
      row = *same;  // kAuto chose one method for the whole model: the same outputs
      row.label = candidate.label;
    } else {
      const lq::Simulator simulator =
          lq::fake_quant_simulator(qgraphs_.back(), simulator_options());
      row = scored_row(candidate.label, run_all(simulator, model_, eval_));
    }
    row.int8 = candidate.int8;
    row.int16 = candidate.int16;
    row.seconds = seconds_since(start);
    print_row(row);
    // kAuto's scores on the calibration samples, which explain its choice.
    for (const std::string& line : qgraphs_.back().log) {
      if (line.rfind("auto:", 0) == 0 || (line.rfind("mixed precision: ", 0) == 0 && line.find(" tensors int16") != std::string::npos)) {
        fmt::print("    {}\n", line);
      }
    }
    return row;
  }

  // An earlier row quantized with exactly these parameters, if any.
  const Row* row_with_params(const lq::QuantizedGraph& qgraph) const {
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (same_params(qgraphs_[i], qgraph)) return &rows_[i];
    }
    return nullptr;
  }

  Row evaluate_baseline() {
    const auto start = std::chrono::steady_clock::now();
    const lq::QuantizedGraph qgraph =
        lq::Quantizer(minmax_uint8_config()).quantize(model_.graph, table_);
    std::vector<lq::Tensor> outputs =
        run_ort(ort_, qgraph.to_qdq(), work_dir_ / (model_.task.name + "_minmax_uint8.onnx"),
                model_, eval_, options_.threads);
    Row row = scored_row("uint8 min/max (ORT)", std::move(outputs));
    row.seconds = seconds_since(start);
    print_row(row);
    return row;
  }

  // The best int8 config's QDQ export in ONNX Runtime (at an optimization level) against
  // our fake quantization.
  double ort_cosine(const Row& best, const char* level) {
    const OrtOptimizationLevel scoped(level);
    const size_t index = static_cast<size_t>(&best - rows_.data());
    const std::string file = fmt::format("{}_best_int8_{}.onnx", model_.task.name, level);
    const std::vector<lq::Tensor> outputs = run_ort(
        ort_, qgraphs_.at(index).to_qdq(), work_dir_ / file, model_, eval_, options_.threads);
    return cosine(outputs, best.outputs);
  }

  // A row's config compiled to an integer program, run by the fixed-point Simulator.
  Row evaluate_fixed(const Row& quantized) {
    const auto start = std::chrono::steady_clock::now();
    const size_t index = static_cast<size_t>(&quantized - rows_.data());
    lq::CompileOptions compile;
    compile.input_shapes[model_.input] = eval_.inputs.front().at(model_.input).shape();
    const lq::FixedSimulator fixed(lq::Compiler(compile).compile(qgraphs_.at(index)),
                                   {options_.threads});
    std::vector<lq::Tensor> outputs;
    for (const lq::TensorMap& inputs : eval_.inputs) {
      outputs.push_back(fixed.run_float(inputs).at(model_.output));
    }
    Row row = scored_row("program " + quantized.label, std::move(outputs));
    row.seconds = seconds_since(start);
    print_row(row);
    return row;
  }

  const Row* best_int16() const {
    const Row* best = nullptr;
    for (const Row& r : rows_) {
      if (r.int16 && (!best || r.snr > best->snr)) best = &r;
    }
    return best;
  }

  bool summarize() {
    const Row& best = best_int8(rows_);
    const Row fixed = evaluate_fixed(best);
    if (const Row* wide = best_int16()) evaluate_fixed(*wide);
    const Row& baseline = rows_.back();
    const double same_ops = ort_cosine(best, "disabled");
    const double fused = ort_cosine(best, "all");
    const bool agrees = same_ops >= kMinOrtCosine;
    fmt::print(
        "ORT on our QDQ export of {} vs our fake-quant: cosine {:.6f} with QDQ around float "
        "ops, no graph optimizations ({}); {:.6f} with all optimizations (fused integer "
        "kernels)\n",
        best.label, same_ops, agrees ? "ok, >= 0.9999" : "FAILED, < 0.9999", fused);
    double int16_snr = -std::numeric_limits<double>::infinity();
    std::string int16_label;
    for (const Row& r : rows_) {
      if (r.int16 && r.snr > int16_snr) {
        int16_snr = r.snr;
        int16_label = r.label;
      }
    }
    const bool within = best.vs_truth.primary >= float_row_.vs_truth.primary - 1.0;
    const bool better =
        best.vs_float.primary > baseline.vs_float.primary ||
        (best.vs_float.primary == baseline.vs_float.primary && best.snr > baseline.snr);
    fmt::print("best int8 method for {}: {} ({} vs truth, float {}; {} vs float; SNR {:.1f} dB)\n",
               model_.task.name, best.label.substr(5), format_score(best.vs_truth),
               format_score(float_row_.vs_truth), format_score(best.vs_float), best.snr);
    const bool program_within = fixed.vs_truth.primary >= float_row_.vs_truth.primary - 1.0;
    fmt::print(
        "goals for {}: int8 within 1 point of float: {} (fixed-point program: {}); better than "
        "uint8 min/max: {}; int16 SNR >= 40 dB: {} ({} {:.1f} dB)\n",
        model_.task.name, within ? "yes" : "NO", program_within ? "yes" : "NO",
        better ? "yes" : "NO", int16_snr >= 40.0 ? "yes" : "NO", int16_label, int16_snr);
    std::fflush(stdout);
    return agrees;
  }

  const Model& model_;
  const Sets& sets_;
  const Options& options_;
  const std::vector<std::string>& dictionary_;
  const lq::test::OrtPeer& ort_;
  fs::path work_dir_;

  EvalSet eval_;
  lq::CalibrationTable table_;
  std::vector<lq::TensorMap> auto_samples_;
  double calibration_seconds_ = 0.0;
  std::vector<lq::Tensor> float_outputs_;
  std::vector<OcrResult> float_results_;
  Row float_row_;
  std::vector<lq::QuantizedGraph> qgraphs_;  // of rows_[i], in order
  std::vector<Row> rows_;
};

// ---- Command line ---------------------------------------------------------------------------

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    lq::bench::model_task(item);  // throws naming an unknown model
    items.push_back(item);
  }
  if (items.empty()) throw std::runtime_error("--models needs a list such as det,rec,cls");
  return items;
}

Options parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (arg == "--quick") {
      options.quick = true;
      continue;
    }
    if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value (or is unknown)");
    const std::string value = argv[++i];
    if (arg == "--models") {
      options.models = split_list(value);
    } else if (arg == "--threads") {
      size_t used = 0;
      options.threads = std::stoi(value, &used);
      if (used != value.size() || options.threads < 1) {
        throw std::runtime_error("--threads needs an integer >= 1, got \"" + value + "\"");
      }
    } else if (arg == "--data-dir") {
      options.data_dir = value;
    } else {
      throw std::runtime_error("unknown option " + arg);
    }
  }
  return options;
}

Model load_model(const std::string& name, const std::string& path) {
  Model model{lq::bench::model_task(name), path, lq::load_onnx(path), "", ""};
  lq::optimize(model.graph);
  model.input = model.graph.inputs().at(0)->name();
  model.output = model.graph.outputs().at(0)->name();
  return model;
}

int run(const Options& options, const fs::path& work_dir) {
  const lq::test::ModelAssets assets = lq::test::fetch_models();
  const std::string data_dir =
      options.data_dir.empty() ? lq::bench::default_data_dir() : options.data_dir;
  if (options.data_dir.empty()) lq::bench::make_eval_data(data_dir);
  const std::vector<std::string> dictionary = lq::bench::load_dictionary(
      (fs::path(assets.models.at("rec")).parent_path() / "ppocr_keys_v1.txt").string());
  fs::create_directories(work_dir);
  const lq::test::OrtPeer ort(assets.ort_dir, work_dir);
  fmt::print("PP-OCR accuracy, {} thread(s){}; seconds include quantization and the runs\n",
             options.threads, options.quick ? ", quick" : "");
  bool agrees = true;
  for (const std::string& name : options.models) {
    Model model = load_model(name, assets.models.at(name));
    const Sets sets = choose_sets(model.task, data_dir, options.quick);
    agrees = ModelBench(model, sets, options, dictionary, ort, work_dir).run() && agrees;
  }
  return agrees ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "lq_accuracy: " << e.what() << "\n" << kUsage;
    return 2;
  }
  const fs::path work_dir =
      fs::temp_directory_path() / fmt::format("libquant-accuracy-{}", getpid());
  int status = 1;
  try {
    status = run(options, work_dir);
  } catch (const lq::test::PeerUnavailable& e) {
    std::cerr << "lq_accuracy: skipped: " << e.what() << "\n";
    status = lq::test::kSkipExitCode;
  } catch (const std::exception& e) {
    std::cerr << "lq_accuracy: " << e.what() << "\n";
  }
  fs::remove_all(work_dir);
  return status;
}
