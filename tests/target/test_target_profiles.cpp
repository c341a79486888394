// Target profiles from JSON (lib/target/profile_json.cpp, the built-in files in
// lib/target/profiles/), their per-op constraints, the Quantizer honouring a target's scale
// kind and weight granularity, check_deployment and estimate_program on tiny graphs.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "kernel_test_util.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"

using namespace lq;

namespace {

Value* input(Graph& g, const std::string& name, const Shape& shape) {
  Value* v = g.add_value(name);
  v->type() = TensorType{DType::kFloat32, true, {}};
  for (int64_t d : shape) v->type().dims.push_back(Dim{d, {}});
  g.add_input(v);
  return v;
}

Attribute ints(std::vector<int64_t> v) {
  Attribute a;
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}

Attribute one(int64_t v) {
  Attribute a;
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}

// x [1, cin, h, w] -> Conv(k x k, stride, group) -> y
Graph conv_graph(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t group, int64_t hw = 16) {
  Graph g;
  g.set_opset("", 13);
  Value* x = input(g, "x", {1, cin, hw, hw});
  Value* w = g.add_value("w");
  g.set_initializer(w, test::random_tensor({cout, cin / group, k, k}, 7));
  Value* b = g.add_value("b");
  g.set_initializer(b, test::random_tensor({cout}, 8));
  Value* y = g.add_value("y");
  Node* n = g.add_node("Conv", {x, w, b}, {y}, "conv");
  n->set_attr("kernel_shape", ints({k, k}));
  n->set_attr("strides", ints({stride, stride}));
  n->set_attr("pads", ints({k / 2, k / 2, k / 2, k / 2}));
  n->set_attr("group", one(group));
  g.add_output(y);
  return g;
}

QuantizedGraph quantize_on(const Graph& g, const Target& target, const QuantConfig& config = {}) {
  Calibrator calibrator(g);
  for (uint32_t s = 0; s < 3; ++s) {
    TensorMap feeds;
    for (const Value* in : g.inputs()) feeds[in->name()] = test::random_tensor(in->type().static_shape(), 11 + s);
    calibrator.add_sample(feeds);
  }
  return Quantizer(config, target).quantize(g, calibrator.table());
}

bool power_of_two(double s) {
  const double l = std::log2(s);
  return s > 0 && l == std::round(l);
}

}  // namespace

TEST_CASE("Target profiles: the built-in JSON profiles declare their capabilities", "[target]") {
  const Target pow2 = Target::named("pow2-npu");
  REQUIRE(pow2.power_of_two_scales());
  REQUIRE(pow2.int16_activations());
  REQUIRE(pow2.weight_bits() == std::vector<int>{4, 8, 16});
  REQUIRE(pow2.profile().cost.cores == 2);
  REQUIRE(pow2.profile().cost.macs_per_cycle_for(8, 4) == 2048);
  REQUIRE(pow2.profile().cost.macs_per_cycle_for(16, 16) == 256);
  const Target small = Target::named("small-npu");
  REQUIRE_FALSE(small.int16_activations());
  REQUIRE_FALSE(small.per_channel());
  REQUIRE(small.profile().cost.sram_bytes == 256 * 1024);
  REQUIRE(small.profile().cost.bytes_per_cycle == Approx(1.6e9 / 5e8));
  REQUIRE(small.profile().cost.macs_per_cycle_for(16, 8) == Approx(256.0 / 2));  // unlisted pair: scaled
  REQUIRE_FALSE(Target::named("int8").int16());
}

