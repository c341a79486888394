// The compiler and the fixed Simulator on the ONNX backend node test cases: every case whose
// ops the float Simulator claims is calibrated on its own inputs (one sample, RangeMethod::kMax),
// quantized (int8, uint8 and int16 activations), compiled and run by lq::FixedSimulator, and
// its integer codes are compared with fake quantization's (lq::quantize_tensor of the
// fake-quant value). --target compiles for another Target; the QuantizedGraph is made without
// it, so the int8 target meets int16 tensors and must run their ops on the CPU, exactly.
//
// What is compared: every node of the Program on its own. The instructions of one node run
// in a Program of their own, fed the codes fake quantization gives the node's inputs, and
// its outputs must equal fake quantization's codes:
//   - exactly when the node lowers to Lookup, Gather or CPU instructions only (tables and
//     data movement are exact; a CPU node is dequantize -> the same float op -> quantize);
//   - within 1 LSB otherwise (the integer path rounds each requantization once, exactly;
//     fake quantization computes the same real number in float32), plus, for Add / Sub,
//     fake quantization's own float32 error in output steps (add_slack): x − max(x) of
//     values near 10^4 (the *_large_number_expanded cases) has an output step 3000 times
//     finer than the inputs', and the float32 rounding of the dequantized operands alone
//     (half an ulp of 10^4) is then 10 output steps at int16. The integer Add is exact
//     there; the slack is what the reference cannot resolve, and it is 0 elsewhere.
// Feeding each node fake quantization's codes measures the lowering, not the propagation of
// earlier one-LSB differences (an op whose output step is finer than its input's, or a long
// chain, amplifies them; that is the model's sensitivity, not a compiler error). For a
// single-node model this is the end-to-end comparison; for several nodes the end-to-end
// difference is reported too.
//
// The test cases feed everything through graph inputs; a model feeds only data. Inputs that
// are not float32 (shapes, indices, pads, axes, conditions) and float inputs the op's schema
// describes as parameters (weights, biases, scales, bounds: kParameterInputs) are frozen into
// initializers, as a model holds them: a Program has static shapes, and these decide them or
// are what the integer rules expect as constants. A case left without a float32 input is
// skipped.
//
// A case that must not pass is listed in fixed_excluded.txt with its reason ("name" for every
// pass, "name:int8", "name:uint8" or "name:int16" for one). Exit status 1 if any other case
// fails.
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>

#include "compiler/program.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"
#include "node_cases.hpp"
#include "node_programs.hpp"

namespace fs = std::filesystem;

