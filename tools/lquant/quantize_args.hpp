// The flags `lquant quantize` and `lquant calibrate` share (data, preprocessing, shapes,
// quant config), parsed once and turned into PipelineOptions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libquant/pipeline.hpp"

namespace lq::cli {

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
  std::optional<double> min_snr;
  int threads = 1;
  std::string target = "generic";
  bool images = false;
  ImagePreprocess preprocess;
  // --input-format NAME=FMT[:nhwc][:video]: the runtime format folded into the program.
  std::vector<std::pair<std::string, std::string>> input_formats;
  BoundaryRemoval remove_nodes;            // --remove-node-type T, --remove-node NAME
  std::vector<std::string> extra_outputs;  // --extra-output VALUE
  std::optional<int64_t> batch;            // --batch N
  std::optional<std::string> compile_mode; // --mode latency|bandwidth|balance
  int cores = 0;                           // --cores N (0: the target's)
  std::optional<double> balance_factor;    // --balance-factor F
  std::string shard;                // calibrate: "I/N"
  std::string stats_out;            // calibrate (required), quantize (optional)
  std::vector<std::string> stats;   // quantize: statistics files instead of --calib
  bool analyze = false;             // quantize: also write the precision report
  bool sensitivity = false;         // with analyze: each tensor's effect on the outputs
};

enum class QuantizeVerb { kQuantize, kCalibrate };

// Throws UsageError for flags the verb does not take or misses.
QuantizeArgs parse_quantize(const std::vector<std::string>& args, QuantizeVerb verb);
PipelineOptions pipeline_options(const QuantizeArgs& q);

}  // namespace lq::cli
