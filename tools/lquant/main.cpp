// lquant: the command-line front end of libquant.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace fs = std::filesystem;

namespace {

// Exit codes, documented in `lquant --help`.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // the job failed: bad model, bad input, I/O error
constexpr int kExitUsage = 2;  // the command line is wrong

const char* kHelp = R"(lquant - post-training quantization toolkit for NPUs

usage: lquant <verb> [options]

verbs:
  run      run a model on .npy inputs with the float Simulator and write its outputs

`lquant <verb> --help` describes a verb.

exit codes:
  0  success
  1  the job failed (bad or unsupported model, bad input data, I/O error)
  2  the command line is wrong
)";

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

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RunArgs {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;  // name (may be empty), file
  std::string output_dir;
  int threads = 1;
  int repeat = 1;
  bool optimize = true;
};

int parse_positive(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(fmt::format("{} needs a positive whole number, got '{}'", flag, text));
}

RunArgs parse_run(const std::vector<std::string>& args) {
  RunArgs run;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--input") {
      const std::string& spec = value();
      const size_t eq = spec.find('=');
      if (eq == std::string::npos) {
        run.inputs.emplace_back("", spec);
      } else {
        run.inputs.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
      }
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

std::string file_name_for(const std::string& output_name) {
  std::string name = output_name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  }
  return name + ".npy";
}

lq::TensorMap load_inputs(const lq::Graph& graph, const RunArgs& run) {
  lq::TensorMap feeds;
  for (const auto& [given_name, file] : run.inputs) {
    std::string name = given_name;
    if (name.empty()) {
      if (graph.inputs().size() != 1) {
        throw lq::Error(lq::StatusCode::kInvalidArgument,
                        fmt::format("the model has {} inputs; name each one: --input NAME=FILE.npy",
                                    graph.inputs().size()));
      }
      name = graph.inputs().front()->name();
    }
    feeds[name] = lq::load_npy(file);
  }
  return feeds;
}

int run_verb(const RunArgs& run) {
  lq::Graph graph = lq::load_onnx(run.model);
  if (run.optimize) lq::optimize(graph);
  lq::SimulatorOptions options;
  options.threads = run.threads;
  lq::Simulator simulator(graph, options);
  const lq::TensorMap feeds = load_inputs(graph, run);

  std::vector<double> times_ms;
  lq::TensorMap outputs;
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
  for (const lq::Value* out : graph.outputs()) {
    const lq::Tensor& tensor = outputs.at(out->name());
    const std::string path = (fs::path(run.output_dir) / file_name_for(out->name())).string();
    lq::save_npy(tensor.dtype() == lq::DType::kFloat32 ? tensor : tensor.cast(lq::DType::kFloat32), path);
    fmt::print("{} {} -> {}\n", out->name(), lq::shape_str(tensor.shape()), path);
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kHelp;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string verb = args[0];
  args.erase(args.begin());
  const bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end();
  try {
    if (verb == "run") {
      if (wants_help) {
        std::cout << kRunHelp;
        return kExitOk;
      }
      return run_verb(parse_run(args));
    }
    throw UsageError(fmt::format("unknown verb '{}' (see lquant --help)", verb));
  } catch (const UsageError& e) {
    std::cerr << "lquant: " << e.what() << "\n";
    return kExitUsage;
  } catch (const lq::Error& e) {
    std::cerr << "lquant: error: " << e.what() << "\n";
    return kExitError;
  } catch (const std::exception& e) {
    std::cerr << "lquant: error: " << e.what() << "\n";
    return kExitError;
  }
}
