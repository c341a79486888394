// lquant run: a float model (.onnx) with the float Simulator, or a compiled Program (.lqm)
// with the fixed Simulator, on .npy inputs.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>

#include "cli.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

namespace lq::cli {

namespace {

namespace fs = std::filesystem;

const char* kRunHelp = R"(usage: lquant run MODEL.onnx|MODEL.lqm --input NAME=FILE.npy ... --output-dir DIR
                  [--threads N] [--repeat N] [--no-optimize] [--raw] [--dump-layers DIR]

Runs MODEL.onnx with the float Simulator, or the compiled program MODEL.lqm (written by
lquant quantize) with the fixed-point Simulator, and writes DIR/<output>.npy for every
model output (characters other than letters, digits, '.', '-' and '_' in output names
become '_'). Prints the time of each run.

  --input NAME=FILE.npy  data for model input NAME; with a single-input model NAME= may be
                         left out. Repeat for every input.
  --output-dir DIR       where outputs are written (created if missing)
  --threads N            worker threads (default 1); results do not depend on it
  --repeat N             run N times and report the median time (default 1)
  --no-optimize          run the graph as imported, without constant folding and fusion
.lqm only:
  --raw                  write the integer outputs (default: dequantized to float32)
  --dump-layers DIR      write every tensor the program computes, as DIR/<name>.npy (the
                         integer codes) and DIR/<name>.float.npy (dequantized)
Inputs of a .lqm are float32 (quantized by the Simulator) or already in the input's
integer dtype.
)";

struct RunArgs {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;  // name (may be empty), file
  std::string output_dir;
  int threads = 1;
  int repeat = 1;
  bool optimize = true;
  bool raw = false;
  std::string dump_dir;
};

RunArgs parse_run(const std::vector<std::string>& args) {
  RunArgs run;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--input") {
      run.inputs.push_back(split_assignment(value()));
    } else if (arg == "--output-dir") {
      run.output_dir = value();
    } else if (arg == "--threads") {
      run.threads = parse_positive(arg, value());
    } else if (arg == "--repeat") {
      run.repeat = parse_positive(arg, value());
    } else if (arg == "--no-optimize") {
      run.optimize = false;
    } else if (arg == "--raw") {
      run.raw = true;
    } else if (arg == "--dump-layers") {
      run.dump_dir = value();
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for run", arg));
    } else if (run.model.empty()) {
      run.model = arg;
    } else {
      throw UsageError(fmt::format("unexpected argument '{}' (the model is '{}')", arg, run.model));
    }
  }
  if (run.model.empty()) throw UsageError("run needs a MODEL.onnx or MODEL.lqm");
  const bool program = fs::path(run.model).extension() == ".lqm";
  if (!program && (run.raw || !run.dump_dir.empty())) {
    throw UsageError("--raw and --dump-layers apply to a compiled MODEL.lqm");
  }
  if (run.output_dir.empty()) throw UsageError("run needs --output-dir DIR");
  return run;
}

TensorMap load_inputs(const std::vector<std::string>& input_names, const RunArgs& run) {
  TensorMap feeds;
  for (const auto& [given_name, file] : run.inputs) {
    std::string name = given_name;
    if (name.empty()) {
      if (input_names.size() != 1) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("the model has {} inputs; name each one: --input NAME=FILE.npy",
                                input_names.size()));
      }
      name = input_names.front();
    }
    feeds[name] = load_npy(file);
  }
  return feeds;
}

// Runs `once` run.repeat times, printing each time and the median.
TensorMap timed_runs(const RunArgs& run, const std::function<TensorMap()>& once) {
  std::vector<double> times_ms;
  TensorMap outputs;
  for (int i = 0; i < run.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    outputs = once();
    const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    times_ms.push_back(elapsed.count());
    fmt::print("run {}: {:.2f} ms\n", i + 1, elapsed.count());
  }
  std::sort(times_ms.begin(), times_ms.end());
  if (run.repeat > 1) fmt::print("median: {:.2f} ms over {} runs\n", times_ms[times_ms.size() / 2], run.repeat);
  return outputs;
}

void write_outputs(const RunArgs& run, const std::vector<std::string>& names, const TensorMap& outputs) {
  fs::create_directories(run.output_dir);
  for (const std::string& name : names) {
    const Tensor& tensor = outputs.at(name);
    const std::string path = (fs::path(run.output_dir) / (file_name_for(name) + ".npy")).string();
    const bool keep = tensor.dtype() == DType::kFloat32 || run.raw;
    save_npy(keep ? tensor : tensor.cast(DType::kFloat32), path);
    fmt::print("{} {} {} -> {}\n", name, dtype_name(keep ? tensor.dtype() : DType::kFloat32),
               shape_str(tensor.shape()), path);
  }
}

int run_float(const RunArgs& run) {
  Graph graph = load_onnx(run.model);
  if (run.optimize) optimize(graph);
  SimulatorOptions options;
  options.threads = run.threads;
  Simulator simulator(graph, options);
  std::vector<std::string> inputs, outputs;
  for (const Value* v : graph.inputs()) inputs.push_back(v->name());
  for (const Value* v : graph.outputs()) outputs.push_back(v->name());
  const TensorMap feeds = load_inputs(inputs, run);
  write_outputs(run, outputs, timed_runs(run, [&] { return simulator.run(feeds); }));
  return kExitOk;
}

int run_program(const RunArgs& run) {
  const FixedSimulator simulator(Program::load(run.model), {run.threads});
  std::vector<std::string> inputs, outputs;
  for (const ProgramTensorInfo& t : simulator.program().inputs()) inputs.push_back(t.name);
  for (const ProgramTensorInfo& t : simulator.program().outputs()) outputs.push_back(t.name);
  const TensorMap feeds = load_inputs(inputs, run);
  ProgramObserver dump;
  int dumped = 0;
  if (!run.dump_dir.empty()) {
    fs::create_directories(run.dump_dir);
    dump = [&](const ProgramTensorInfo& info, const Tensor& data) {
      const fs::path base = fs::path(run.dump_dir) / file_name_for(info.name);
      save_npy(data, base.string() + ".npy");
      if (info.quantized) save_npy(dequantize_tensor(data, info.quant), base.string() + ".float.npy");
      ++dumped;
    };
  }
  const TensorMap result = timed_runs(run, [&] {
    return run.raw ? simulator.run(feeds, dump) : simulator.run_float(feeds, dump);
  });
  if (dumped > 0) fmt::print("dumped {} tensors to {}\n", dumped / run.repeat, run.dump_dir);
  write_outputs(run, outputs, result);
  return kExitOk;
}

}  // namespace

int run_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kRunHelp;
    return kExitOk;
  }
  const RunArgs run = parse_run(args);
  return fs::path(run.model).extension() == ".lqm" ? run_program(run) : run_float(run);
}

}  // namespace lq::cli
