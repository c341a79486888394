// Latency against ONNX Runtime on the PP-OCR models, measured in the same run on the same
// input (median of N runs after warm-up, at 1 and 2 threads): the float Simulator against
// ORT on the float model, and the compiled int8 program in the fixed-point Simulator
// against ORT on the same quantization exported as QDQ (which ORT runs with its int8
// kernels) and against ORT float. Each row also gives libquant's user CPU time per run (on
// a shared machine the wall time of 2 threads is noisy; CPU time shows the work done) and
// the compute floor: MACs over the nominal peak of the kernels used.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
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
    "program in the fixed-point Simulator vs ORT on the same quantization as QDQ (ratio) and\n"
    "vs ORT on the float model (vs float). user ms: libquant's user CPU time per run (all\n"
    "threads). floor ms: the model's MACs (Conv, Gemm, MatMul) over the nominal peak of the\n"
    "kernels used on this CPU at that thread count (MACs per cycle x clock), and x floor:\n"
    "libquant's time over it.\n";

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

double user_cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec * 1e-3;
}

struct Timing {
  double median_ms = 0;
  double user_ms = 0;  // user CPU per run, every thread of the process
};

// The nominal peak multiply-adds per second of one core for the kernels this CPU gets:
// float AVX-512 (2 FMA ports x 16 lanes), AVX2 (2 x 8), int8 AVX-512 VNNI (2 ports x 64
// multiply-adds of vpdpbusd), AVX2 (2 x 16 through vpmaddubsw). The clock is the
// nominal one from /proc/cpuinfo (turbo not counted).
double clock_hz() {
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  double mhz = 0;
  char line[512];
  while (f && std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "cpu MHz : %lf", &mhz) == 1) break;
  }
  if (f) std::fclose(f);
  return mhz > 0 ? mhz * 1e6 : 2.0e9;
}

double peak_macs_per_second(bool int8) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool vnni = __builtin_cpu_supports("avx512vnni");
  const double per_cycle = int8 ? (vnni ? 128 : avx512 ? 64 : 32) : (avx512 ? 32 : 16);
  return per_cycle * clock_hz();
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

// The same, with the user CPU time per timed run.
template <typename Run>
Timing timed(const Run& run, const Options& options) {
  for (int i = 0; i < options.warmup; ++i) run();
  const double user_before = user_cpu_ms();
  Timing t;
  t.median_ms = median_ms(run, Options{options.model, options.repeat, 0});
  t.user_ms = (user_cpu_ms() - user_before) / options.repeat;
  return t;
}

void print_row(const ModelSpec& spec, const char* kind, int threads, const Timing& ours,
               double theirs, double ort_float, double floor_ms) {
  fmt::print("{:<5} | {:<5} | {:>7} | {:>11.2f} | {:>7.2f} | {:>8.2f} | {:>6.2f} | {:>8} | {:>8.2f} | {:>7.1f}\n",
             spec.name, kind, threads, ours.median_ms, ours.user_ms, theirs,
             ours.median_ms / theirs,
             ort_float > 0 ? fmt::format("{:.2f}", ours.median_ms / ort_float) : std::string("-"),
             floor_ms, ours.median_ms / floor_ms);
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
  int64_t macs = 0;
  for (const lq::LayerInfo& layer : program.layers()) macs += layer.macs;
  double ort_float[std::size(kThreadCounts)] = {};
  for (size_t t = 0; t < std::size(kThreadCounts); ++t) {
    const int threads = kThreadCounts[t];
    lq::SimulatorOptions sim_options;
    sim_options.threads = threads;
    const lq::Simulator simulator(graph, sim_options);
    const Timing ours = timed([&] { simulator.run(inputs); }, options);
    ort_float[t] = ort.median_ms(model_path, inputs, threads, options.repeat, options.warmup);
    print_row(spec, "float", threads, ours, ort_float[t], 0,
              1e3 * macs / (peak_macs_per_second(false) * threads));
  }
  for (size_t t = 0; t < std::size(kThreadCounts); ++t) {
    const int threads = kThreadCounts[t];
    const lq::FixedSimulator fixed(program, {threads});
    const Timing ours = timed([&] { fixed.run(inputs); }, options);
    print_row(spec, "int8", threads, ours,
              ort.median_ms(qdq_path, inputs, threads, options.repeat, options.warmup),
              ort_float[t], 1e3 * macs / (peak_macs_per_second(true) * threads));
  }
  fmt::print("{:<5} | {} MACs; peak per core: float {:.1f} G, int8 {:.1f} G MACs/s\n", spec.name,
             macs, peak_macs_per_second(false) * 1e-9, peak_macs_per_second(true) * 1e-9);
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
    fmt::print("model | kind  | threads | libquant ms | user ms |   ORT ms |  ratio | vs float | floor ms | x floor\n");
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