namespace {

using lq::test::NodeSpan;
using lq::test::node_program;
using lq::test::node_spans;
using lq::test::stored_form;

using lq::conformance::ops_of;
using lq::conformance::read_excluded;
using lq::conformance::read_file;
using lq::conformance::read_tensor_pb;

struct Options {
  std::string dir;
  std::string excluded_file;        // the float runner's list: skipped here
  std::string fixed_excluded_file;  // cases the fixed path legitimately does not pass
  std::vector<std::string> filters;
  std::vector<lq::DType> dtypes = {lq::DType::kInt8, lq::DType::kUInt8, lq::DType::kInt16};
  std::string target = "generic";
  bool verbose = false;
};

const char* kUsage =
    "usage: lq_conformance_fixed --dir ONNX_NODE_TESTS_DIR [--excluded FILE]\n"
    "         [--fixed-excluded FILE] [--filter TEXT]... [--dtype int8|uint8|int16]...\n"
    "         [--target NAME] [--verbose]\n"
    "Compiles DIR/node/test_* cases whose ops the float Simulator supports and compares the\n"
    "fixed Simulator's codes with fake quantization's. --excluded lists cases the float\n"
    "runner excludes (skipped); --fixed-excluded lists cases the fixed path does not pass,\n"
    "with reasons; --dtype picks the activations' dtype (default int8, uint8 and int16;\n"
    "weights are int8, or int16 with int16 activations); --target names the Target\n"
    "(generic, int8); --filter keeps cases whose name contains TEXT; --verbose prints\n"
    "every case.\n";

// ---- Loading a case -------------------------------------------------------------------

struct Case {
  lq::Graph graph;
  lq::TensorMap feeds;              // the float32 inputs of test_data_set_0
  std::vector<std::string> frozen;  // inputs made initializers
};

// Inputs (by index) of ops that a model holds as constants.
const std::map<std::string, std::set<int>> kParameterInputs = {
    {"Conv", {1, 2}},
    {"ConvTranspose", {1, 2}},
    {"Gemm", {2}},
    {"BatchNormalization", {1, 2, 3, 4}},
    {"InstanceNormalization", {1, 2}},
    {"LayerNormalization", {1, 2}},
    {"PRelu", {1}},
    {"Clip", {1, 2}},
    {"Pad", {1, 2, 3}},
    {"Resize", {1, 2, 3}},
    {"Upsample", {1}},
    {"Dropout", {1, 2}},
    {"OneHot", {1, 2}},
    {"Range", {0, 1, 2}},
};

// The model with its non-float32 and parameter inputs frozen to test_data_set_0's values, or
// nullopt with `skip` set.
std::optional<Case> load_case(const fs::path& dir, std::string& skip) {
  onnx::ModelProto model;
  if (!model.ParseFromString(read_file(dir / "model.onnx"))) {
    skip = "model.onnx does not parse";
    return std::nullopt;
  }
  const fs::path data = dir / "test_data_set_0";
  std::set<std::string> initializers, parameters;
  for (const auto& init : model.graph().initializer()) initializers.insert(init.name());
  for (const auto& node : model.graph().node()) {
    const auto it = kParameterInputs.find(node.op_type());
    if (it == kParameterInputs.end() || !(node.domain().empty() || node.domain() == "ai.onnx"))
      continue;
    for (int i : it->second) {
      if (i < node.input_size() && !node.input(i).empty()) parameters.insert(node.input(i));
    }
  }
  Case c;
  onnx::GraphProto& graph = *model.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> kept;
  int index = 0;
  for (const auto& input : graph.input()) {
    if (initializers.count(input.name())) {
      *kept.Add() = input;
      continue;
    }
    const fs::path file = data / fmt::format("input_{}.pb", index++);
    if (!fs::exists(file)) {
      skip = fmt::format("input \"{}\" has no data", input.name());
      return std::nullopt;
    }
    lq::Tensor value = read_tensor_pb(file);
    if (value.dtype() == lq::DType::kFloat32 && !parameters.count(input.name())) {
      c.feeds[input.name()] = std::move(value);
      *kept.Add() = input;
    } else {
      *graph.add_initializer() = lq::onnx_io::tensor_to_proto(value, input.name());
      c.frozen.push_back(input.name());
    }
  }
  if (c.feeds.empty()) {
    skip = "no float32 input";
    return std::nullopt;
  }
  graph.mutable_input()->Swap(&kept);
  const std::string bytes = model.SerializeAsString();
  c.graph = lq::parse_onnx(bytes.data(), bytes.size());
  return c;
}

// ---- Comparing codes --------------------------------------------------------------------

struct Difference {
  int64_t max_codes = 0;  // largest |got − want| in codes (quantized tensors)
  std::string
      mismatch;  // dtype / shape / non-code values differ, or the first element over the bound
};

Difference compare(const lq::ProgramTensorInfo& info, const lq::Tensor& got, const lq::Tensor& want,
                   int64_t bound) {
  Difference d;
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    d.mismatch = fmt::format("\"{}\": got {}{}, fake quantization {}{}", info.name,
                             lq::dtype_name(got.dtype()), lq::shape_str(got.shape()),
                             lq::dtype_name(want.dtype()), lq::shape_str(want.shape()));
    return d;
  }
  if (!info.quantized) {  // float (or integer) values a CPU node computes: bit for bit
    const auto a = got.to_doubles();
    const auto b = want.to_doubles();
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) continue;
      d.mismatch = fmt::format("\"{}\" (not quantized) element {}: {} != fake quantization's {}",
                               info.name, i, a[i], b[i]);
      return d;
    }
    return d;
  }
  const auto a = got.to_int64s();
  const auto b = want.to_int64s();
  for (size_t i = 0; i < a.size(); ++i) {
    const int64_t diff = std::abs(a[i] - b[i]);
    if (diff > bound && d.mismatch.empty()) {
      d.mismatch = fmt::format("\"{}\" element {}: code {} != fake quantization's {}", info.name, i,
                               a[i], b[i]);
    }
    d.max_codes = std::max(d.max_codes, diff);
  }
  return d;
}

