// Float Simulator latency against ONNX Runtime on the PP-OCR models, measured in the same
// run on the same input: median of N runs after warm-up, at 1 and 2 threads.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"
#include "model_inputs.hpp"
#include "ort_peer.hpp"

namespace fs = std::filesystem;

namespace {

const char* kUsage =
    "usage: float_vs_ort [--model det|rec|cls] [--repeat N] [--warmup W]\n"
    "Prints model | threads | libquant ms | ORT ms | ratio (median of N runs after W warm-up\n"
    "runs; defaults N=10, W=2) for the PP-OCR models, all three unless --model is given.\n";

struct ModelSpec {
  const char* name;
  int64_t height;
  int64_t width;
};

constexpr ModelSpec kModels[] = {{"det", 640, 640}, {"rec", 48, 320}, {"cls", 48, 192}};
constexpr int kThreadCounts[] = {1, 2};

struct Options {
  std::string model;  // empty: all
  int repeat = 10;
  int warmup = 2;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double simulator_median_ms(const lq::Graph& graph, const lq::TensorMap& inputs, int threads,
                           const Options& options) {
  lq::SimulatorOptions sim_options;
  sim_options.threads = threads;
  const lq::Simulator simulator(graph, sim_options);
  for (int i = 0; i < options.warmup; ++i) simulator.run(inputs);
  std::vector<double> times;
  for (int i = 0; i < options.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    simulator.run(inputs);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return median(times);
}

void bench_model(const ModelSpec& spec, const std::string& model_path,
                 const lq::test::OrtPeer& ort, const Options& options) {
  lq::Graph graph = lq::load_onnx(model_path);
  lq::optimize(graph);
  const lq::TensorMap inputs{
      {graph.inputs().at(0)->name(), lq::test::text_image(spec.height, spec.width, 42)}};
  for (int threads : kThreadCounts) {
    const double ours = simulator_median_ms(graph, inputs, threads, options);
    const double theirs = ort.median_ms(model_path, inputs, threads, options.repeat, options.warmup);
    fmt::print("{:<5} | {:>7} | {:>11.2f} | {:>8.2f} | {:>6.2f}\n", spec.name, threads, ours,
               theirs, ours / theirs);
    std::fflush(stdout);
  }
}

int integer_at_least(const std::string& flag, const std::string& text, int min) {
  size_t used = 0;
  int value = -1;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || value < min) {
    throw std::runtime_error(fmt::format("{} needs an integer >= {}, got \"{}\"", flag, min, text));
  }
  return value;
}

Options parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value (or is unknown)");
    if (arg == "--model") {
      options.model = argv[++i];
    } else if (arg == "--repeat") {
      options.repeat = integer_at_least(arg, argv[++i], 1);
    } else if (arg == "--warmup") {
      options.warmup = integer_at_least(arg, argv[++i], 0);
    } else {
      throw std::runtime_error("unknown option " + arg);
    }
  }
  const bool known = options.model.empty() ||
                     std::any_of(std::begin(kModels), std::end(kModels),
                                 [&](const ModelSpec& m) { return options.model == m.name; });
  if (!known) throw std::runtime_error("unknown model \"" + options.model + "\" (det, rec, cls)");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "float_vs_ort: " << e.what() << "\n" << kUsage;
    return 2;
  }
  const fs::path work_dir =
      fs::temp_directory_path() / fmt::format("libquant-float-vs-ort-{}", getpid());
  try {
    const lq::test::ModelAssets assets = lq::test::fetch_models();
    fs::create_directories(work_dir);
    const lq::test::OrtPeer ort(assets.ort_dir, work_dir);
    fmt::print("median of {} runs after {} warm-up runs; ratio = libquant / ORT\n",
               options.repeat, options.warmup);
    fmt::print("model | threads | libquant ms |   ORT ms |  ratio\n");
    for (const ModelSpec& spec : kModels) {
      if (options.model.empty() || options.model == spec.name) {
        bench_model(spec, assets.models.at(spec.name), ort, options);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "float_vs_ort: " << e.what() << "\n";
    fs::remove_all(work_dir);
    return 1;
  }
  fs::remove_all(work_dir);
  return 0;
}