TEST_CASE("Target profiles: JSON keys are checked and the nearest key is suggested", "[target]") {
  REQUIRE_THROWS_WITH(parse_target_profile(R"({"name": "x", "wieght_bits": [8]})", "my.json"),
                      Catch::Contains("my.json") && Catch::Contains("unknown key \"wieght_bits\"") &&
                          Catch::Contains("did you mean \"weight_bits\"?"));
  REQUIRE_THROWS_WITH(parse_target_profile(R"({"name": "x", "ops": {"Conv": {"stride": [1]}}})"),
                      Catch::Contains("ops.Conv") && Catch::Contains("did you mean \"strides\"?"));
  REQUIRE_THROWS_WITH(parse_target_profile(R"({"name": "x", "cost": {"cors": 2}})"),
                      Catch::Contains("cost") && Catch::Contains("did you mean \"cores\"?"));
  REQUIRE_THROWS_WITH(parse_target_profile(R"({"name": "x", "scale": "pow2"})"),
                      Catch::Contains("scale") && Catch::Contains("float, power_of_two"));
  REQUIRE_THROWS_WITH(parse_target_profile(R"({"name": "x", "weight_bits": [8, 12]})"),
                      Catch::Contains("bit width 12"));
  REQUIRE_THROWS_WITH(parse_target_profile(R"({"name": "x", "ops": {"Conv": {"groups": ["depthwsie"]}}})"),
                      Catch::Contains("did you mean \"depthwise\"?"));
  REQUIRE_THROWS_WITH(parse_target_profile(R"({"description": "no name"})"), Catch::Contains("needs \"name\""));
  REQUIRE_THROWS_WITH(parse_target_profile("{", "broken.json"), Catch::Contains("broken.json: not valid JSON"));
}

TEST_CASE("Target profiles: a profile file is a target by its path", "[target]") {
  const std::string path = "test_target_profile_file.json";
  std::ofstream(path) << R"({"name": "file-npu", "activation_bits": [8], "weight_bits": [8],
    "weights": "per_tensor", "cost": {"macs_per_cycle": 64, "clock_hz": 2e8, "cores": 3}})";
  const Target t = Target::from_name_or_file(path);
  std::remove(path.c_str());
  REQUIRE(t.name() == "file-npu");
  REQUIRE_FALSE(t.per_channel());
  REQUIRE_FALSE(t.int16());
  REQUIRE(t.profile().cost.cores == 3);
  REQUIRE(t.cycles(LayerWork{64 * 3 * 10, 0, 0}) == 10);  // compute over every core
  REQUIRE_THROWS_WITH(Target::from_name_or_file("missing.json"), Catch::Contains("cannot open target profile 'missing.json'"));
  REQUIRE(Target::from_name_or_file("int8").name() == "int8");
}

TEST_CASE("Target profiles: per-op constraints decide NPU or CPU with the constraint named", "[target]") {
  const Target pow2 = Target::named("pow2-npu");
  const Target small = Target::named("small-npu");
  REQUIRE(pow2.cpu_reason(*conv_graph(8, 8, 3, 1, 1).find_node("conv")).empty());
  REQUIRE(pow2.cpu_reason(*conv_graph(8, 8, 3, 2, 8).find_node("conv")).empty());  // depthwise
  REQUIRE_THAT(pow2.cpu_reason(*conv_graph(8, 8, 9, 1, 1).find_node("conv")),
               Catch::Contains("kernel sizes in [1, 3, 5, 7], not [9, 9]"));
  REQUIRE_THAT(pow2.cpu_reason(*conv_graph(8, 8, 3, 3, 1).find_node("conv")), Catch::Contains("strides in [1, 2]"));
  REQUIRE_THAT(pow2.cpu_reason(*conv_graph(8, 8, 3, 1, 2).find_node("conv")),
               Catch::Contains("not grouped (group 2)"));
  REQUIRE_THAT(small.cpu_reason(*conv_graph(8, 2048, 1, 1, 1).find_node("conv")),
               Catch::Contains("up to 1024 channels, not 8 in / 2048 out"));
  // An op type outside a restricted profile's "ops".
  Graph g;
  g.set_opset("", 13);
  Value* x = input(g, "x", {1, 4});
  Value* y = g.add_value("y");
  g.add_node("Softmax", {x}, {y}, "softmax");
  g.add_output(y);
  REQUIRE_THAT(small.cpu_reason(*g.find_node("softmax")), Catch::Contains("has no Softmax on the NPU"));
  REQUIRE(Target::named("generic").cpu_reason(*g.find_node("softmax")).empty());
}