// ---- Running one node on its own ----------------------------------------------------------

bool exact_kernels(const lq::compiler::ProgramData& data, const NodeSpan& span) {
  for (size_t i = span.begin; i < span.end; ++i) {
    const lq::integer::IntegerKernel* k = data.instructions[i].kernel;
    if (k != &lq::integer::lookup_kernel() && k != &lq::integer::gather_kernel() && k != nullptr) {
      return false;
    }
  }
  return true;
}

// The largest magnitude a quantized tensor can hold.
double max_magnitude(const lq::ProgramTensorInfo& info) {
  const lq::QuantParams& q = info.quant;
  return q.scale[0] *
         std::max(std::abs(q.qmax() - q.zero_point[0]), std::abs(q.qmin() - q.zero_point[0]));
}

// Output steps by which fake quantization's float32 Add / Sub can miss the real result:
// each dequantized operand and the sum are rounded to float32 (2^-24 relative each).
int64_t add_slack(const lq::compiler::ProgramData& data, const NodeSpan& span) {
  int64_t slack = 0;
  for (size_t i = span.begin; i < span.end; ++i) {
    const lq::compiler::Instruction& ins = data.instructions[i];
    if (ins.kernel != &lq::integer::add_kernel()) continue;
    const auto info = [&](int id) -> const lq::ProgramTensorInfo& {
      return data.tensors[static_cast<size_t>(id)].info;
    };
    const lq::ProgramTensorInfo& y = info(ins.outputs[0]);
    const double error = std::ldexp(
        max_magnitude(info(ins.inputs[0])) + max_magnitude(info(ins.inputs[1])) + max_magnitude(y),
        -24);
    slack = std::max(slack, static_cast<int64_t>(std::floor(error / y.quant.scale[0])));
  }
  return slack;
}

// Codes by which a node's outputs may differ from fake quantization's (file comment).
int64_t node_bound(const lq::compiler::ProgramData& data, const NodeSpan& span) {
  return exact_kernels(data, span) ? 0 : 1 + add_slack(data, span);
}

// ---- One case, one dtype ------------------------------------------------------------------

enum class Path { kInteger, kCpu, kMixed, kError };  // kError: did not quantize or compile

struct Outcome {
  std::string failure;  // empty: passed
  Path path = Path::kError;
  int64_t max_node_diff = 0;   // largest difference of a node run on its own, in codes
  int64_t max_end_to_end = 0;  // of the whole Program's outputs
  std::vector<std::pair<std::string, std::string>> cpu_reasons;  // (op type, reason)
};

