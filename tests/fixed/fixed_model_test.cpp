// The fixed Simulator on PP-OCR: a compiled Program of each model agrees with fake
// quantization, is bit-identical for 1 and 2 threads, on a repeated run and after a .lqm
// save / load, and lists its CPU nodes. Three quantizations, each with its own bound: the
// share of output codes within 1 LSB (int16: within 16 int16 steps, 1/16 of an int8 step:
// dozens of layers each rounding once differently cannot stay within one int16 step) that
// was measured (lq_fixed_model_test on x86-64, 2026-12-07), less a small margin (det int8:
// 0.12 points, about 500 of its 409600 codes; the others less):
//
//   model  int8 (measured)      int16 datapath, int8 weights  int16, 16 steps
//   det    99.30 % (99.4236 %)  99.99 % (99.9980 %)           99.60 % (99.6968 %)
//   rec    99.95 % (99.9657 %)  99.999 % (100 %)              99.99 % (99.9996 %)
//   cls    100 % of its 2 codes in every quantization (the classifier's two scores)
//
// Every node run on its own (fed fake quantization's codes) is within 1 LSB in at least
// 99.99 % of its codes (measured: 100 % for every node of the three models).
// cls int8 on pow2-npu (final Softmax removed): every scale a power of two, the Compiler's
// rounding-shift check passes (and refuses the float-scale quantization), every node within
// 1 LSB, bit-identical across threads and save / load. The end-to-end logits are not
// bounded: with power-of-two scales a requantization lands exactly on a tie (.5) often, the
// fixed path rounds ties away from zero and fake quantization to even, and the one-sided
// difference accumulates over 50 layers (measured: up to 23 codes of the 2 int8 logits).
// Exit status: 0 pass, 1 fail, 77 skipped (no models).
//
// Why det's int8 share is lower: the integer path computes each
// requantization exactly, fake quantization in float32 (sums in a different order, ties to
// even), so a few codes per layer differ by one, and det's int8 network amplifies them
// (output SNR against float ~13 dB). Measured layer by layer on page 99: the first Conv
// differs in 0.0002 % of codes; by layer 25 0.5 % differ, by layer 55 17 %, at the head
// 30-60 % differ by one or more and the Sigmoid output has 99.44 % of codes within one.
// This is the int8 network's own sensitivity, not a kernel error: with int16 activations
// (same int8 weights) det reaches 99.995 %, and making half of the activation elements
// int16 (int16_budget 0.5) only 99.73 %, so no share of int16 short of all gets there.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "libquant/analysis.hpp"
#include "libquant/compiler.hpp"
#include "libquant/runtime.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "model_inputs.hpp"
#include "node_programs.hpp"
#include "ort_peer.hpp"

namespace fs = std::filesystem;

namespace {

struct Case {
  const char* model;
  int64_t height;
  int64_t width;
  // The bounds of the file comment: int8, int16 datapath, int16.
  double min_int8;
  double min_datapath16;
  double min_int16;
};

bool same_bits(const lq::TensorMap& a, const lq::TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a) {
    const lq::Tensor& u = b.at(name);
    if (t.dtype() != u.dtype() || t.shape() != u.shape() ||
        std::memcmp(t.raw(), u.raw(), t.nbytes()) != 0) {
      return false;
    }
  }
  return true;
}

// Every node run on its own, fed fake quantization's codes: the share of its output codes
// within 1 LSB of fake quantization's, for the worst node (what each layer's arithmetic
// adds, without what earlier layers pass on).
// `fake`: fake quantization's value of every tensor (the model inputs as given).
bool check_nodes(const lq::Program& program, const lq::TensorMap& fake, const char* model,
                 lq::DType bits) {
  double worst = 1.0;
  std::string worst_node;
  int64_t max_diff = 0;
  for (const lq::test::NodeSpan& span : lq::test::node_spans(program.data())) {
    const lq::Program single = lq::test::node_program(program.data(), span);
    lq::TensorMap in;
    for (const lq::ProgramTensorInfo& t : single.inputs()) in[t.name] = lq::test::stored_form(t, fake.at(t.name));
    const lq::TensorMap got = lq::FixedSimulator(single).run(in);
    for (const lq::ProgramTensorInfo& t : single.outputs()) {
      const auto a = got.at(t.name).to_int64s();
      const auto b = lq::test::stored_form(t, fake.at(t.name)).to_int64s();
      int64_t within = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        within += std::abs(a[i] - b[i]) <= 1 ? 1 : 0;
        max_diff = std::max(max_diff, std::abs(a[i] - b[i]));
      }
      const double fraction = a.empty() ? 1.0 : static_cast<double>(within) / static_cast<double>(a.size());
      if (fraction < worst) {
        worst = fraction;
        worst_node = program.data().instructions[span.begin].node;
      }
    }
  }
  const bool pass = worst >= 0.9999;
  fmt::print("{} {} {} node by node: worst node {:.4f} % of codes within 1 LSB{} (max difference "
             "{}), bound 99.99 %\n",
             pass ? "ok  " : "FAIL", model, lq::dtype_name(bits), 100 * worst,
             worst_node.empty() ? "" : fmt::format(" (\"{}\")", worst_node), max_diff);
  return pass;
}

