// lquant run: a model on .npy inputs with the float Simulator.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"

namespace lq::cli {

namespace {

namespace fs = std::filesystem;

const char* kRunHelp = R"(usage: lquant run MODEL.onnx --input NAME=FILE.npy ... --output-dir DIR
                  [--threads N] [--repeat N] [--no-optimize]

Runs MODEL.onnx with the float Simulator and writes DIR/<output>.npy for every model
output (characters other than letters, digits, '.', '-' and '_' in output names become
'_'). Prints the time of each run.

  --input NAME=FILE.npy  data for model input NAME; with a single-input model NAME= may be
                         left out. Repeat for every input.
  --output-dir DIR       where outputs are written (created if missing)
  --threads N            worker threads (default 1); results do not depend on it
  --repeat N             run N times and report the median time (default 1)
  --no-optimize          run the graph as imported, without constant folding and fusion
)";

struct RunArgs {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;  // name (may be empty), file
  std::string output_dir;
  int threads = 1;
  int repeat = 1;
  bool optimize = true;
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
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for run", arg));
    } else if (run.model.empty()) {
      run.model = arg;
    } else {
      throw UsageError(fmt::format("unexpected argument '{}' (the model is '{}')", arg, run.model));
    }
  }
  if (run.model.empty()) throw UsageError("run needs a MODEL.onnx");
  if (run.output_dir.empty()) throw UsageError("run needs --output-dir DIR");
  return run;
}

TensorMap load_inputs(const Graph& graph, const RunArgs& run) {
  TensorMap feeds;
  for (const auto& [given_name, file] : run.inputs) {
    std::string name = given_name;
    if (name.empty()) {
      if (graph.inputs().size() != 1) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("the model has {} inputs; name each one: --input NAME=FILE.npy",
                                graph.inputs().size()));
      }
      name = graph.inputs().front()->name();
    }
    feeds[name] = load_npy(file);
  }
  return feeds;
}

}  // namespace

int run_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kRunHelp;
    return kExitOk;
  }
  const RunArgs run = parse_run(args);
  Graph graph = load_onnx(run.model);
  if (run.optimize) optimize(graph);
  SimulatorOptions options;
  options.threads = run.threads;
  Simulator simulator(graph, options);
  const TensorMap feeds = load_inputs(graph, run);

  std::vector<double> times_ms;
  TensorMap outputs;
  for (int i = 0; i < run.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    outputs = simulator.run(feeds);
    const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    times_ms.push_back(elapsed.count());
    fmt::print("run {}: {:.2f} ms\n", i + 1, elapsed.count());
  }
  std::sort(times_ms.begin(), times_ms.end());
  if (run.repeat > 1) fmt::print("median: {:.2f} ms over {} runs\n", times_ms[times_ms.size() / 2], run.repeat);

  fs::create_directories(run.output_dir);
  for (const Value* out : graph.outputs()) {
    const Tensor& tensor = outputs.at(out->name());
    const std::string path = (fs::path(run.output_dir) / (file_name_for(out->name()) + ".npy")).string();
    save_npy(tensor.dtype() == DType::kFloat32 ? tensor : tensor.cast(DType::kFloat32), path);
    fmt::print("{} {} -> {}\n", out->name(), shape_str(tensor.shape()), path);
  }
  return kExitOk;
}

}  // namespace lq::cli