Outcome run_pass(const Case& c, lq::DType dtype, const std::string& target) {
  Outcome outcome;
  lq::Calibrator calibrator(c.graph);
  calibrator.add_sample(c.feeds);
  lq::QuantConfig config;
  config.model.method = lq::RangeMethod::kMax;
  config.model.activation_dtype = dtype;
  config.model.weight_dtype = dtype == lq::DType::kInt16 ? dtype : lq::DType::kInt8;
  const lq::QuantizedGraph qgraph = lq::Quantizer(config).quantize(c.graph, calibrator.table());

  lq::CompileOptions options;
  options.target = lq::Target::named(target);
  for (const lq::Value* in : c.graph.inputs()) {
    if (!in->type().is_static()) options.input_shapes[in->name()] = c.feeds.at(in->name()).shape();
  }
  const lq::Program program = lq::Compiler(options).compile(qgraph);
  const lq::compiler::ProgramData& data = program.data();

  int cpu = 0;
  for (const lq::LayerInfo& layer : program.layers()) {
    if (layer.kernel != "CPU") continue;
    ++cpu;
    outcome.cpu_reasons.emplace_back(layer.op_type, layer.cpu_reason);
  }
  const int total = static_cast<int>(data.instructions.size());
  outcome.path = cpu == 0 ? Path::kInteger : cpu == total ? Path::kCpu : Path::kMixed;

  // Fake quantization's value of every tensor: graph inputs as given (the Program quantizes
  // them with the same parameters), node outputs as the fake-quant Simulator produces them.
  lq::TensorMap fake = c.feeds;
  const lq::TensorMap fake_outputs = lq::fake_quant_simulator(qgraph).run(
      c.feeds, [&](const lq::Value& v, const lq::Tensor& t) { fake[v.name()] = t.clone(); });

  const std::vector<NodeSpan> spans = node_spans(data);
  for (const NodeSpan& span : spans) {
    const lq::compiler::Instruction& first = data.instructions[span.begin];
    const int64_t bound = node_bound(data, span);
    const lq::Program single = node_program(data, span);
    lq::TensorMap feeds;
    for (const lq::ProgramTensorInfo& in : single.inputs()) {
      feeds[in.name] = stored_form(in, fake.at(in.name));
    }
    const lq::TensorMap got = lq::FixedSimulator(single).run(feeds);
    for (const lq::ProgramTensorInfo& out : single.outputs()) {
      const Difference d =
          compare(out, got.at(out.name), stored_form(out, fake.at(out.name)), bound);
      outcome.max_node_diff = std::max(outcome.max_node_diff, d.max_codes);
      if (!d.mismatch.empty() && outcome.failure.empty()) {
        std::vector<std::string> kernels;
        for (size_t i = span.begin; i < span.end; ++i) {
          kernels.push_back(data.instructions[i].kernel_name());
        }
        outcome.failure =
            fmt::format("{} node \"{}\" ({}; bound {} LSB): {} (max difference {})", first.op_type,
                        first.node, fmt::join(kernels, "+"), bound, d.mismatch, d.max_codes);
      }
    }
  }

  // The whole Program: for one node the same comparison as above, through the Program's own
  // memory plan; for several, earlier differences propagate and the result is reported only.
  const lq::TensorMap fixed = lq::FixedSimulator(program).run(c.feeds);
  const int64_t bound = spans.size() == 1 ? node_bound(data, spans[0]) : INT64_MAX;
  for (const lq::ProgramTensorInfo& out : program.outputs()) {
    const Difference d =
        compare(out, fixed.at(out.name), stored_form(out, fake_outputs.at(out.name)), bound);
    outcome.max_end_to_end = std::max(outcome.max_end_to_end, d.max_codes);
    if (spans.size() == 1 && !d.mismatch.empty() && outcome.failure.empty()) {
      outcome.failure = "end to end: " + d.mismatch;
    }
  }
  return outcome;
}

// ---- Summary -------------------------------------------------------------------------------

struct Tally {
  int cases = 0, integer = 0, cpu = 0, mixed = 0, error = 0, passed = 0, excluded = 0;
  int64_t max_node_diff = 0;
  int64_t max_end_to_end = 0;
};

const char* path_name(Path p) {
  switch (p) {
    case Path::kInteger:
      return "integer";
    case Path::kCpu:
      return "CPU";
    case Path::kMixed:
      return "mixed";
    case Path::kError:
      return "error";
  }
  return "?";
}

// A reason with value names replaced, so that the same limitation counts once.
std::string general_reason(const std::string& reason) {
  static const std::regex quoted("\"[^\"]*\"");
  return std::regex_replace(reason, quoted, "\"…\"");
}

std::string row(const Tally& t) {
  return fmt::format(" | {:>5} {:>4} {:>4} {:>4} {:>4} {:>5} {:>4} {:>4}", t.cases, t.integer,
                     t.cpu, t.mixed, t.error, t.passed, t.max_node_diff, t.max_end_to_end);
}

