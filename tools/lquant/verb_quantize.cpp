// lquant quantize: calibrate, quantize, compile; write the QDQ model, the parameter report
// and the integer program (.lqm). The flags become PipelineOptions; the Pipeline runs the job.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "libquant/pipeline.hpp"
#include "quantize_args.hpp"

namespace lq::cli {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == sep) parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}


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
                         or of pictures with --images, or an LMDB set (a path ending in .lmdb,
                         or a directory holding data.mdb: each record an .npy file's bytes,
                         taken in key order, read one at a time). NAME= may be left out for a
                         one-input model. Every model input needs one.
  --images               the folders hold pictures (.png .jpg .jpeg .bmp), read with:
    --image-size HxW     target size, e.g. 48x192
    --resize MODE        stretch (default) | fit-height-pad (height fixed, width by aspect,
                         padded on the right, as PP-OCR text lines) | none
    --color ORDER        rgb (default) | bgr | gray
    --mean A[,B,C]       subtracted from pixels in [0, 255] (default 0)
    --scale A[,B,C]      multiplied after the mean (default 1)
  --batch N              every input's first dimension becomes N (shapes propagate)
  --input-format NAME=FMT[:nhwc][:video]
                         fold the preprocessing into the program: it takes raw pixels in
                         [0, 255] as FMT (rgb | bgr | gray | yuv444 | nv12 [N,H*3/2,W]; :nhwc
                         the layout of rgb/bgr/gray/yuv444, :video BT.601 video range for
                         yuv444/nv12), converted inside to what the model was trained on
                         (--color, with --mean and --scale); pictures are read into FMT,
                         .npy calibration files must hold FMT pixels
  --input-shape NAME=1x3x48x192
                         fixes a dynamic input's shape (every shape of the model becomes
                         static); with --method skip, the shape of the random inputs

model boundary (hb_compile's remove_node_type / remove_node_name / output_nodes):
  --remove-node-type T   remove nodes of op type T where they touch a model input or output,
                         repeatedly (e.g. a final Softmax, a leading Cast or Transpose); the
                         removed nodes are printed and listed in report.json for the
                         application to run; repeat the flag or separate types with ';'
  --remove-node NAME     remove this node, which must be at the boundary (repeatable)
  --extra-output VALUE   also make VALUE a model output (repeatable)

compiler:
  --mode M               latency | bandwidth | balance (default): the cost plan in program.json
  --balance-factor F     balance: the fewest cycles within F (default 0.25) of the least DDR traffic
  --cores N              the target's core count for that plan

quantization:
  --config FILE.json     layered quant config (model < op_types < nodes, per-tensor overrides)
  --method M             activation range method: max | percentile | kl | mse | mmse | auto |
                         skip (overrides the config's model level). Unset with 8-bit
                         activations: each single method is tried on the whole model and the
                         best output SNR on 4 calibration samples wins (the log names it)
  --percentile P         for percentile (default 0.999)
  --bits 8|16            activation and weight bit width (default 8)
  --per-channel          per-channel weight scales (the default)
  --per-tensor           one scale per weight tensor
  --int16-budget F       mixed precision: up to this share (0..1) of the activation elements
                         become int16, those that lower the output error most per element
                         (each measured alone on calibration samples)
  --min-snr DB           accuracy target: int16 for the most harmful activations, one at a
                         time within --int16-budget (default 0.25), until the output SNR on
                         the kept calibration samples reaches DB; says whether it did
  --threads N            calibration threads (default 1)
  --stats FILE           calibration statistics (lquant calibrate, lquant merge-stats) to use
                         instead of --calib; repeat it for the files of several shards, which
                         are merged exactly: the result equals calibrating on all their samples
  --stats-out FILE       also write the calibration statistics to FILE

analysis:
  --analyze              also write the precision report (lquant analyze) on the kept
                         calibration samples into DIR/analysis/
  --sensitivity          with --analyze: each tensor's effect on the outputs (slower)

compilation:
  --target NAME|FILE.json  generic (default: int8 and int16 integer ops) | int8 (no int16: what
                         the config asks in int16 falls back to int8, with a note) | pow2-npu |
                         small-npu (lquant targets), or a profile file (docs/target-profile.md)
  The program has the shapes of the calibration samples (or --input-shape).
)";

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

}  // namespace

