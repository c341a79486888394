// Model test: libquant's float Simulator must match ONNX Runtime on a PP-OCR model, on a
// random and a text-like input. Also checks that the graph passes do not change results,
// that thread count does not change a single bit, and that ORT runs our ONNX export the
// same as the original. Exit status: 0 pass, 1 fail, 77 skipped (models not fetchable).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
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

constexpr double kMinCosine = 0.99999;
constexpr double kMaxAbsError = 1e-3;
constexpr double kMaxPassesError = 1e-4;  // optimized vs un-optimized graph

const char* kUsage =
    "usage: lq_model_tests --model det|rec|cls --work-dir DIR\n"
    "Compares libquant's float Simulator with ONNX Runtime on a PP-OCR model.\n";

struct ModelSpec {
  const char* name;
  int64_t height;
  int64_t width;
};

constexpr ModelSpec kModels[] = {{"det", 640, 640}, {"rec", 48, 320}, {"cls", 48, 192}};

struct Similarity {
  double cosine;
  double max_abs;
};

// Throws if the tensors cannot be compared at all (a failed check, not a crash).
Similarity similarity(const lq::Tensor& actual, const lq::Tensor& expected) {
  if (actual.shape() != expected.shape()) {
    throw std::runtime_error(fmt::format("shape {} != expected {}", lq::shape_str(actual.shape()),
                                         lq::shape_str(expected.shape())));
  }
  const std::vector<double> a = actual.to_doubles();
  const std::vector<double> e = expected.to_doubles();
  double dot = 0, norm_a = 0, norm_e = 0, max_abs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * e[i];
    norm_a += a[i] * a[i];
    norm_e += e[i] * e[i];
    // NaN must fail the check, so it is spelled out instead of std::max.
    const double diff = std::fabs(a[i] - e[i]);
    if (!(diff <= max_abs)) max_abs = diff;
  }
  const double denominator = std::sqrt(norm_a) * std::sqrt(norm_e);
  const double cosine = denominator > 0 ? dot / denominator : (norm_a == norm_e ? 1.0 : 0.0);
  return {cosine, max_abs};
}

