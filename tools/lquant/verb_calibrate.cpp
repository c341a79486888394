// lquant calibrate / merge-stats: calibration beyond one process. Each machine calibrates one
// shard of the samples and writes its statistics; merge-stats adds them up exactly; `lquant
// quantize --stats` quantizes from them as if it had calibrated on every sample itself.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "cli.hpp"
#include "libquant/pipeline.hpp"
#include "quantize_args.hpp"

namespace lq::cli {

namespace {

const char* kCalibrateHelp = R"(usage: lquant calibrate MODEL.onnx --calib NAME=DIR ... --stats-out FILE [--shard I/N] [options]

Calibrates MODEL.onnx on sample data and writes the calibration statistics (min/max,
histograms, the first samples kept for scoring) to FILE instead of quantizing. With
--shard I/N it calibrates only the I-th of N contiguous blocks of the samples (0 <= I < N),
so that N machines can each take one block:

  lquant calibrate m.onnx --calib x=data --shard 0/3 --stats-out s0.json   # machine 0
  lquant calibrate m.onnx --calib x=data --shard 1/3 --stats-out s1.json   # machine 1
  lquant calibrate m.onnx --calib x=data --shard 2/3 --stats-out s2.json   # machine 2
  lquant merge-stats s0.json s1.json s2.json --out all.json
  lquant quantize m.onnx --stats all.json --out out     # or --stats s0.json --stats s1.json ...

The merged statistics equal, bit for bit, one calibration over every sample, so the
quantized model does too. Every shard must see the same sample folders (the same list of
files) and the same flags.

options: the calibration data, preprocessing and quantization flags of `lquant quantize`
(--calib, --images, --image-size, --resize, --color, --mean, --scale, --input-shape,
--config, --method, --percentile, --bits, --per-channel, --per-tensor, --threads, --target;
see `lquant quantize --help`). Give the shards and the final quantize the same --input-shape,
--config and --method: the method decides how many samples are kept for scoring.
  --shard I/N            this process's block of the samples (default 0/1: all of them)
  --stats-out FILE       where the statistics go (required)
)";

const char* kMergeHelp = R"(usage: lquant merge-stats FILE... --out FILE

Merges the calibration statistics files of the shards of one calibration (lquant calibrate
--shard I/N --stats-out FILE) into one file, exactly: the result equals one calibration over
all their samples. The files may come in any order; files of different models or input
shapes, with different histogram bins or from another libquant version are refused, naming
the file.
)";

bool wants_help(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--help") != args.end() ||
         std::find(args.begin(), args.end(), "-h") != args.end();
}

}  // namespace

int calibrate_verb(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << kCalibrateHelp;
    return kExitOk;
  }
  PipelineOptions options = pipeline_options(parse_quantize(args, QuantizeVerb::kCalibrate));
  Progress progress("calibrating");
  options.calibration.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
  const PipelineResult result = Pipeline(options).run();
  progress.finish();
  fmt::print("calibrated on {} samples (shard {}/{})\nwrote {}\n", result.calibration_samples,
             options.calibration.shard_index, options.calibration.shard_count, options.stats_out);
  return kExitOk;
}

int merge_stats_verb(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << kMergeHelp;
    return kExitOk;
  }
  std::vector<std::string> files;
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--out") {
      if (i + 1 >= args.size()) throw UsageError("--out needs a value");
      out = args[++i];
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for merge-stats", args[i]));
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.empty()) throw UsageError("merge-stats needs the statistics FILEs to merge");
  if (out.empty()) throw UsageError("merge-stats needs --out FILE");
  const CalibrationTable table = CalibrationTable::merge_files(files);
  table.save(out);
  fmt::print("merged {} files ({} samples)\nwrote {}\n", files.size(), table.samples, out);
  return kExitOk;
}

}  // namespace lq::cli
