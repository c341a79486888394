// lquant build: the whole job from one YAML or JSON config.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "libquant/pipeline.hpp"

namespace lq::cli {

namespace {

namespace fs = std::filesystem;

const char* kBuildHelp = R"(usage: lquant build CONFIG.(yaml|yml|json) [--print-config]

Runs the whole job the config describes: load (and cut) the float model, optimize it,
calibrate, quantize, compile to an integer program (model.lqm), measure the fake-quantized
and the fixed-point outputs against float, and write the artifacts and report.json into
the output directory, with a log of the run (build.log).
--print-config prints every option, defaults included, and exits.

config groups (paths are relative to the config file):
  model:         path (required), outputs [cut at these values], remove_output_nodes [...],
                 remove_node_types [op types removed where they touch an input or output,
                 repeatedly], remove_node_names [...], extra_outputs [values], batch (every
                 input's first dimension); removed nodes are listed in report.json
  input:         NAME: shape [..], calibration (folder/file/LMDB set or list), images (true|false),
                 size [h, w], resize (stretch|fit-height-pad|none), color (rgb|bgr|gray),
                 layout (nchw|nhwc), mean (n or [n,n,n]), scale (n or [n,n,n]), pad_value,
                 format (rgb|bgr|gray|yuv444|nv12: the program takes raw pixels in this format
                 and converts them to color/train_format with mean and scale inside;
                 docs/input-formats.md), format_layout (nchw|nhwc), yuv_range
                 (full|bt601_video), train_format (rgb|bgr|gray|yuv444), train_layout,
                 range [min, max] (method skip without calibration: random inputs' values,
                 default [-1, 1]; the result is flagged not for accuracy)
  calibration:   method (max|percentile|kl|mse|mmse|auto|skip), percentile, search_range,
                 outlier_factor, threads, histogram_bins, keep_samples, shard ("I/N": this
                 process's block of the samples), stats_out (write the statistics there),
                 stats [files from shards, used instead of calibrating] (lquant calibrate --help)
  quantization:  activation (int8|uint8|int16), weight (int4|int8|int16),
                 symmetric_activations, symmetric_weights, per_channel, scale
                 (float|power_of_two), input, output, post_sigmoid, int16_budget (share of
                 activations that may become int16, the most sensitive first), config (quant
                 config JSON file), op_types {...}, nodes {...}, tensors {...}
  compiler:      target (generic|int8|pow2-npu|small-npu, or a profile FILE.json),
                 cpu_ops [op types kept on CPU], threads (of the fixed-point Simulator that
                 measures the program), mode (latency|bandwidth|balance: the cost plan in
                 program.json), cores (the target's core count for it)
  output:        dir (required), artifacts [float, qdq, params, quant_config, config,
                 program, program_summary, report] (written in the order listed)
  analyze:       true, or: enabled (default true), dir (default output dir/analysis),
                 sensitivity, sensitivity_samples, integer_checks, dump (sample number),
                 histogram_bins: the precision report (lquant analyze --help)

example (yaml):
  model: {path: ch_ppocr_mobile_v2.0_cls_infer.onnx}
  input:
    x: {calibration: calib/cls, images: true, size: [48, 192], resize: fit-height-pad,
        color: bgr, mean: 127.5, scale: 0.0078431}
  calibration: {method: auto, threads: 2}
  quantization: {activation: int8, per_channel: true}
  output: {dir: out/cls}
)";

PipelineOptions load_config(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  const std::string base_dir = fs::absolute(path).parent_path().string();
  const std::string text = read_text(path);
  if (ext == ".json") return PipelineOptions::from_json(text, base_dir);
  if (ext == ".yaml" || ext == ".yml") return PipelineOptions::from_yaml(text, base_dir);
  throw UsageError(fmt::format("'{}': the config must end in .yaml, .yml or .json", path));
}

// Writes each line to stdout and to the log file.
class Log {
 public:
  explicit Log(const fs::path& path) : file_(path) {}
  void line(const std::string& text) {
    std::cout << text << "\n";
    file_ << text << "\n";
  }

 private:
  std::ofstream file_;
};

}  // namespace

int build_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kBuildHelp;
    return kExitOk;
  }
  std::string config_path;
  bool print_config = false;
  for (const std::string& arg : args) {
    if (arg == "--print-config") {
      print_config = true;
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for build", arg));
    } else if (config_path.empty()) {
      config_path = arg;
    } else {
      throw UsageError(fmt::format("unexpected argument '{}'", arg));
    }
  }
  if (config_path.empty()) throw UsageError("build needs a CONFIG.yaml or CONFIG.json");
  PipelineOptions options = load_config(config_path);
  if (print_config) {
    std::cout << options.to_json() << "\n";
    return kExitOk;
  }
  fs::create_directories(options.output_dir);
  Log log(fs::path(options.output_dir) / "build.log");
  Progress progress("calibrating");
  options.calibration.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
  StepProgressDisplay steps;
  options.progress = [&](const std::string& step, int64_t done, int64_t total) { steps.update(step, done, total); };
  const PipelineResult result = Pipeline(options).run([&](const std::string& stage) {
    if (stage == "quantize") progress.finish();
    if (stage == "evaluate") steps.finish();
    log.line("stage: " + stage);
  });
  steps.finish();
  log.line(fmt::format("calibrated on {} samples; {} tensors quantized", result.calibration_samples,
                       result.quantized.params.size()));
  if (result.random_calibration) {
    log.line("note: range method skip without calibration data: ranges from the weights and random "
             "inputs; the program runs but is not for accuracy");
  }
  for (const std::string& note : result.quantized.log) log.line("note: " + note);
  for (const LayerInfo& layer : result.program.layers()) {
    if (layer.kernel != "CPU") continue;
    log.line(fmt::format("CPU node {} \"{}\": {}", layer.op_type, layer.node, layer.cpu_reason));
  }
  log.line(fmt::format("program: {} instructions ({} on CPU), activations {:.1f} KiB, weights {:.1f} KiB",
                       result.program.instruction_count(), result.program.cpu_instruction_count(),
                       result.program.peak_activation_bytes() / 1024.0,
                       result.program.weight_bytes() / 1024.0));
  for (const auto& [name, snr] : result.output_snr_db) {
    log.line(fmt::format("output \"{}\": SNR {:.2f} dB against float (fake-quant), {:.2f} dB "
                         "(fixed-point program)",
                         name, snr, result.fixed_snr_db.count(name) ? result.fixed_snr_db.at(name) : 0.0));
  }
  for (const StageTime& t : result.times) log.line(fmt::format("time {:<10} {:8.2f} s", t.stage, t.seconds));
  for (const std::string& file : result.artifacts) {
    std::error_code ec;
    const auto bytes = fs::file_size(file, ec);
    log.line(fmt::format("wrote {} ({} bytes)", file, ec ? 0 : bytes));
  }
  return kExitOk;
}

}  // namespace lq::cli