// One quantization of a model: activation, weight and output widths, and the agreement
// asked of the output codes (`tolerance` codes for `min_within` of them).
struct Variant {
  const char* label;
  lq::DType activations;
  lq::DType weights;
  lq::DType outputs;
  int64_t tolerance;
  bool node_checks;  // also node by node, threads, repeat, save / load
  const char* target = "generic";
  // The final Softmax removed (remove_output_nodes): its 2 probabilities from pow2-npu's
  // coarser logit scale turn a 1-LSB logit difference into ~13 codes, so the integer logits
  // are what is compared.
  bool drop_final_softmax = false;
};

bool is_power_of_two(float s) {
  int exponent = 0;
  return s > 0 && std::frexp(s, &exponent) == 0.5f;
}

// On a power-of-two target: every scale the Quantizer wrote is 2^-radix (the compile then
// checks every requantization is a rounding shift), and the same model quantized for float
// scales is refused by that check, naming a node.
bool check_power_of_two(const lq::QuantizedGraph& qgraph, const lq::Graph& graph, const lq::CompileOptions& options,
                        int64_t height, int64_t width) {
  int64_t scales = 0, bad = 0;
  for (const auto& [name, p] : qgraph.params) {
    for (float s : p.scale) {
      ++scales;
      bad += is_power_of_two(s) ? 0 : 1;
    }
  }
  bool refused = false;
  try {
    lq::Compiler(options).compile(lq::test::quantize_on_text_pages(graph, height, width, lq::DType::kInt8));
  } catch (const lq::Error& e) {
    refused = std::string(e.what()).find("not a power of two") != std::string::npos;
  }
  fmt::print("{} {} of {} scales are powers of two; {} float-scale quantization refused by the "
             "rounding-shift check\n", bad == 0 && refused ? "ok  " : "FAIL", scales - bad, scales,
             refused ? "a" : "NOT: a");
  return bad == 0 && refused;
}