TEST_CASE("Target profiles: operand widths per op send int16 nodes to the CPU", "[target]") {
  TargetProfile p = Target::named("generic").profile();
  p.name = "conv8";
  p.ops["Conv"].activation_bits = {8};
  const Target t(p);
  const Graph g = conv_graph(4, 4, 3, 1, 1);
  QuantConfig int16;
  int16.model.activation_dtype = DType::kInt16;
  CompileOptions options;
  options.target = t;
  const Program program = Compiler(options).compile(quantize_on(g, t, int16));
  REQUIRE(program.layers().at(0).kernel == "CPU");
  REQUIRE_THAT(program.layers().at(0).cpu_reason, Catch::Contains("8-bit activations only, not 16-bit"));
  const Program int8 = Compiler(options).compile(quantize_on(g, t));
  REQUIRE(int8.layers().at(0).kernel == "Conv");
}

TEST_CASE("Target profiles: the Quantizer writes power-of-two scales and per-tensor weights where the target asks", "[target]") {
  const Graph g = conv_graph(4, 6, 3, 1, 1);
  QuantConfig config;
  config.model.scale_kind = ScaleKind::kFloat;
  config.model.per_channel = true;
  config.tensors["y"].scale = 0.3f;
  const QuantizedGraph pow2 = quantize_on(g, Target::named("pow2-npu"), config);
  for (const auto& [name, p] : pow2.params) {
    if (name == "b") continue;  // the int32 bias: s_in x s_w, a power of two too
    for (float s : p.scale) REQUIRE(power_of_two(s));
  }
  for (float s : pow2.params.at("b").scale) REQUIRE(power_of_two(s));
  REQUIRE(pow2.params.at("y").scale.at(0) == 0.5f);  // the override rounded up to 2^-1
  bool logged = false;
  for (const std::string& line : pow2.log) logged = logged || line.find("power-of-two") != std::string::npos;
  REQUIRE(logged);

  const QuantizedGraph small = quantize_on(g, Target::named("small-npu"), config);
  REQUIRE_FALSE(small.params.at("w").per_channel());
  REQUIRE(quantize_on(g, Target::named("int8"), config).params.at("w").per_channel());
}

TEST_CASE("Deployment check: every node NPU, CPU or unsupported, by the Compiler's rules", "[target]") {
  Graph g;
  g.set_opset("", 13);
  Value* x = input(g, "x", {1, 8});
  Value* s = g.add_value("s");
  g.add_node("Sigmoid", {x}, {s}, "sigmoid");
  Value* m = g.add_value("m");
  g.add_node("Softmax", {s}, {m}, "softmax");
  Value* y = g.add_value("y");
  g.add_node("Relu", {m}, {y}, "relu");
  g.add_output(y);
  CompileOptions options;
  options.target = Target::named("generic");
  const DeploymentCheck all = check_deployment(g, options);
  REQUIRE(all.all_on_npu());
  REQUIRE(all.nodes.size() == 3);
  options.target = Target::named("small-npu");
  const DeploymentCheck small = check_deployment(g, options);
  REQUIRE(small.deployable());
  REQUIRE_FALSE(small.all_on_npu());
  REQUIRE(small.cpu == 1);
  REQUIRE(small.nodes.at(1).placement == Placement::kCpu);
  REQUIRE_THAT(small.nodes.at(1).reason, Catch::Contains("has no Softmax on the NPU"));
  REQUIRE_THAT(small.to_json(), Catch::Contains("\"cpu_nodes\": 1"));
}

