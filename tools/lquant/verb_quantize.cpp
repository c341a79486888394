// lquant quantize: calibrate, quantize, compile; write the QDQ model, the parameter report
// and the integer program (.lqm).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "cli.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

namespace lq::cli {

namespace {

namespace fs = std::filesystem;

const char* kQuantizeHelp = R"(usage: lquant quantize MODEL.onnx --calib NAME=DIR ... --out DIR [options]

Calibrates MODEL.onnx on sample data, quantizes it, compiles it to an integer program and
writes:
  DIR/model.qdq.onnx      the quantized model as ONNX QuantizeLinear/DequantizeLinear pairs
  DIR/model.float.onnx    the optimized float model the parameters refer to
  DIR/quant_params.json   every tensor: dtype, scale(s), zero point(s), range, method
  DIR/quant_config.json   the configuration used
  DIR/model.lqm           the compiled integer program (run it: lquant run DIR/model.lqm)
  DIR/program.json        its instructions, CPU nodes, tensors and memory plan
and prints a summary, including the SNR against float of the fake-quantized outputs and of
the fixed-point Simulator's outputs.

calibration data:
  --calib NAME=DIR       samples for model input NAME: a folder of .npy files (sorted by name),
                         or of pictures with --images. NAME= may be left out for a one-input
                         model. Every model input needs one.
  --images               the folders hold pictures (.png .jpg .jpeg .bmp), read with:
    --image-size HxW     target size, e.g. 48x192
    --resize MODE        stretch (default) | fit-height-pad (height fixed, width by aspect,
                         padded on the right, as PP-OCR text lines) | none
    --color ORDER        rgb (default) | bgr | gray
    --mean A[,B,C]       subtracted from pixels in [0, 255] (default 0)
    --scale A[,B,C]      multiplied after the mean (default 1)
  --input-shape NAME=1x3x48x192
                         with --method skip: the shape of random inputs for dynamic inputs

quantization:
  --config FILE.json     layered quant config (model < op_types < nodes, per-tensor overrides)
  --method M             activation range method: max | percentile | kl | mse | mmse | auto |
                         skip (overrides the config's model level)
  --percentile P         for percentile (default 0.999)
  --bits 8|16            activation and weight bit width (default 8)
  --per-channel          per-channel weight scales (the default)
  --per-tensor           one scale per weight tensor
  --int16-budget F       mixed precision: up to this share (0..1) of the activation elements
                         become int16, those that lower the output error most per element
                         (each measured alone on calibration samples)
  --threads N            calibration threads (default 1)

compilation:
  --target NAME          generic (default: int8 and int16 integer ops) | int8 (no int16: what
                         the config asks in int16 falls back to int8, with a note)
  The program has the shapes of the calibration samples (or --input-shape).
)";

struct QuantizeArgs {
  std::string model;
  std::vector<std::pair<std::string, std::string>> calib;
  std::map<std::string, Shape> input_shapes;
  std::string out_dir;
  std::string config_file;
  std::optional<std::string> method;
  std::optional<double> percentile;
  std::optional<int> bits;
  std::optional<bool> per_channel;
  std::optional<double> int16_budget;
  int threads = 1;
  std::string target = "generic";
  bool images = false;
  ImagePreprocess preprocess;
};

Shape parse_shape(const std::string& flag, const std::string& text) {
  Shape shape;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, 'x')) shape.push_back(parse_positive(flag, item));
  return shape;
}

std::array<float, 3> three_values(const std::string& flag, const std::string& text) {
  const auto values = parse_numbers(flag, text);
  if (values.size() != 1 && values.size() != 3) throw UsageError(flag + " takes one or three numbers");
  std::array<float, 3> out{};
  for (size_t c = 0; c < 3; ++c) out[c] = static_cast<float>(values[values.size() == 1 ? 0 : c]);
  return out;
}