bool check(const Case& c, const std::string& path, const fs::path& work, const Variant& v,
           double min_within) {
  lq::Graph graph = lq::load_onnx(path);
  lq::optimize(graph);
  if (v.drop_final_softmax) {
    for (const lq::Value* out : graph.outputs()) {
      if (out->producer() && out->producer()->op_type() == "Softmax") {
        lq::remove_output_nodes(graph, {out->producer()->name()});
        break;
      }
    }
  }
  const std::string input = graph.inputs().at(0)->name();
  const lq::QuantizedGraph qgraph =
      lq::test::quantize_on_text_pages(graph, c.height, c.width, v.activations, v.weights, v.outputs,
                                       lq::Target::named(v.target));

  lq::CompileOptions options;
  options.target = lq::Target::named(v.target);
  options.input_shapes[input] = {1, 3, c.height, c.width};
  const lq::Program program = lq::Compiler(options).compile(qgraph);
  const bool pow2_ok = !options.target.power_of_two_scales() ||
                       check_power_of_two(qgraph, graph, options, c.height, c.width);
  int cpu = 0;
  for (const lq::LayerInfo& layer : program.layers()) {
    if (layer.kernel != "CPU") continue;
    ++cpu;
    fmt::print("  CPU node {} \"{}\": {}\n", layer.op_type, layer.node, layer.cpu_reason);
  }
  fmt::print("{} {}: {} instructions ({} CPU), arena {} KiB, weights {} KiB\n", c.model, v.label,
             program.layers().size(), cpu, program.peak_activation_bytes() / 1024,
             program.weight_bytes() / 1024);

  const lq::TensorMap feeds = {{input, lq::test::text_image(c.height, c.width, 99)}};
  const lq::FixedSimulator one(program, {1});
  const lq::TensorMap fixed = one.run(feeds);
  lq::TensorMap fake = feeds;  // every tensor's fake-quantized value, for check_nodes too
  lq::fake_quant_simulator(qgraph).run(
      feeds, [&](const lq::Value& v, const lq::Tensor& t) { fake[v.name()] = t.clone(); });
  const int64_t tolerance = v.tolerance;
  bool ok = pow2_ok;
  for (const lq::ProgramTensorInfo& out : program.outputs()) {
    const lq::Tensor want = lq::quantize_tensor(fake.at(out.name), out.quant);
    const auto a = fixed.at(out.name).to_int64s();
    const auto b = want.to_int64s();
    int64_t within = 0, max_diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const int64_t d = std::abs(a[i] - b[i]);
      within += d <= tolerance ? 1 : 0;
      max_diff = std::max(max_diff, d);
    }
    int64_t exact = 0;
    for (size_t i = 0; i < a.size(); ++i) exact += a[i] == b[i] ? 1 : 0;
    fmt::print("     {} {} output \"{}\": {:.4f} % of codes equal to fake-quant's\n", c.model, v.label, out.name,
               100.0 * static_cast<double>(exact) / static_cast<double>(a.size()));
    const double fraction = static_cast<double>(within) / static_cast<double>(a.size());
    const bool pass = fraction >= min_within;
    ok = ok && pass;
    fmt::print("{} {} {} output \"{}\" ({}): {:.4f} % of {} codes within {} LSB of fake-quant "
               "(max difference {}), bound {} %\n",
               pass ? "ok  " : "FAIL", c.model, v.label, out.name, lq::dtype_name(out.quant.dtype),
               100 * fraction, a.size(), tolerance, max_diff, 100 * min_within);
  }
  if (!v.node_checks) return ok;

  ok = check_nodes(program, fake, c.model, v.activations) && ok;
  const bool threads_agree = same_bits(fixed, lq::FixedSimulator(program, {2}).run(feeds));
  const bool repeat_agrees = same_bits(fixed, one.run(feeds));
  const fs::path file = work / fmt::format("{}_{}.lqm", c.model, lq::dtype_name(v.activations));
  program.save(file.string());
  const bool reload_agrees = same_bits(fixed, lq::FixedSimulator(lq::Program::load(file.string())).run(feeds));
  fmt::print("{} bit-identical with 2 threads, {} on a repeated run, {} after save/load ({} KiB)\n",
             threads_agree ? "ok  " : "FAIL", repeat_agrees ? "ok" : "FAIL",
             reload_agrees ? "ok" : "FAIL", fs::file_size(file) / 1024);
  return ok && threads_agree && repeat_agrees && reload_agrees;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: lq_fixed_model_test det|rec|cls WORK_DIR\n";
    return 2;
  }
  const std::string name = argv[1];
  const fs::path work = argv[2];
  const Case cases[] = {{"det", 640, 640, 0.993, 0.9999, 0.996},
                        {"rec", 48, 320, 0.9995, 0.99999, 0.9999},
                        {"cls", 48, 192, 1.0, 1.0, 1.0}};
  using lq::DType;
  const Variant int8{"int8", DType::kInt8, DType::kInt8, DType::kUndefined, 1, true};
  const Variant datapath16{"int16 datapath, int8 weights and output", DType::kInt16, DType::kInt8,
                           DType::kInt8, 1, false};
  const Variant int16{"int16", DType::kInt16, DType::kInt16, DType::kUndefined, 16, true};
  const Variant pow2{"int8 on pow2-npu", DType::kInt8, DType::kInt8, DType::kUndefined, 1, true, "pow2-npu", true};
  try {
    const lq::test::ModelAssets assets = lq::test::fetch_models();
    fs::create_directories(work);
    for (const Case& c : cases) {
      if (name != c.model) continue;
      const std::string& model = assets.models.at(c.model);
      const bool ok = check(c, model, work, int8, c.min_int8) &
                      check(c, model, work, datapath16, c.min_datapath16) &
                      check(c, model, work, int16, c.min_int16) &
                      (name != "cls" || check(c, model, work, pow2, 0.0));
      return ok ? 0 : 1;
    }
    std::cerr << "unknown model " << name << "\n";
    return 2;
  } catch (const lq::test::PeerUnavailable& e) {
    std::cout << "SKIP: " << e.what() << "\n";
    return lq::test::kSkipExitCode;
  } catch (const std::exception& e) {
    std::cerr << "FAIL: " << e.what() << "\n";
    return 1;
  }
}
