// Sentinel constants: a Caffe-converted CNN pads with -FLT_MAX before a ceil-mode MaxPool.
// The model, built as ONNX and read back, quantizes, compiles and matches fake quantization,
// with the Pad left in place (its fill saturates to the lowest code) and with the Pad folded
// into the MaxPool's padding by optimize().
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "kernel_test_util.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

using namespace lq;

namespace {

Value* constant(Graph& g, const std::string& name, Tensor t) {
  Value* v = g.add_value(name);
  g.set_initializer(v, std::move(t));
  return v;
}

// x[1,3,9,9] -> Conv 3x3 (4 channels) -> Relu -> Pad(0,0,0,0, 0,0,1,1; -FLT_MAX, or -inf)
// -> MaxPool(3x3, stride 2, ceil_mode) -> y, written as ONNX and parsed again.
Graph caffe_pool_model(float fill) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {9, {}}, {9, {}}}};
  g.add_input(x);
  Value* w = constant(g, "w", test::random_tensor({4, 3, 3, 3}, 3, -0.5f, 0.5f));
  Value* b = constant(g, "b", Tensor::from_vector<float>({4}, {0.1f, -0.2f, 0.3f, 0.0f}));
  Value* c = g.add_value("c");
  g.add_node("Conv", {x, w, b}, {c}, "conv")->set_attr("pads", test::attr_ints({1, 1, 1, 1}));
  Value* r = g.add_value("r");
  g.add_node("Relu", {c}, {r}, "relu");
  Value* pads = constant(g, "pads", Tensor::from_vector<int64_t>({8}, {0, 0, 0, 0, 0, 0, 1, 1}));
  Value* value = constant(g, "fill", Tensor::from_vector<float>({}, {fill}));
  Value* p = g.add_value("p");
  g.add_node("Pad", {r, pads, value}, {p}, "pad");
  Value* y = g.add_value("y");
  Node* pool = g.add_node("MaxPool", {p}, {y}, "pool");
  pool->set_attr("kernel_shape", test::attr_ints({3, 3}));
  pool->set_attr("strides", test::attr_ints({2, 2}));
  pool->set_attr("ceil_mode", test::attr_int(1));
  g.add_output(y);
  const std::string bytes = serialize_onnx(g);
  return parse_onnx(bytes.data(), bytes.size());
}

TensorMap sample(uint32_t seed) { return {{"x", test::random_tensor({1, 3, 9, 9}, seed, -2.0f, 2.0f)}}; }