bool bit_identical(const lq::Tensor& a, const lq::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Prints one line per check and remembers whether any failed.
class Report {
 public:
  explicit Report(std::string model) : model_(std::move(model)) {}

  void check(bool ok, const std::string& what) {
    fmt::print("{} {:<48} {}\n", model_, what, ok ? "ok" : "FAILED");
    std::fflush(stdout);
    failures_ += ok ? 0 : 1;
    ++checks_;
  }
  void fail(const std::string& what) { check(false, what); }
  const std::string& model() const { return model_; }
  int failures() const { return failures_; }
  int checks() const { return checks_; }

 private:
  std::string model_;
  int failures_ = 0;
  int checks_ = 0;
};

lq::TensorMap timed_run(const lq::Simulator& simulator, const lq::TensorMap& inputs,
                        double& seconds) {
  const auto start = std::chrono::steady_clock::now();
  lq::TensorMap outputs = simulator.run(inputs);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outputs;
}

std::vector<std::string> names_of(const lq::TensorMap& tensors) {
  std::vector<std::string> names;
  for (const auto& entry : tensors) names.push_back(entry.first);
  return names;
}

// Both sides must produce the same outputs, each close enough.
void compare_outputs(Report& report, const std::string& label, const lq::TensorMap& actual,
                     const lq::TensorMap& expected, double max_abs_limit) {
  if (expected.empty() || names_of(actual) != names_of(expected)) {
    report.fail(fmt::format("{}: outputs [{}] != expected [{}]", label,
                            fmt::join(names_of(actual), ", "), fmt::join(names_of(expected), ", ")));
    return;
  }
  for (const auto& [name, expected_tensor] : expected) {
    try {
      const Similarity s = similarity(actual.at(name), expected_tensor);
      report.check(s.cosine >= kMinCosine && s.max_abs <= max_abs_limit,
                   fmt::format("{} {}: cosine {:.8f} max_abs {:.2e}", label,
                               lq::shape_str(expected_tensor.shape()), s.cosine, s.max_abs));
    } catch (const std::exception& e) {
      report.fail(fmt::format("{} \"{}\": {}", label, name, e.what()));
    }
  }
}

// The optimized graph against ORT; the un-optimized graph and one thread against that.
void check_simulator(Report& report, const std::string& label, const lq::TensorMap& inputs,
                     const lq::TensorMap& ort_outputs, const lq::Graph& original,
                     const lq::Graph& optimized) {
  lq::SimulatorOptions two_threads;
  two_threads.threads = 2;
  double seconds = 0;
  const lq::TensorMap ours = timed_run(lq::Simulator(optimized, two_threads), inputs, seconds);
  fmt::print("{} {}: Simulator (optimized graph, 2 threads) took {:.3f} s\n", report.model(),
             label, seconds);
  compare_outputs(report, label + " vs ORT", ours, ort_outputs, kMaxAbsError);

  const lq::TensorMap unoptimized = lq::Simulator(original, two_threads).run(inputs);
  compare_outputs(report, label + " un-optimized vs optimized", unoptimized, ours, kMaxPassesError);

  lq::SimulatorOptions one_thread;
  one_thread.threads = 1;
  const lq::TensorMap single = lq::Simulator(optimized, one_thread).run(inputs);
  for (const auto& [name, tensor] : ours) {
    auto it = single.find(name);
    report.check(it != single.end() && bit_identical(it->second, tensor),
                 fmt::format("{} 1 vs 2 threads bit-identical", label));
  }
}

int test_model(const ModelSpec& spec, const fs::path& work_dir) {
  const lq::test::ModelAssets assets = lq::test::fetch_models();
  const std::string model_path = assets.models.at(spec.name);
  fs::create_directories(work_dir);
  const lq::test::OrtPeer ort(assets.ort_dir, work_dir);
  Report report(spec.name);

  const lq::Graph original = lq::load_onnx(model_path);
  lq::Graph optimized = original.clone();
  const std::vector<std::string> passes = lq::optimize(optimized);
  fmt::print("{}: {} ({} nodes, {} after lq::optimize: {})\n", spec.name, model_path,
             original.num_nodes(), optimized.num_nodes(), fmt::join(passes, ", "));
  const fs::path exported = work_dir / fmt::format("{}_optimized.onnx", spec.name);
  lq::save_onnx(optimized, exported.string());

  const std::string input_name = original.inputs().at(0)->name();
  const std::pair<std::string, lq::TensorMap> input_sets[] = {
      {"random", {{input_name, lq::test::random_image(spec.height, spec.width, 1234)}}},
      {"text", {{input_name, lq::test::text_image(spec.height, spec.width, 42)}}},
  };
  for (const auto& [label, inputs] : input_sets) {
    const lq::TensorMap ort_outputs = ort.run(model_path, inputs);
    check_simulator(report, label, inputs, ort_outputs, original, optimized);
    compare_outputs(report, label + " export: ORT(lq::save_onnx) vs ORT(original)",
                    ort.run(exported.string(), inputs), ort_outputs, kMaxAbsError);
  }
  fmt::print("{}: {} of {} checks failed\n", spec.name, report.failures(), report.checks());
  return report.failures() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model;
  fs::path work_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model" && i + 1 < argc) {
      model = argv[++i];
    } else if (arg == "--work-dir" && i + 1 < argc) {
      work_dir = argv[++i];
    } else {
      std::cerr << kUsage;
      return arg == "--help" ? 0 : 2;
    }
  }
  for (const ModelSpec& spec : kModels) {
    if (model != spec.name || work_dir.empty()) continue;
    try {
      return test_model(spec, work_dir);
    } catch (const lq::test::PeerUnavailable& e) {
      fmt::print("SKIPPED: {}\n", e.what());
      return lq::test::kSkipExitCode;
    } catch (const std::exception& e) {
      fmt::print("{}: FAILED: {}\n", spec.name, e.what());
      return 1;
    }
  }
  std::cerr << kUsage;
  return 2;
}
