// Runs the ONNX backend node test cases for every op the float Simulator claims.
// A case whose ops are all claimed must pass unless tests/conformance/excluded.txt
// lists it with a reason. Exit status 1 if any claimed case fails.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"
#include "node_cases.hpp"

namespace fs = std::filesystem;

namespace {

using lq::conformance::ops_of;
using lq::conformance::read_excluded;
using lq::conformance::read_tensor_pb;

struct Options {
  std::string dir;
  std::string excluded_file;
  std::vector<std::string> filters;
  bool verbose = false;
  bool reference_only = false;
  int threads = 1;
};

const char* kUsage =
    "usage: lq_conformance --dir ONNX_NODE_TESTS_DIR [--excluded FILE] [--filter TEXT]...\n"
    "                      [--reference] [--threads N] [--verbose]\n"
    "Runs DIR/node/test_* cases whose ops the float Simulator supports.\n"
    "--filter keeps cases whose name contains TEXT (repeatable); --reference uses only\n"
    "reference kernels; --verbose prints every case.\n";

// ONNX's backend tests compare with numpy's assert_allclose(rtol=1e-3, atol=1e-7).
std::string compare(const lq::Tensor& actual, const lq::Tensor& expected) {
  if (actual.dtype() != expected.dtype()) {
    return fmt::format("dtype {} != expected {}", lq::dtype_name(actual.dtype()),
                       lq::dtype_name(expected.dtype()));
  }
  if (actual.shape() != expected.shape()) {
    return fmt::format("shape {} != expected {}", lq::shape_str(actual.shape()),
                       lq::shape_str(expected.shape()));
  }
  const auto a = actual.to_doubles();
  const auto e = expected.to_doubles();
  const bool exact = !lq::dtype_is_float(actual.dtype());
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i]) && std::isnan(a[i])) continue;
    if (std::isinf(e[i]) && a[i] == e[i]) continue;
    const double tolerance = exact ? 0.0 : 1e-7 + 1e-3 * std::fabs(e[i]);
    if (!(std::fabs(a[i] - e[i]) <= tolerance)) {
      return fmt::format("element {}: {} != expected {}", i, a[i], e[i]);
    }
  }
  return "";
}

// Returns "" on success, else the failure.
std::string run_case(const fs::path& dir, const Options& options) {
  try {
    lq::Graph graph = lq::load_onnx((dir / "model.onnx").string());
    lq::SimulatorOptions sim_options;
    sim_options.reference_only = options.reference_only;
    sim_options.threads = options.threads;
    lq::Simulator sim(graph, sim_options);
    std::vector<fs::path> data_sets;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_directory()) data_sets.push_back(entry.path());
    }
    std::sort(data_sets.begin(), data_sets.end());
    for (const auto& set : data_sets) {
      lq::TensorMap feeds;
      size_t index = 0;
      for (const lq::Value* in : graph.inputs()) {
        const fs::path file = set / fmt::format("input_{}.pb", index++);
        if (fs::exists(file)) feeds[in->name()] = read_tensor_pb(file);
      }
      const lq::TensorMap outputs = sim.run(feeds);
      for (size_t i = 0; i < graph.outputs().size(); ++i) {
        const lq::Tensor expected = read_tensor_pb(set / fmt::format("output_{}.pb", i));
        const std::string name = graph.outputs()[i]->name();
        const std::string diff = compare(outputs.at(name), expected);
        if (!diff.empty()) return fmt::format("{} output \"{}\": {}", set.filename().string(), name, diff);
      }
    }
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

bool parse_args(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dir") options.dir = next();
    else if (arg == "--excluded") options.excluded_file = next();
    else if (arg == "--filter") options.filters.push_back(next());
    else if (arg == "--threads") options.threads = std::stoi(next());
    else if (arg == "--reference") options.reference_only = true;
    else if (arg == "--verbose") options.verbose = true;
    else if (arg == "--help" || arg == "-h") return false;
    else throw std::runtime_error("unknown argument " + arg);
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
    std::cerr << "lq_conformance: " << e.what() << "\n" << kUsage;
    return 2;
  }
  const fs::path node_dir = fs::path(options.dir) / "node";
  if (!fs::is_directory(node_dir)) {
    std::cerr << "lq_conformance: " << node_dir << " does not exist; generate the cases with "
              << "scripts/gen-onnx-node-tests.sh\n";
    return 2;
  }
  const auto excluded = read_excluded(options.excluded_file);
  const auto supported_list = lq::supported_ops();
  const std::set<std::string> supported(supported_list.begin(), supported_list.end());

  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(node_dir)) cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  int passed = 0, failed = 0, skipped = 0, excluded_count = 0;
  std::map<std::string, std::pair<int, int>> per_op;  // op -> (passed, failed)
  for (const auto& dir : cases) {
    const std::string name = dir.filename().string();
    if (!options.filters.empty() &&
        std::none_of(options.filters.begin(), options.filters.end(),
                     [&](const std::string& f) { return name.find(f) != std::string::npos; })) {
      continue;
    }
    const auto ops = ops_of(dir / "model.onnx");
    const bool claimed = !ops.empty() && std::all_of(ops.begin(), ops.end(),
                                                     [&](const std::string& op) { return supported.count(op) != 0; });
    if (!claimed) {
      ++skipped;
      continue;
    }
    const std::string failure = run_case(dir, options);
    const auto ex = excluded.find(name);
    const std::string op = ops.size() == 1 ? *ops.begin() : "(several ops)";
    if (ex != excluded.end()) {
      ++excluded_count;
      if (failure.empty()) std::cout << "NOTE    " << name << " passes now; remove it from the excluded list\n";
      else if (options.verbose) std::cout << "EXCLUDED " << name << ":" << ex->second << "\n";
      continue;
    }
    if (failure.empty()) {
      ++passed;
      ++per_op[op].first;
      if (options.verbose) std::cout << "PASS    " << name << "\n";
    } else {
      ++failed;
      ++per_op[op].second;
      std::cout << "FAIL    " << name << ": " << failure << "\n";
    }
  }
  std::cout << fmt::format("ONNX node conformance: {} claimed ops; {} cases run, {} excluded (listed "
                           "with reasons), {} skipped (ops not claimed)\n",
                           supported.size(), passed + failed, excluded_count, skipped);
  std::cout << fmt::format("{} passed, {} failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
