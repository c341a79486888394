// Latency against ONNX Runtime on the PP-OCR models, measured in the same run on the same
// input (median of N runs after warm-up, at 1 and 2 threads): the float Simulator against
// ORT on the float model, and the compiled int8 program in the fixed-point Simulator
// against ORT on the same quantization exported as QDQ (which ORT runs with its int8
// kernels).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"
#include "model_inputs.hpp"
#include "ort_peer.hpp"

namespace fs = std::filesystem;

namespace {

const char* kUsage =
    "usage: vs_ort [--model det|rec|cls] [--repeat N] [--warmup W]\n"
    "Prints model | kind | threads | libquant ms | ORT ms | ratio (median of N runs after W\n"
    "warm-up runs; defaults N=10, W=2) for the PP-OCR models, all three unless --model is\n"
    "given. kind float: the float Simulator vs ORT on the model; int8: the compiled int8\n"
    "program in the fixed-point Simulator vs ORT on the same quantization as QDQ.\n";

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

// Median milliseconds of run() after warm-up.
template <typename Run>
double median_ms(const Run& run, const Options& options) {
  for (int i = 0; i < options.warmup; ++i) run();
  std::vector<double> times;
  for (int i = 0; i < options.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return median(times);
}

void print_row(const ModelSpec& spec, const char* kind, int threads, double ours, double theirs) {
  fmt::print("{:<5} | {:<5} | {:>7} | {:>11.2f} | {:>8.2f} | {:>6.2f}\n", spec.name, kind, threads,
             ours, theirs, ours / theirs);
  std::fflush(stdout);
}

void bench_model(const ModelSpec& spec, const std::string& model_path, const lq::test::OrtPeer& ort,
                 const fs::path& work_dir, const Options& options) {
  lq::Graph graph = lq::load_onnx(model_path);
  lq::optimize(graph);
  const std::string input = graph.inputs().at(0)->name();
  const lq::TensorMap inputs{{input, lq::test::text_image(spec.height, spec.width, 42)}};
  const lq::QuantizedGraph qgraph =
      lq::test::quantize_on_text_pages(graph, spec.height, spec.width, lq::DType::kInt8);
  const std::string qdq_path = (work_dir / fmt::format("{}.qdq.onnx", spec.name)).string();
  lq::save_onnx(qgraph.to_qdq(), qdq_path);
  lq::CompileOptions compile;
  compile.input_shapes[input] = inputs.at(input).shape();
  const lq::Program program = lq::Compiler(compile).compile(qgraph);
  for (int threads : kThreadCounts) {
    lq::SimulatorOptions sim_options;
    sim_options.threads = threads;
    const lq::Simulator simulator(graph, sim_options);
    print_row(spec, "float", threads, median_ms([&] { simulator.run(inputs); }, options),
              ort.median_ms(model_path, inputs, threads, options.repeat, options.warmup));
  }
  for (int threads : kThreadCounts) {
    const lq::FixedSimulator fixed(program, {threads});
    print_row(spec, "int8", threads, median_ms([&] { fixed.run(inputs); }, options),
              ort.median_ms(qdq_path, inputs, threads, options.repeat, options.warmup));
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
    std::cerr << "vs_ort: " << e.what() << "\n" << kUsage;
    return 2;
  }
  const fs::path work_dir =
      fs::temp_directory_path() / fmt::format("libquant-vs-ort-{}", getpid());
  try {
    const lq::test::ModelAssets assets = lq::test::fetch_models();
    fs::create_directories(work_dir);
    const lq::test::OrtPeer ort(assets.ort_dir, work_dir);
    fmt::print("median of {} runs after {} warm-up runs; ratio = libquant / ORT\n",
               options.repeat, options.warmup);
    fmt::print("model | kind  | threads | libquant ms |   ORT ms |  ratio\n");
    for (const ModelSpec& spec : kModels) {
      if (options.model.empty() || options.model == spec.name) {
        bench_model(spec, assets.models.at(spec.name), ort, work_dir, options);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "vs_ort: " << e.what() << "\n";
    fs::remove_all(work_dir);
    return 1;
  }
  fs::remove_all(work_dir);
  return 0;
}
