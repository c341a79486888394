// lquant targets / check / estimate: what the target profiles allow, before any calibration.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"

namespace lq::cli {

namespace {

const char* kTargetsHelp = R"(usage: lquant targets [--json]

Lists the built-in target profiles, one line each: name, activation and weight bit widths,
scale kind, weight granularity, cores, SRAM, int8 MACs per cycle, clock and description.
A profile of one's own is a JSON file (docs/target-profile.md) given as --target FILE.json.
)";

const char* kCheckHelp = R"(usage: lquant check MODEL.onnx [--target NAME|FILE.json] [--input-shape NAME=1x3x48x192]
                    [--activation int8|int16] [--weight int4|int8|int16] [--json]

Says, before any calibration, where every node of the (optimized) model runs on the target:
NPU (an integer kernel), CPU (with the rule or profile constraint that decided it) or
unsupported (no integer kernel and no float kernel). It compiles the model with nominal
quantization parameters: the Compiler's own lowering rules decide.

exit codes:
  0  every node runs on the NPU
  3  deployable, with CPU nodes (listed)
  4  not deployable: unsupported nodes (listed)
  1  the model could not be read or compiled;  2  the command line is wrong
)";

const char* kEstimateHelp = R"(usage: lquant estimate MODEL.onnx [--target NAME|FILE.json] [--input-shape NAME=1x3x640x640]
                       [--mode latency|bandwidth|balance] [--balance-factor F] [--cores N]
                       [--activation int8|int16] [--weight int4|int8|int16] [--json]

Estimates, without calibration, what the model costs on the target: per layer MACs, weight
and activation bytes at the chosen bit widths, the SRAM tiling (feature-map cuts when a layer
does not fit), DDR traffic and cycles; totals with latency and FPS. --mode and --cores change
the plan (docs/target-profile.md); balance takes the fewest cycles within --balance-factor
(default 0.25: 25 %) of the least DDR traffic. Every compile writes the same estimate into program.json.
)";

constexpr int kExitCpuNodes = 3;
constexpr int kExitUnsupported = 4;

Shape parse_dims(const std::string& flag, const std::string& text) {
  Shape shape;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, 'x')) shape.push_back(parse_positive(flag, item));
  return shape;
}

DType parse_bits(const std::string& flag, const std::string& text) {
  if (text == "int8") return DType::kInt8;
  if (text == "int16") return DType::kInt16;
  if (text == "int4" && flag == "--weight") return DType::kInt4;
  throw UsageError(fmt::format("{} takes {}, got '{}'", flag, flag == "--weight" ? "int4, int8 or int16" : "int8 or int16", text));
}

struct TargetArgs {
  std::string model;
  CompileOptions options;
  QuantConfig config;
  bool json = false;
};

TargetArgs parse_target_args(const std::vector<std::string>& args, const std::string& verb, bool estimate) {
  TargetArgs a;
  std::string target = "generic";
  int cores = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--target") {
      target = value();
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--input-shape") {
      const auto [name, dims] = split_assignment(value());
      if (name.empty()) throw UsageError("--input-shape takes NAME=DIMS, e.g. x=1x3x48x192");
      a.options.input_shapes[name] = parse_dims(arg, dims);
    } else if (arg == "--activation") {
      a.config.model.activation_dtype = parse_bits(arg, value());
    } else if (arg == "--weight") {
      a.config.model.weight_dtype = parse_bits(arg, value());
    } else if (estimate && arg == "--mode") {
      try {
        a.options.mode = parse_compile_mode(value());
      } catch (const Error& e) {
        throw UsageError(e.what());
      }
    } else if (estimate && arg == "--balance-factor") {
      a.options.balance_factor = parse_number(arg, value());
      if (!(a.options.balance_factor >= 0.0)) throw UsageError("--balance-factor takes a share >= 0, e.g. 0.25");
    } else if (estimate && arg == "--cores") {
      cores = parse_positive(arg, value());
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for {}", arg, verb));
    } else if (a.model.empty()) {
      a.model = arg;
    } else {
      throw UsageError(fmt::format("unexpected argument '{}'", arg));
    }
  }
  if (a.model.empty()) throw UsageError(verb + " needs a MODEL.onnx");
  Target t = Target::from_name_or_file(target);
  if (cores > 0) {
    TargetProfile p = t.profile();
    p.cost.cores = cores;
    t = Target(p);
  }
  a.options.target = t;
  return a;
}

Graph load_model(const TargetArgs& a) {
  Graph graph = load_onnx(a.model);
  if (!a.options.input_shapes.empty()) {
    try {
      propagate_shapes(graph, a.options.input_shapes);
    } catch (const Error&) {
      // A node no kernel runs (check reports it as unsupported); the compile fixes the
      // shapes of what it compiles itself.
    }
  }
  optimize(graph);
  return graph;
}

std::string bits_list(const Target& t) {
  return t.int16_activations() ? "a8/16" : "a8";
}

}  // namespace