QuantizeArgs parse_quantize(const std::vector<std::string>& args) {
  QuantizeArgs q;
  q.preprocess.resize = ResizeMode::kStretch;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--calib") {
      q.calib.push_back(split_assignment(value()));
    } else if (arg == "--out") {
      q.out_dir = value();
    } else if (arg == "--config") {
      q.config_file = value();
    } else if (arg == "--method") {
      q.method = value();
    } else if (arg == "--percentile") {
      q.percentile = parse_number(arg, value());
    } else if (arg == "--bits") {
      const int bits = parse_positive(arg, value());
      if (bits != 8 && bits != 16) throw UsageError("--bits takes 8 or 16");
      q.bits = bits;
    } else if (arg == "--per-channel" || arg == "--per-tensor") {
      q.per_channel = arg == "--per-channel";
    } else if (arg == "--int16-budget") {
      const double budget = parse_number(arg, value());
      if (!(budget >= 0.0 && budget <= 1.0)) throw UsageError("--int16-budget takes a share in [0, 1]");
      q.int16_budget = budget;
    } else if (arg == "--threads") {
      q.threads = parse_positive(arg, value());
    } else if (arg == "--target") {
      q.target = value();
    } else if (arg == "--images") {
      q.images = true;
    } else if (arg == "--image-size") {
      const Shape hw = parse_shape(arg, value());
      if (hw.size() != 2) throw UsageError("--image-size takes HxW, e.g. 48x192");
      q.preprocess.height = hw[0];
      q.preprocess.width = hw[1];
    } else if (arg == "--resize") {
      const std::string& mode = value();
      if (mode == "stretch") q.preprocess.resize = ResizeMode::kStretch;
      else if (mode == "fit-height-pad") q.preprocess.resize = ResizeMode::kFitHeightPad;
      else if (mode == "none") q.preprocess.resize = ResizeMode::kNone;
      else throw UsageError("--resize takes stretch, fit-height-pad or none, got '" + mode + "'");
    } else if (arg == "--color") {
      const std::string& order = value();
      if (order == "rgb") q.preprocess.color = ColorOrder::kRGB;
      else if (order == "bgr") q.preprocess.color = ColorOrder::kBGR;
      else if (order == "gray") q.preprocess.color = ColorOrder::kGray;
      else throw UsageError("--color takes rgb, bgr or gray, got '" + order + "'");
    } else if (arg == "--mean") {
      q.preprocess.mean = three_values(arg, value());
    } else if (arg == "--scale") {
      q.preprocess.scale = three_values(arg, value());
    } else if (arg == "--input-shape") {
      const auto [name, shape] = split_assignment(value());
      q.input_shapes[name] = parse_shape(arg, shape);
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for quantize", arg));
    } else if (q.model.empty()) {
      q.model = arg;
    } else {
      throw UsageError(fmt::format("unexpected argument '{}' (the model is '{}')", arg, q.model));
    }
  }
  if (q.model.empty()) throw UsageError("quantize needs a MODEL.onnx");
  if (q.out_dir.empty()) throw UsageError("quantize needs --out DIR");
  const bool skip = q.method && *q.method == "skip";
  if (q.calib.empty() && !skip) throw UsageError("quantize needs --calib NAME=DIR (or --method skip)");
  if (q.images && q.preprocess.resize != ResizeMode::kNone && q.preprocess.height == 0) {
    throw UsageError("--images needs --image-size HxW (or --resize none)");
  }
  return q;
}

QuantConfig build_config(const QuantizeArgs& q) {
  QuantConfig config = q.config_file.empty() ? QuantConfig{} : QuantConfig::from_json(read_text(q.config_file));
  if (q.method) config.model.method = parse_range_method(*q.method);
  if (q.percentile) config.model.percentile = *q.percentile;
  if (q.bits) {
    config.model.activation_dtype = *q.bits == 16 ? DType::kInt16 : DType::kInt8;
    config.model.weight_dtype = *q.bits == 16 ? DType::kInt16 : DType::kInt8;
  }
  if (q.per_channel) config.model.per_channel = *q.per_channel;
  if (q.int16_budget) config.int16_budget = *q.int16_budget;
  return config;
}

// kSkip: no data, so uniform random inputs in [-1, 1] stand in (max ranges of those).
void calibrate_on_random_inputs(const Graph& graph, const QuantizeArgs& q, Calibrator& calibrator) {
  std::mt19937 rng(20261126);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  constexpr int kRandomSamples = 4;
  for (int s = 0; s < kRandomSamples; ++s) {
    TensorMap sample;
    for (const Value* in : graph.inputs()) {
      auto given = q.input_shapes.find(in->name());
      if (given == q.input_shapes.end() && !in->type().is_static()) {
        throw UsageError(fmt::format("input \"{}\" has dynamic shape {}; give --input-shape {}=...",
                                     in->name(), in->type().str(), in->name()));
      }
      Tensor t(DType::kFloat32, given != q.input_shapes.end() ? given->second : in->type().static_shape());
      float* p = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = uniform(rng);
      sample[in->name()] = t;
    }
    calibrator.add_sample(sample);
  }
}

void print_summary(const QuantizedGraph& qgraph, const std::vector<TensorMap>& samples) {
  std::map<std::string, int> by_kind;
  for (const auto& [name, p] : qgraph.params) {
    const Value& v = qgraph.graph.value(name);
    const std::string role = v.is_constant() ? (p.dtype == DType::kInt32 ? "bias" : "constant") : "activation";
    ++by_kind[fmt::format("{} {}{}", role, dtype_name(p.dtype), p.per_channel() ? " per-channel" : "")];
  }
  fmt::print("quantized tensors:\n");
  for (const auto& [kind, count] : by_kind) fmt::print("  {:>5}  {}\n", count, kind);
  for (const std::string& line : qgraph.log) fmt::print("note: {}\n", line);
  for (const auto& [name, snr] : output_snr_db(qgraph, samples)) {
    fmt::print("output \"{}\": SNR {:.2f} dB against float over {} calibration samples\n", name,
               snr, samples.size());
  }
}

