// Where the time of one run goes, by op type: the float Simulator and the compiled int8
// program in the fixed-point Simulator on a PP-OCR model, at 1 and 2 threads. The time of a
// node is measured from the previous node's output observer call to its own, so it holds the
// kernel plus the runtime's per-step work (not the observer, which only reads a clock).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"
#include "model_inputs.hpp"
#include "ort_peer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Tally {
  double ms = 0;
  int count = 0;
};

void print(const char* what, int threads, const std::map<std::string, Tally>& by_op, int runs) {
  std::vector<std::pair<std::string, Tally>> rows(by_op.begin(), by_op.end());
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.ms > b.second.ms; });
  double total = 0;
  for (auto& r : rows) total += r.second.ms;
  fmt::print("{} at {} thread(s): {:.2f} ms per run\n", what, threads, total / runs);
  for (auto& [op, t] : rows) {
    fmt::print("  {:<22} {:>8.2f} ms {:>5.1f} %  ({} nodes)\n", op, t.ms / runs, 100 * t.ms / total,
               t.count / runs);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "det";
  const int runs = argc > 2 ? std::stoi(argv[2]) : 5;
  const int64_t h = name == "det" ? 640 : 48, w = name == "det" ? 640 : name == "rec" ? 320 : 192;
  const lq::test::ModelAssets assets = lq::test::fetch_models();
  lq::Graph graph = lq::load_onnx(assets.models.at(name));
  lq::optimize(graph);
  const std::string input = graph.inputs().at(0)->name();
  const lq::TensorMap inputs{{input, lq::test::text_image(h, w, 42)}};
  const lq::QuantizedGraph qgraph = lq::test::quantize_on_text_pages(graph, h, w, lq::DType::kInt8);
  lq::CompileOptions compile;
  compile.input_shapes[input] = inputs.at(input).shape();
  const lq::Program program = lq::Compiler(compile).compile(qgraph);
  std::map<std::string, std::string> producer_op;  // program tensor -> op of the layer writing it
  for (const lq::LayerInfo& layer : program.layers()) {
    for (const std::string& out : layer.outputs) producer_op[out] = layer.kernel + ":" + layer.op_type;
  }
  for (int threads : {1, 2}) {
    lq::SimulatorOptions options;
    options.threads = threads;
    const lq::Simulator sim(graph, options);
    std::map<std::string, Tally> by_op;
    for (int r = 0; r < runs + 1; ++r) {
      Clock::time_point last = Clock::now();
      const lq::Node* last_node = nullptr;
      sim.run(inputs, [&](const lq::Value& v, const lq::Tensor&) {
        const Clock::time_point now = Clock::now();
        if (v.producer() == last_node) return;  // a second output of the same node
        last_node = v.producer();
        if (r > 0) {
          Tally& t = by_op[v.producer()->op_type()];
          t.ms += std::chrono::duration<double, std::milli>(now - last).count();
          ++t.count;
        }
        last = Clock::now();
      });
    }
    print("float", threads, by_op, runs);
  }
  for (int threads : {1, 2}) {
    const lq::FixedSimulator fixed(program, {threads});
    std::map<std::string, Tally> by_op;
    for (int r = 0; r < runs + 1; ++r) {
      Clock::time_point last = Clock::now();
      fixed.run(inputs, [&](const lq::ProgramTensorInfo& info, const lq::Tensor&) {
        const Clock::time_point now = Clock::now();
        if (r > 0) {
          Tally& t = by_op[producer_op[info.name]];
          t.ms += std::chrono::duration<double, std::milli>(now - last).count();
          ++t.count;
        }
        last = Clock::now();
      });
    }
    print("int8", threads, by_op, runs);
  }
  return 0;
}
