// lquant: the command-line front end of libquant.
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "libquant/status.hpp"

namespace {

const char* kHelp = R"(lquant - post-training quantization toolkit for NPUs

usage: lquant <verb> [options]

verbs:
  run        run a model (.onnx, float Simulator) or a compiled program (.lqm, fixed-point
             Simulator) on .npy inputs and write its outputs
  quantize   calibrate a model on sample data, quantize and compile it; write QDQ ONNX,
             parameters and the integer program (.lqm)
  calibrate  gather calibration statistics (one shard of the samples with --shard I/N) into
             a file, for `quantize --stats`
  merge-stats  merge the statistics files of the shards of one calibration, exactly
  analyze    where a quantized model lost accuracy, layer by layer: report.json and
             report.html from what quantize wrote (see `lquant analyze --help`)
  build      the whole job from one YAML/JSON config (see `lquant build --help`)
  targets    list the built-in target profiles
  check      where every node of a model runs on a target (NPU / CPU / unsupported), before
             calibration (exit code 3: CPU nodes, 4: unsupported nodes)
  estimate   per-layer MACs, bytes, SRAM tiling, DDR traffic, cycles, latency and FPS on a
             target, before calibration

`lquant <verb> --help` describes a verb.

exit codes:
  0  success
  1  the job failed (bad or unsupported model, bad input data, bad config, I/O error)
  2  the command line is wrong
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace lq::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kHelp;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string verb = args[0];
  args.erase(args.begin());
  try {
    if (verb == "run") return run_verb(args);
    if (verb == "quantize") return quantize_verb(args);
    if (verb == "build") return build_verb(args);
    if (verb == "calibrate") return calibrate_verb(args);
    if (verb == "merge-stats") return merge_stats_verb(args);
    if (verb == "analyze") return analyze_verb(args);
    if (verb == "targets") return targets_verb(args);
    if (verb == "check") return check_verb(args);
    if (verb == "estimate") return estimate_verb(args);
    throw UsageError("unknown verb '" + verb + "' (see lquant --help)");
  } catch (const UsageError& e) {
    std::cerr << "lquant: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "lquant: error: " << e.what() << "\n";
    return kExitError;
  }
}