QuantizeArgs parse_quantize(const std::vector<std::string>& args, QuantizeVerb verb) {
  const char* verb_name = verb == QuantizeVerb::kCalibrate ? "calibrate" : "quantize";
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
      if (verb == QuantizeVerb::kCalibrate) throw UsageError("calibrate writes no model: it takes --stats-out FILE, not --out");
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
    } else if (arg == "--min-snr") {
      const double snr = parse_number(arg, value());
      if (!(snr > 0.0 && snr <= 200.0)) throw UsageError("--min-snr takes a target in dB, e.g. 30");
      q.min_snr = snr;
    } else if (arg == "--threads") {
      q.threads = parse_positive(arg, value());
    } else if (arg == "--target") {
      q.target = value();
    } else if (arg == "--remove-node-type") {
      for (const std::string& t : split(value(), ';')) {
        if (!t.empty()) q.remove_nodes.op_types.push_back(t);
      }
    } else if (arg == "--remove-node") {
      q.remove_nodes.node_names.push_back(value());
    } else if (arg == "--extra-output") {
      q.extra_outputs.push_back(value());
    } else if (arg == "--batch") {
      q.batch = parse_positive(arg, value());
    } else if (arg == "--mode") {
      q.compile_mode = value();
    } else if (arg == "--cores") {
      q.cores = parse_positive(arg, value());
    } else if (arg == "--balance-factor") {
      q.balance_factor = parse_number(arg, value());
      if (!(*q.balance_factor >= 0.0)) throw UsageError("--balance-factor takes a share >= 0, e.g. 0.25");
    } else if (arg == "--input-format") {
      q.input_formats.push_back(split_assignment(value()));
    } else if (arg == "--analyze") {
      q.analyze = true;
    } else if (arg == "--sensitivity") {
      q.sensitivity = true;
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
    } else if (arg == "--shard" && verb == QuantizeVerb::kCalibrate) {
      q.shard = value();
      CalibrationOptions checked;
      try {
        parse_shard(q.shard, checked, "--shard");
      } catch (const Error& e) {
        throw UsageError(e.what());
      }
    } else if (arg == "--stats-out") {
      q.stats_out = value();
    } else if (arg == "--stats" && verb == QuantizeVerb::kQuantize) {
      q.stats.push_back(value());
    } else if (arg == "--input-shape") {
      const auto [name, shape] = split_assignment(value());
      q.input_shapes[name] = parse_shape(arg, shape);
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for {}", arg, verb_name));
    } else if (q.model.empty()) {
      q.model = arg;
    } else {
      throw UsageError(fmt::format("unexpected argument '{}' (the model is '{}')", arg, q.model));
    }
  }
  if (q.model.empty()) throw UsageError(fmt::format("{} needs a MODEL.onnx", verb_name));
  if (q.sensitivity && !q.analyze) throw UsageError("--sensitivity needs --analyze");
  const bool skip = q.method && *q.method == "skip";
  if (verb == QuantizeVerb::kCalibrate) {
    if (q.stats_out.empty()) throw UsageError("calibrate needs --stats-out FILE");
    if (q.calib.empty()) throw UsageError("calibrate needs --calib NAME=DIR");
    if (skip) throw UsageError("calibrate has nothing to gather with --method skip");
  } else {
    if (q.out_dir.empty()) throw UsageError("quantize needs --out DIR");
    if (!q.stats.empty() && !q.calib.empty()) {
      throw UsageError("--stats replaces --calib: give the statistics files or the data, not both");
    }
    if (q.calib.empty() && q.stats.empty() && !skip) {
      throw UsageError("quantize needs --calib NAME=DIR (or --stats FILE, or --method skip)");
    }
  }
  if (q.images && q.preprocess.resize != ResizeMode::kNone && q.preprocess.height == 0) {
    throw UsageError("--images needs --image-size HxW (or --resize none)");
  }
  return q;
}

namespace {

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
  if (q.min_snr) config.min_snr_db = *q.min_snr;
  return config;
}

}  // namespace

