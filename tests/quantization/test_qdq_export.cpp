// The ONNX QDQ export (lib/quantization/qdq_export.cpp): what it writes for the shapes ONNX
// Runtime's graph optimizer would otherwise rewrite.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "libquant/calibrator.hpp"
#include "libquant/quantizer.hpp"

using namespace lq;

namespace {

// x[1,2,3,3] -> Conv(4x2x1x1 + bias) -> y, with biases of very different magnitudes.
Graph conv_graph(const std::vector<float>& bias) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {2, {}}, {3, {}}, {3, {}}}};
  g.add_input(x);
  Value* w = g.add_value("w");
  g.set_initializer(w, Tensor::from_vector<float>({4, 2, 1, 1}, {0.5f, -1, 0.25f, 2, -0.75f, 1, 3, -2}));
  Value* b = g.add_value("b");
  g.set_initializer(b, Tensor::from_vector<float>({4}, bias));
  Value* y = g.add_value("y");
  g.add_node("Conv", {x, w, b}, {y}, "conv");
  g.add_output(y);
  return g;
}

QuantizedGraph quantize(const Graph& g, DType activations, DType weights) {
  Calibrator calibrator(g);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  for (int s = 0; s < 4; ++s) {
    Tensor t(DType::kFloat32, {1, 2, 3, 3});
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
    calibrator.add_sample({{"x", t}});
  }
  QuantConfig config;
  config.model.activation_dtype = activations;
  config.model.weight_dtype = weights;
  config.model.method = RangeMethod::kMax;
  return Quantizer(config).quantize(g, calibrator.table());
}

// The node producing the Conv's input `index` in the exported graph.
const Node& producer_of_conv_input(const Graph& qdq, size_t index) {
  for (const Node* n : qdq.nodes()) {
    if (n->op_type() == "Conv") return *n->input(index)->producer();
  }
  FAIL("no Conv in the export");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a float bias beside int16 inputs is exported as an exact int32 DequantizeLinear",
          "[quantization][qdq]") {
  const std::vector<float> bias = {0.5f, -1234.5678f, 3.0e-7f, 0.0f};
  const Graph g = conv_graph(bias);
  const QuantizedGraph q = quantize(g, DType::kInt16, DType::kInt16);
  REQUIRE(q.find("b") == nullptr);  // int16 x int16 sums in int64: the bias stays float
  const Graph qdq = q.to_qdq();
  const Node& dq = producer_of_conv_input(qdq, 2);
  REQUIRE(dq.op_type() == "DequantizeLinear");
  REQUIRE(dq.domain().empty());
  REQUIRE(dq.attr_int("axis", -1) == 0);
  const Tensor& codes = *dq.input(0)->initializer();
  const Tensor& scales = *dq.input(1)->initializer();
  REQUIRE(codes.dtype() == DType::kInt32);
  for (size_t c = 0; c < bias.size(); ++c) {
    const int32_t code = codes.data<int32_t>()[c];
    const float scale = scales.data<float>()[c];
    INFO("channel " << c);
    // DequantizeLinear computes float(code) * scale: it must give the bias bit for bit.
    REQUIRE(static_cast<float>(code) * scale == bias[c]);
    if (bias[c] != 0.0f) {
      REQUIRE(std::abs(static_cast<int64_t>(code)) >= (int64_t{1} << 30));
      REQUIRE(std::exp2(std::round(std::log2(scale))) == scale);  // a power of two
    }
  }
}

TEST_CASE("a bias quantized by the Quantizer keeps its int32 parameters in the export",
          "[quantization][qdq]") {
  const Graph g = conv_graph({0.5f, -0.25f, 0.125f, 1.0f});
  const QuantizedGraph q = quantize(g, DType::kInt8, DType::kInt8);
  const QuantParams* b = q.find("b");
  REQUIRE(b != nullptr);
  const Graph qdq = q.to_qdq();
  const Node& dq = producer_of_conv_input(qdq, 2);
  REQUIRE(dq.op_type() == "DequantizeLinear");
  REQUIRE(dq.input(1)->initializer()->to_doubles() ==
          std::vector<double>(b->scale.begin(), b->scale.end()));
}