void print_table(const std::vector<lq::DType>& dtypes,
                 const std::map<std::string, std::map<lq::DType, Tally>>& per_op) {
  std::string header = fmt::format("{:<24}", "");
  std::string columns = fmt::format("{:<24}", "op");
  std::string rule(24, '-');
  for (lq::DType d : dtypes) {
    header += fmt::format(" | {:<40}", lq::dtype_name(d));
    columns += fmt::format(" | {:>5} {:>4} {:>4} {:>4} {:>4} {:>5} {:>4} {:>4}", "cases", "int",
                           "CPU", "mix", "err", "pass", "node", "e2e");
    rule += " | " + std::string(40, '-');
  }
  std::cout << header << "\n" << columns << "\n" << rule << "\n";
  std::map<lq::DType, Tally> totals;
  for (const auto& [op, by_dtype] : per_op) {
    std::string line = fmt::format("{:<24}", op);
    for (lq::DType d : dtypes) {
      const auto it = by_dtype.find(d);
      const Tally t = it == by_dtype.end() ? Tally{} : it->second;
      line += row(t);
      Tally& total = totals[d];
      total.cases += t.cases;
      total.integer += t.integer;
      total.cpu += t.cpu;
      total.mixed += t.mixed;
      total.error += t.error;
      total.passed += t.passed;
      total.max_node_diff = std::max(total.max_node_diff, t.max_node_diff);
      total.max_end_to_end = std::max(total.max_end_to_end, t.max_end_to_end);
    }
    std::cout << line << "\n";
  }
  std::string line = fmt::format("{:<24}", "total");
  for (lq::DType d : dtypes) line += row(totals[d]);
  std::cout << rule << "\n" << line << "\n";
  std::cout << "(cases run, by how they ran: int = no CPU instruction, CPU = CPU instructions "
               "only, mix = both, err = did not quantize or compile; pass = passed; node / "
               "e2e = largest code difference of a node run on its own / of the model's outputs; "
               "cases in fixed_excluded.txt are not counted)\n";
}