// Quantizes with defaults, compiles, and returns the largest |fixed - fake| in output codes.
int64_t quantize_compile_compare(const Graph& g) {
  Calibrator calibrator(g);
  for (uint32_t s = 0; s < 8; ++s) calibrator.add_sample(sample(s));
  const QuantizedGraph q = Quantizer(QuantConfig{}).quantize(g, calibrator.table());
  for (const auto& [name, p] : q.params) {
    INFO(name);
    REQUIRE(std::isfinite(p.range.min));
    REQUIRE(std::fabs(p.range.min) < 1e6);  // no range stretched to the sentinel
  }
  const Program program = Compiler().compile(q);
  const Simulator fake = fake_quant_simulator(q);
  const FixedSimulator fixed(program);
  int64_t worst = 0;
  for (uint32_t s = 100; s < 104; ++s) {
    const TensorMap feeds = sample(s);
    const Tensor want = quantize_tensor(fake.run(feeds).at("y"), *q.find("y"));
    const Tensor got = fixed.run(feeds).at("y");
    REQUIRE(got.shape() == want.shape());
    const auto a = got.to_int64s(), b = want.to_int64s();
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

}  // namespace

TEST_CASE("Pad with -FLT_MAX before a ceil-mode MaxPool quantizes, compiles and matches fake quant",
          "[quantization][sentinel]") {
  for (float fill : {-std::numeric_limits<float>::max(), -std::numeric_limits<float>::infinity()}) {
    INFO("fill " << fill);
    SECTION("the Pad kept: its fill saturates to the lowest code") {
      const Graph g = caffe_pool_model(fill);
      REQUIRE(quantize_compile_compare(g) <= 1);
    }
    SECTION("optimize() makes the Pad the MaxPool's padding, computing the same") {
      const Graph original = caffe_pool_model(fill);
      Graph g = original.clone();
      const std::vector<std::string> applied = optimize(g);
      REQUIRE(std::find(applied.begin(), applied.end(), "fuse_pad_pool") != applied.end());
      for (const Node* n : g.nodes()) REQUIRE(n->op_type() != "Pad");
      const Node* pool = g.find_value("y")->producer();
      REQUIRE(pool->attr_ints("pads") == std::vector<int64_t>{0, 0, 1, 1});
      for (uint32_t s = 0; s < 4; ++s) {
        const TensorMap feeds = sample(s);
        const Tensor want = Simulator(original).run(feeds).at("y");
        const Tensor got = Simulator(g).run(feeds).at("y");
        REQUIRE(got.shape() == want.shape());
        REQUIRE(got.to_doubles() == want.to_doubles());
      }
      REQUIRE(quantize_compile_compare(g) <= 1);
    }
  }
}

TEST_CASE("a Pad whose fill is an ordinary value, or before a pool it would change, stays",
          "[quantization][sentinel]") {
  Graph zero = caffe_pool_model(0.0f);
  optimize(zero);
  REQUIRE(zero.find_value("p") != nullptr);
  REQUIRE(zero.find_value("p")->producer()->op_type() == "Pad");
}

TEST_CASE("an output far narrower than one input step still compiles: its scale is raised",
          "[quantization][sentinel]") {
  // y = x0 - x1 over inputs whose two channels are equal: y is 0, its range the minimum,
  // while the input's step is large. Input scale x weight scale / output scale is ~1e10,
  // which no int32 multiplier holds.
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {2, {}}, {4, {}}, {4, {}}}};
  g.add_input(x);
  Value* w = constant(g, "w", Tensor::from_vector<float>({1, 2, 1, 1}, {1.0f, -1.0f}));
  Value* y = g.add_value("y");
  g.add_node("Conv", {x, w}, {y}, "difference");
  g.add_output(y);
  auto equal_channels = [](uint32_t seed) {
    Tensor t = test::random_tensor({1, 2, 4, 4}, seed, -1e8f, 1e8f);
    for (int i = 0; i < 16; ++i) t.data<float>()[16 + i] = t.data<float>()[i];
    return TensorMap{{"x", t}};
  };
  Calibrator calibrator(g);
  for (uint32_t s = 0; s < 4; ++s) calibrator.add_sample(equal_channels(s));
  const QuantizedGraph q = Quantizer(QuantConfig{}).quantize(g, calibrator.table());
  const double multiplier = q.find("x")->scale[0] * q.find("w")->scale[0] / q.find("y")->scale[0];
  REQUIRE(multiplier < 2147483648.0);
  REQUIRE(std::any_of(q.log.begin(), q.log.end(), [](const std::string& line) {
    return line.find("Conv node \"difference\": output \"y\" scale raised") != std::string::npos;
  }));
  const Program program = Compiler().compile(q);
  const TensorMap out = FixedSimulator(program).run(equal_channels(7));
  // Codes of the output's zero point: exactly 0.
  for (double v : out.at("y").to_doubles()) REQUIRE(v == q.find("y")->zero_point[0]);

  // Parameters set by hand that no multiplier holds: the error names the node, the tensors
  // and what to change.
  QuantizedGraph bad;
  bad.graph = q.graph.clone();
  bad.params = q.params;
  bad.params.at("y").scale = {1e-20f};
  REQUIRE_THROWS_WITH(Compiler().compile(bad),
                      Catch::Contains("Conv node \"difference\"") && Catch::Contains("\"x\" scale") &&
                          Catch::Contains("output \"y\" scale 1e-20") && Catch::Contains("/tensors"));
}