// The program has static shapes: dynamic inputs take --input-shape or the samples' shapes.
Program compile(const QuantizedGraph& qgraph, const QuantizeArgs& q, const std::vector<TensorMap>& samples) {
  CompileOptions options;
  options.target = Target::named(q.target);
  for (const Value* in : qgraph.graph.inputs()) {
    if (in->type().is_static()) continue;
    auto given = q.input_shapes.find(in->name());
    if (given != q.input_shapes.end()) {
      options.input_shapes[in->name()] = given->second;
    } else if (!samples.empty() && samples.front().count(in->name())) {
      options.input_shapes[in->name()] = samples.front().at(in->name()).shape();
    }
  }
  return Compiler(options).compile(qgraph);
}

void print_program_summary(const QuantizedGraph& qgraph, const Program& program,
                           const std::vector<TensorMap>& samples) {
  int listed = 0;
  for (const LayerInfo& layer : program.layers()) {
    if (layer.kernel != "CPU" || ++listed > 10) continue;
    fmt::print("  CPU node {} \"{}\": {}\n", layer.op_type, layer.node, layer.cpu_reason);
  }
  const int64_t cpu = program.cpu_instruction_count();
  if (cpu > 10) fmt::print("  ... {} CPU nodes in all (program.json lists them)\n", cpu);
  fmt::print("program: {} instructions ({} integer, {} CPU), activations {:.1f} KiB, weights {:.1f} KiB\n",
             program.instruction_count(), program.instruction_count() - cpu, cpu,
             program.peak_activation_bytes() / 1024.0, program.weight_bytes() / 1024.0);
  const Simulator reference(qgraph.graph);
  const FixedSimulator fixed(program);
  std::vector<TensorMap> want, got;
  for (const TensorMap& sample : samples) {
    want.push_back(reference.run(sample));
    got.push_back(fixed.run_float(sample));
  }
  for (const auto& [name, snr] : snr_db(want, got)) {
    fmt::print("output \"{}\": SNR {:.2f} dB against float with the fixed-point Simulator\n", name, snr);
  }
}

}  // namespace

int quantize_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kQuantizeHelp;
    return kExitOk;
  }
  const QuantizeArgs q = parse_quantize(args);
  const QuantConfig config = build_config(q);
  Graph graph = load_onnx(q.model);
  optimize(graph);

  constexpr size_t kEvalSamples = 8;
  CalibrationOptions options;
  options.threads = q.threads;
  options.keep_samples = std::max<size_t>(kEvalSamples, static_cast<size_t>(config.auto_samples));
  Progress progress("calibrating");
  options.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
  Calibrator calibrator(graph, options);
  if (config.resolve_model().range.method == RangeMethod::kSkip) {
    calibrate_on_random_inputs(graph, q, calibrator);
  } else {
    std::map<std::string, CalibrationSource> sources;
    for (const auto& [given, dir] : q.calib) {
      std::string name = given;
      if (name.empty()) {
        if (graph.inputs().size() != 1) {
          throw UsageError(fmt::format("the model has {} inputs; name each: --calib NAME=DIR", graph.inputs().size()));
        }
        name = graph.inputs().front()->name();
      }
      CalibrationSource& source = sources[name];
      source.paths.push_back(dir);
      source.images = q.images;
      source.preprocess = q.preprocess;
    }
    calibrator.add_sources(sources);
  }
  progress.finish();
  fmt::print("calibrated on {} samples\n", calibrator.table().samples);

  const Quantizer quantizer(config, Target::named(q.target));
  const QuantizedGraph qgraph = quantize_model(quantizer, graph, calibrator.table(), calibrator.kept_samples());
  fs::create_directories(q.out_dir);
  const fs::path out(q.out_dir);
  save_onnx(qgraph.to_qdq(), (out / "model.qdq.onnx").string());
  save_onnx(qgraph.graph, (out / "model.float.onnx").string());
  std::ofstream((out / "quant_params.json").string()) << qgraph.params_json() << "\n";
  std::ofstream((out / "quant_config.json").string()) << config.to_json() << "\n";
  print_summary(qgraph, calibrator.kept_samples());
  const Program program = compile(qgraph, q, calibrator.kept_samples());
  program.save((out / "model.lqm").string());
  std::ofstream((out / "program.json").string()) << program.summary_json() << "\n";
  print_program_summary(qgraph, program, calibrator.kept_samples());
  fmt::print("wrote {}/model.qdq.onnx, model.float.onnx, quant_params.json, quant_config.json, "
             "model.lqm, program.json\n", q.out_dir);
  return kExitOk;
}

}  // namespace lq::cli