bool parse_args(int argc, char** argv, Options& options) {
  bool dtypes_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dir") {
      options.dir = next();
    } else if (arg == "--excluded") {
      options.excluded_file = next();
    } else if (arg == "--fixed-excluded") {
      options.fixed_excluded_file = next();
    } else if (arg == "--filter") {
      options.filters.push_back(next());
    } else if (arg == "--dtype") {
      const std::string d = next();
      if (!dtypes_given) options.dtypes.clear();
      dtypes_given = true;
      if (d == "int8")
        options.dtypes.push_back(lq::DType::kInt8);
      else if (d == "uint8")
        options.dtypes.push_back(lq::DType::kUInt8);
      else if (d == "int16")
        options.dtypes.push_back(lq::DType::kInt16);
      else
        throw std::runtime_error("--dtype " + d + ": expected int8, uint8 or int16");
    } else if (arg == "--target") {
      options.target = next();
      lq::Target::named(options.target);  // rejects an unknown name here, listing the known
    } else if (arg == "--verbose") {
      options.verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      return false;
    } else {
      throw std::runtime_error("unknown argument " + arg);
    }
  }
  if (options.dir.empty()) throw std::runtime_error("--dir is required");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    if (!parse_args(argc, argv, options)) {
      std::cout << kUsage;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "lq_conformance_fixed: " << e.what() << "\n" << kUsage;
    return 2;
  }
  const fs::path node_dir = fs::path(options.dir) / "node";
  if (!fs::is_directory(node_dir)) {
    std::cerr << "lq_conformance_fixed: " << node_dir << " does not exist; generate the cases "
              << "with scripts/gen-onnx-node-tests.sh\n";
    return 2;
  }
  std::map<std::string, std::string> float_excluded, fixed_excluded;
  try {
    float_excluded = read_excluded(options.excluded_file);
    fixed_excluded = read_excluded(options.fixed_excluded_file);
  } catch (const std::exception& e) {
    std::cerr << "lq_conformance_fixed: " << e.what() << "\n";
    return 2;
  }
  const auto supported_list = lq::supported_ops();
  const std::set<std::string> supported(supported_list.begin(), supported_list.end());

  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(node_dir)) cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  int not_claimed = 0, float_excluded_count = 0, frozen_cases = 0, failed = 0;
  std::map<std::string, int> skipped;  // reason -> cases
  std::map<std::string, std::map<lq::DType, Tally>> per_op;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> cpu_reasons;  // -> cases
  for (const auto& dir : cases) {
    const std::string name = dir.filename().string();
    if (!options.filters.empty() &&
        std::none_of(options.filters.begin(), options.filters.end(),
                     [&](const std::string& f) { return name.find(f) != std::string::npos; })) {
      continue;
    }
    const auto ops = ops_of(dir / "model.onnx");
    if (ops.empty() || !std::all_of(ops.begin(), ops.end(), [&](const std::string& op) {
          return supported.count(op) != 0;
        })) {
      ++not_claimed;
      continue;
    }
    if (float_excluded.count(name)) {
      ++float_excluded_count;
      continue;
    }
    std::string skip;
    std::optional<Case> c;
    try {
      c = load_case(dir, skip);
    } catch (const std::exception& e) {
      skip = std::string("the case does not load: ") + e.what();
    }
    if (!c) {
      ++skipped[general_reason(skip)];
      if (options.verbose) std::cout << "SKIP    " << name << ": " << skip << "\n";
      continue;
    }
    frozen_cases += c->frozen.empty() ? 0 : 1;
    const std::string op = ops.size() == 1 ? *ops.begin() : "(several ops)";
    for (lq::DType dtype : options.dtypes) {
      const std::string label = fmt::format("{} {}", lq::dtype_name(dtype), name);
      Outcome outcome;
      try {
        outcome = run_pass(*c, dtype, options.target);
      } catch (const std::exception& e) {
        outcome.failure = e.what();
      }
      auto ex = fixed_excluded.find(name);
      if (ex == fixed_excluded.end()) ex = fixed_excluded.find(name + ":" + lq::dtype_name(dtype));
      Tally& t = per_op[op][dtype];
      if (ex != fixed_excluded.end()) {
        ++t.excluded;
        if (outcome.failure.empty()) {
          std::cout << "NOTE    " << label
                    << " passes now; remove it from the fixed excluded list\n";
        } else if (options.verbose) {
          std::cout << "EXCLUDED " << label << ":" << ex->second << "\n";
        }
        continue;
      }
      ++t.cases;
      switch (outcome.path) {
        case Path::kInteger:
          ++t.integer;
          break;
        case Path::kCpu:
          ++t.cpu;
          break;
        case Path::kMixed:
          ++t.mixed;
          break;
        case Path::kError:
          ++t.error;
          break;
      }
      t.max_node_diff = std::max(t.max_node_diff, outcome.max_node_diff);
      t.max_end_to_end = std::max(t.max_end_to_end, outcome.max_end_to_end);
      for (const auto& [op_type, reason] : outcome.cpu_reasons) {
        cpu_reasons[{op_type, general_reason(reason)}].insert(name);
      }
      if (outcome.failure.empty()) {
        ++t.passed;
        if (options.verbose) {
          std::cout << fmt::format("PASS    {} [{}] node {} e2e {}\n", label,
                                   path_name(outcome.path), outcome.max_node_diff,
                                   outcome.max_end_to_end);
        }
      } else {
        ++failed;
        std::cout << fmt::format("FAIL    {} [{}]: {}\n", label, path_name(outcome.path),
                                 outcome.failure);
      }
    }
  }

  std::cout << "\n";
  print_table(options.dtypes, per_op);
  std::cout << "\nCPU fallbacks (op: reason, cases):\n";
  for (const auto& [key, names] : cpu_reasons) {
    std::cout << fmt::format("  {}: {} ({})\n", key.first, key.second, names.size());
  }
  int excluded = 0;
  for (const auto& [op, by_dtype] : per_op) {
    for (const auto& [d, t] : by_dtype) excluded += t.excluded;
  }
  std::cout << fmt::format(
      "\nONNX node conformance of the fixed path: {} claimed ops; {} case runs failed, {} "
      "excluded (fixed_excluded.txt); {} cases with inputs frozen to constants (non-float32 or "
      "parameters); "
      "skipped: {} cases of ops not claimed, {} excluded by the float runner",
      supported.size(), failed, excluded, frozen_cases, not_claimed, float_excluded_count);
  for (const auto& [reason, count] : skipped) std::cout << fmt::format(", {} ({})", reason, count);
  std::cout << "\n";
  return failed == 0 ? 0 : 1;
}