TEST_CASE("Estimate: MACs and bytes of a Conv, SRAM tiling, and the compile modes change the plan", "[target]") {
  // 32 -> 64 channels, 3x3 on 64x64: MACs = 64*64*64 * 32*9.
  const Graph g = conv_graph(32, 64, 3, 1, 1, 64);
  TargetProfile p = Target::named("int8").profile();
  p.name = "tiny";
  p.cost.sram_bytes = 64 * 1024;
  p.cost.cores = 4;
  p.cost.macs_per_cycle = 64;
  p.cost.macs_per_cycle_by_bits.clear();
  CompileOptions options;
  options.target = Target(p);
  const Program program = compile_nominal(g, options);
  const ProgramEstimate e = estimate_program(program, options.target, CompileMode::kBandwidth);
  REQUIRE(e.layers.size() == 1);
  const LayerEstimate& l = e.layers[0];
  REQUIRE(l.macs == 64 * 64 * 64 * 32 * 9);
  REQUIRE(l.weight_bytes == 64 * 32 * 9 + 64 * 4);  // int8 weights, int32 bias
  REQUIRE(l.input_bytes == 32 * 64 * 64);
  REQUIRE(l.output_bytes == 64 * 64 * 64);
  REQUIRE(l.tiles > 1);  // 384 KiB of activations in 64 KiB of SRAM
  REQUIRE(l.ddr_bytes > l.weight_bytes + l.input_bytes + l.output_bytes);  // halo rows re-read
  REQUIRE(l.cores == 1);
  const ProgramEstimate fast = estimate_program(program, options.target, CompileMode::kLatency);
  REQUIRE(fast.layers[0].cores == 4);
  REQUIRE(fast.cycles < e.cycles);
  REQUIRE(e.ddr_bytes <= fast.ddr_bytes);
  const ProgramEstimate balance = estimate_program(program, options.target, CompileMode::kBalance);
  REQUIRE(balance.cycles <= e.cycles);
  REQUIRE(balance.ddr_bytes * 4 <= e.ddr_bytes * 5);
  REQUIRE(fast.fps == Approx(1.0 / fast.latency_seconds));
  // The balance factor moves balance between the two: 0 is bandwidth's plan, a factor above
  // the latency plan's extra traffic is latency's.
  const ProgramEstimate none = estimate_program(program, options.target, CompileMode::kBalance, 0.0);
  REQUIRE(none.ddr_bytes == e.ddr_bytes);
  REQUIRE(none.cycles == e.cycles);
  const double extra = static_cast<double>(fast.ddr_bytes) / static_cast<double>(e.ddr_bytes) - 1.0;
  const ProgramEstimate loose = estimate_program(program, options.target, CompileMode::kBalance, extra + 0.01);
  REQUIRE(loose.cycles == fast.cycles);
  REQUIRE(loose.balance_factor == Approx(extra + 0.01));
  REQUIRE_THROWS_WITH(estimate_program(program, options.target, CompileMode::kBalance, -0.5),
                      Catch::Contains("balance factor -0.5"));
  // int16 activations double the activation bytes.
  QuantConfig int16;
  int16.model.activation_dtype = DType::kInt16;
  options.target = Target::named("generic");
  const ProgramEstimate wide = estimate_program(compile_nominal(g, options, int16), options.target);
  REQUIRE(wide.layers[0].output_bytes == 2 * 64 * 64 * 64);
  REQUIRE(wide.layers[0].activation_bits == 16);
  // Every compile writes its plan into the summary.
  REQUIRE_THAT(program.summary_json(), Catch::Contains("\"estimate\"") && Catch::Contains("\"ddr_bytes\""));
}

TEST_CASE("Target profiles: int16 spreading keeps power-of-two scales, and the Compiler refuses others on pow2-npu", "[target]") {
  const Graph g = conv_graph(4, 6, 3, 1, 1);
  const Target pow2 = Target::named("pow2-npu");
  QuantizedGraph q = quantize_on(g, pow2);
  const QuantParams wide = as_int16(q.params.at("y"));
  REQUIRE(wide.dtype == DType::kInt16);
  REQUIRE(power_of_two(wide.scale.at(0)));
  CompileOptions options;
  options.target = pow2;
  REQUIRE_NOTHROW(Compiler(options).compile(q));
  q.params.at("y").scale.at(0) *= 0.75f;  // a scale the Quantizer would not write on this target
  REQUIRE_THROWS_WITH(Compiler(options).compile(q), Catch::Contains("Conv node \"conv\"") &&
                                                       Catch::Contains("not a power of two"));
}