// The quantize job as Pipeline options: the model as loaded and optimized (no cut), the
// artifacts quantize has always written, in the order it names them.
PipelineOptions pipeline_options(const QuantizeArgs& q) {
  constexpr size_t kEvalSamples = 8;
  PipelineOptions o;
  o.model = q.model;
  o.quantization = build_config(q);
  o.target = Target::from_name_or_file(q.target);
  o.calibration.threads = q.threads;
  o.calibration.keep_samples = kEvalSamples;
  // The range method skip reads no data: the Pipeline calibrates on random inputs.
  if (o.quantization.resolve_model().range.method != RangeMethod::kSkip) {
    for (const auto& [name, dir] : q.calib) {
      PipelineInput& in = o.inputs[name];
      in.calibration.push_back(dir);
      in.images = q.images;
      in.preprocess = q.preprocess;
    }
  }
  for (const auto& [name, shape] : q.input_shapes) o.inputs[name].shape = shape;
  o.remove_nodes = q.remove_nodes;
  o.extra_outputs = q.extra_outputs;
  o.batch = q.batch;
  if (q.compile_mode) {
    try {
      o.compile_mode = parse_compile_mode(*q.compile_mode);
    } catch (const Error& e) {
      throw UsageError(std::string("--mode: ") + e.what());
    }
  }
  if (q.balance_factor) o.balance_factor = *q.balance_factor;
  if (q.cores > 0) {
    TargetProfile profile = o.target.profile();
    profile.cost.cores = q.cores;
    o.target = Target(profile);
  }
  for (const auto& [name, spec] : q.input_formats) {
    InputFormat f;
    const std::vector<std::string> parts = split(spec, ':');
    try {
      f.runtime = parse_pixel_format(parts.front());
    } catch (const Error& e) {
      throw UsageError(std::string("--input-format: ") + e.what());
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i] == "nhwc" || parts[i] == "nchw") f.runtime_layout = parts[i] == "nhwc" ? Layout::kNHWC : Layout::kNCHW;
      else if (parts[i] == "video" || parts[i] == "full") f.range = parts[i] == "video" ? YuvRange::kVideo : YuvRange::kFull;
      else throw UsageError("--input-format " + spec + ": '" + parts[i] + "' is not nhwc, nchw, video or full");
    }
    const ColorOrder color = q.preprocess.color;
    f.train = color == ColorOrder::kBGR ? PixelFormat::kBGR : color == ColorOrder::kGray ? PixelFormat::kGray : PixelFormat::kRGB;
    const size_t channels = f.train == PixelFormat::kGray ? 1 : 3;
    f.mean.assign(q.preprocess.mean.begin(), q.preprocess.mean.begin() + channels);
    f.scale.assign(q.preprocess.scale.begin(), q.preprocess.scale.begin() + channels);
    if (f.runtime != PixelFormat::kFeatureMap) o.inputs[name].format = f;
  }
  if (!q.shard.empty()) parse_shard(q.shard, o.calibration, "--shard");
  o.stats = q.stats;
  o.stats_out = q.stats_out;
  o.calibrate_only = q.out_dir.empty();
  o.output_dir = q.out_dir;
  o.artifacts = {"qdq", "float", "params", "quant_config", "program", "program_summary"};
  if (o.calibrate_only) o.artifacts.clear();
  o.analyze = q.analyze;
  o.analysis.sensitivity = q.sensitivity;
  return o;
}

namespace {

void print_tensor_kinds(const QuantizedGraph& qgraph) {
  std::map<std::string, int> by_kind;
  for (const auto& [name, p] : qgraph.params) {
    const Value& v = qgraph.graph.value(name);
    const std::string role = v.is_constant() ? (p.dtype == DType::kInt32 ? "bias" : "constant") : "activation";
    ++by_kind[fmt::format("{} {}{}", role, dtype_name(p.dtype), p.per_channel() ? " per-channel" : "")];
  }
  fmt::print("quantized tensors:\n");
  for (const auto& [kind, count] : by_kind) fmt::print("  {:>5}  {}\n", count, kind);
}

void print_program(const Program& program) {
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
}

void print_summary(const PipelineResult& result) {
  for (const RemovedNode& r : result.removed_nodes) {
    fmt::print("removed {} node \"{}\" at the model's {} ({} -> {}): the application runs it\n", r.op_type,
               r.name, r.at_input ? "input" : "output", fmt::join(r.inputs, ", "), fmt::join(r.outputs, ", "));
  }
  fmt::print("calibrated on {} samples\n", result.calibration_samples);
  if (result.random_calibration) {
    fmt::print("note: range method skip without calibration data: ranges from the weights and random "
               "inputs; the program runs but is not for accuracy\n");
  }
  print_tensor_kinds(result.quantized);
  for (const std::string& line : result.quantized.log) fmt::print("note: {}\n", line);
  for (const auto& [name, snr] : result.output_snr_db) {
    fmt::print("output \"{}\": SNR {:.2f} dB against float over {} calibration samples\n", name,
               snr, result.evaluation_samples);
  }
  print_program(result.program);
  for (const auto& [name, snr] : result.fixed_snr_db) {
    fmt::print("output \"{}\": SNR {:.2f} dB against float with the fixed-point Simulator\n", name, snr);
  }
  std::string files;
  for (const std::string& path : result.artifacts) {
    files += files.empty() ? path : ", " + fs::path(path).filename().string();
  }
  fmt::print("wrote {}\n", files);
}

}  // namespace

int quantize_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kQuantizeHelp;
    return kExitOk;
  }
  PipelineOptions options = pipeline_options(parse_quantize(args, QuantizeVerb::kQuantize));
  Progress progress("calibrating");
  options.calibration.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
  StepProgressDisplay steps;
  options.progress = [&](const std::string& step, int64_t done, int64_t total) { steps.update(step, done, total); };
  const PipelineResult result = Pipeline(options).run([&](const std::string& stage) {
    if (stage == "quantize") progress.finish();
    if (stage == "evaluate") steps.finish();
  });
  steps.finish();
  print_summary(result);
  if (result.analysis) print_report_summary(*result.analysis, result.analysis_dir);
  return kExitOk;
}

}  // namespace lq::cli