int targets_verb(const std::vector<std::string>& args) {
  bool json = false;
  for (const std::string& arg : args) {
    if (arg == "--help") {
      std::cout << kTargetsHelp;
      return kExitOk;
    }
    if (arg != "--json") throw UsageError(fmt::format("unknown argument '{}' for targets", arg));
    json = true;
  }
  std::vector<std::string> lines;
  for (const std::string& name : Target::names()) {
    const Target t = Target::named(name);
    const TargetCostModel& c = t.profile().cost;
    std::vector<std::string> w;
    for (int b : t.weight_bits()) w.push_back(std::to_string(b));
    if (json) {
      lines.push_back(fmt::format(
          R"({{"name": "{}", "activation_bits": [{}], "weight_bits": [{}], "scale": "{}", "weights": "{}", "cores": {}, "sram_bytes": {}, "macs_per_cycle": {}, "clock_hz": {}, "description": "{}"}})",
          name, t.int16_activations() ? "8, 16" : "8", fmt::join(w, ", "),
          t.power_of_two_scales() ? "power_of_two" : "float", t.per_channel() ? "per_channel" : "per_tensor",
          c.cores, c.sram_bytes, c.macs_per_cycle, c.clock_hz, t.profile().description));
    } else {
      lines.push_back(fmt::format("{:<10} {:<6} w{:<8} {:<12} {:<11} {} core{} {:>5} KiB SRAM {:>5} MAC/cycle {:>5} MHz  {}",
                                  name, bits_list(t), fmt::format("{}", fmt::join(w, "/")),
                                  t.power_of_two_scales() ? "pow2-scales" : "float-scales",
                                  t.per_channel() ? "per-channel" : "per-tensor", c.cores, c.cores > 1 ? "s" : " ",
                                  c.sram_bytes / 1024, c.macs_per_cycle, c.clock_hz / 1e6, t.profile().description));
    }
  }
  if (json) {
    fmt::print("[\n  {}\n]\n", fmt::join(lines, ",\n  "));
  } else {
    for (const std::string& l : lines) fmt::print("{}\n", l);
  }
  return kExitOk;
}

int check_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kCheckHelp;
    return kExitOk;
  }
  const TargetArgs a = parse_target_args(args, "check", false);
  const DeploymentCheck check = check_deployment(load_model(a), a.options, a.config);
  if (a.json) {
    fmt::print("{}\n", check.to_json());
  } else {
    for (const NodePlacement& p : check.nodes) {
      fmt::print("{:<12} {:<18} {:<32} {}\n", placement_name(p.placement), p.op_type, p.node, p.reason);
    }
    fmt::print("target {}: {} nodes on the NPU, {} on the CPU, {} unsupported: {}\n", check.target, check.npu,
               check.cpu, check.unsupported,
               check.all_on_npu() ? "deployable, all on the NPU"
               : check.deployable() ? "deployable with CPU nodes"
                                    : "NOT deployable");
    for (const NodePlacement& p : check.nodes) {
      if (p.placement == Placement::kUnsupported) fmt::print("unsupported: {} node \"{}\"\n", p.op_type, p.node);
    }
  }
  return check.all_on_npu() ? kExitOk : check.deployable() ? kExitCpuNodes : kExitUnsupported;
}

int estimate_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kEstimateHelp;
    return kExitOk;
  }
  const TargetArgs a = parse_target_args(args, "estimate", true);
  const Program program = compile_nominal(load_model(a), a.options, a.config);
  const ProgramEstimate e = estimate_program(program, a.options.target, a.options.mode, a.options.balance_factor);
  if (a.json) {
    fmt::print("{}\n", e.to_json());
    return kExitOk;
  }
  fmt::print("{:<28} {:<14} {:>5} {:>12} {:>10} {:>10} {:>10} {:>5} {:>5} {:>11} {:>10}\n", "node", "kernel", "a/w",
             "MACs", "weights B", "in B", "out B", "cores", "tiles", "DDR B", "cycles");
  for (const LayerEstimate& l : e.layers) {
    fmt::print("{:<28} {:<14} {:>2}/{:<2} {:>12} {:>10} {:>10} {:>10} {:>5} {:>5} {:>11} {:>10}\n",
               l.node.substr(0, 28), l.kernel, l.activation_bits, l.weight_bits, l.macs, l.weight_bytes,
               l.input_bytes, l.output_bytes, l.cores, l.tiles, l.ddr_bytes, l.cycles);
  }
  fmt::print("target {} ({} mode{}, {} core{}, {} KiB SRAM, {:.0f} MHz): {} MACs, weights {} B, activations {} B, "
             "DDR {} B, {} cycles = {:.3f} ms, {:.1f} FPS\n",
             e.target, compile_mode_name(e.mode),
             e.mode == CompileMode::kBalance ? fmt::format(" {:g}", e.balance_factor) : std::string(), e.cores, e.cores > 1 ? "s" : "", e.sram_bytes / 1024,
             e.clock_hz / 1e6, e.macs, e.weight_bytes, e.activation_bytes, e.ddr_bytes, e.cycles,
             e.latency_seconds * 1e3, e.fps);
  return kExitOk;
}

}  // namespace lq::cli
