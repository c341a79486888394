// QuantizedGraph -> ONNX QDQ graph, and the parameter report.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "libquant/quantizer.hpp"

namespace lq {

namespace {

// Per-axis QuantizeLinear/DequantizeLinear need opset 13; older models are upgraded (ONNX
// Runtime also fuses QDQ pairs into QLinear ops that only exist from opset 10).
constexpr int64_t kQdqOpset = 13;
// int8/uint8 (and the int32 bias) use the standard ops; int16 and int4-in-int8 use ONNX
// Runtime's contrib ops, which take them at any opset.
constexpr const char* kContribDomain = "com.microsoft";

const char* qdq_domain(const QuantParams& p) {
  const bool standard = p.dtype == DType::kInt8 || p.dtype == DType::kUInt8 || p.dtype == DType::kInt32;
  return standard ? "" : kContribDomain;
}

DType storage_dtype(DType dtype) { return dtype == DType::kInt4 ? DType::kInt8 : dtype; }

Value* add_constant(Graph& g, const std::string& base, Tensor data) {
  Value* v = g.add_value(g.unique_name(base));
  g.set_initializer(v, std::move(data));
  return v;
}

// Scale (float32) and zero point (the storage dtype) constants: scalars per tensor, 1-D per channel.
std::pair<Value*, Value*> scale_and_zero_point(Graph& g, const std::string& base, const QuantParams& p) {
  const Shape shape = p.per_channel() ? Shape{static_cast<int64_t>(p.scale.size())} : Shape{};
  Tensor scale = Tensor::from_vector<float>(shape, p.scale);
  Tensor zero_point = Tensor::from_vector<int32_t>(shape, p.zero_point).cast(storage_dtype(p.dtype));
  return {add_constant(g, base + "_scale", std::move(scale)),
          add_constant(g, base + "_zero_point", std::move(zero_point))};
}

Node* add_qdq_node(Graph& g, const char* op, const std::vector<Value*>& inputs, Value* output,
                   const QuantParams& p) {
  Node* n = g.add_node(op, inputs, {output}, g.unique_name(output->name() + "_" + op), qdq_domain(p));
  if (p.per_channel()) {
    Attribute axis;
    axis.type = AttrType::kInt;
    axis.i = p.axis;
    n->set_attr("axis", axis);
  }
  return n;
}

void export_constant(Graph& g, Value* v, const QuantParams& p) {
  Tensor q = quantize_tensor(*v->initializer(), p);
  if (p.dtype == DType::kInt4) q = q.cast(DType::kInt8);
  Value* stored = add_constant(g, v->name() + "_quantized", std::move(q));
  auto [scale, zero_point] = scale_and_zero_point(g, v->name(), p);
  Value* dequantized = g.add_value(g.unique_name(v->name() + "_dequantized"));
  g.replace_all_uses(v, dequantized);
  add_qdq_node(g, "DequantizeLinear", {stored, scale, zero_point}, dequantized, p);
}

void export_activation(Graph& g, Value* v, const QuantParams& p) {
  const std::string name = v->name();
  Value* source = v;
  Value* dequantized = nullptr;
  if (v->is_graph_output()) {
    // The output keeps its name: the float value is renamed and the QDQ result takes it.
    g.rename_value(v, g.unique_name(name + "_float"));
    dequantized = g.add_value(name);
    g.replace_all_uses(v, dequantized);
  } else {
    dequantized = g.add_value(g.unique_name(name + "_dequantized"));
    g.replace_all_uses(v, dequantized);
  }
  auto [scale, zero_point] = scale_and_zero_point(g, name, p);
  Value* quantized = g.add_value(g.unique_name(name + "_quantized"));
  add_qdq_node(g, "QuantizeLinear", {source, scale, zero_point}, quantized, p);
  add_qdq_node(g, "DequantizeLinear", {quantized, scale, zero_point}, dequantized, p);
}

// A bias that stays float (int16 products, summed exactly in int64 by the program) beside
// quantized inputs and weights is exported as an exact int32 DequantizeLinear: each value b
// becomes q = b / 2^e with the power of two 2^e that puts |q| in [2^30, 2^31), which holds
// b's 24-bit mantissa without loss, so DequantizeLinear gives back b bit for bit.
//
// Why not leave it a float initializer: ONNX Runtime's BiasQuantization transformer (graph
// optimization level basic, on by default; onnxruntime/core/optimizer/qdq_transformer/
// bias_quantization.cc) rewrites the float bias of a Conv or Gemm whose inputs come from
// DequantizeLinear into Cast<int32>(Round(b / (s_x s_w))), which saturates when s_x s_w is
// the tiny scale of int16 x int16 products: cls's int16 export lost its output (cosine
// 0.9996, rec 0.985) under default session options. A bias that already comes from a
// DequantizeLinear is left alone.
void export_exact_bias(Graph& g, Value* bias) {
  const Tensor& data = *bias->initializer();
  const std::vector<double> values = data.to_doubles();
  std::vector<float> scales;
  std::vector<int32_t> codes;
  for (double b : values) {
    int exponent = 0;
    std::frexp(b, &exponent);  // |b| in [2^(exponent - 1), 2^exponent)
    const double scale = b == 0.0 ? 1.0 : std::ldexp(1.0, std::max(exponent - 31, -149));
    scales.push_back(static_cast<float>(scale));
    codes.push_back(static_cast<int32_t>(b / scale));  // exact: b's mantissa has 24 bits
  }
  QuantParams p;
  p.dtype = DType::kInt32;
  p.scale = scales;
  p.zero_point.assign(scales.size(), 0);
  p.axis = 0;
  const Shape shape = data.shape();
  Value* stored = add_constant(g, bias->name() + "_int32", Tensor::from_vector<int32_t>(shape, codes));
  auto [scale, zero_point] = scale_and_zero_point(g, bias->name() + "_exact", p);
  Value* dequantized = g.add_value(g.unique_name(bias->name() + "_dequantized"));
  g.replace_all_uses(bias, dequantized);
  add_qdq_node(g, "DequantizeLinear", {stored, scale, zero_point}, dequantized, p);
}

// The float 1-D biases of Conv / Gemm nodes whose data and weight inputs are quantized.
std::vector<Value*> float_biases_beside_qdq(const Graph& g, const QuantizedGraph& q) {
  std::vector<Value*> out;
  for (const Node* node : g.nodes()) {
    if (!node->domain().empty() || (node->op_type() != "Conv" && node->op_type() != "Gemm")) continue;
    Value* bias = node->input(2);
    if (!bias || !bias->is_constant() || q.find(bias->name()) || bias->initializer()->rank() != 1 ||
        bias->initializer()->dtype() != DType::kFloat32 || bias->initializer()->numel() == 0) {
      continue;
    }
    if (!node->input(0) || !node->input(1) || !q.find(node->input(0)->name()) ||
        !q.find(node->input(1)->name())) {
      continue;
    }
    if (std::find(out.begin(), out.end(), bias) == out.end()) out.push_back(bias);
  }
  return out;
}

}  // namespace

Graph QuantizedGraph::to_qdq() const {
  Graph g = graph.clone();
  upgrade_opset(g, kQdqOpset);
  for (Value* bias : float_biases_beside_qdq(g, *this)) export_exact_bias(g, bias);
  for (const auto& [name, p] : params) {
    Value* v = g.find_value(name);
    if (!v) continue;
    if (v->is_constant()) {
      export_constant(g, v, p);
    } else {
      export_activation(g, v, p);
    }
  }
  g.set_opset(kContribDomain, 1);
  g.remove_unused_values();
  g.topological_sort();
  g.verify();
  return g;
}

std::string QuantizedGraph::params_json() const {
  nlohmann::json root;
  nlohmann::json tensors = nlohmann::json::object();
  for (const auto& [name, p] : params) {
    tensors[name] = {{"dtype", dtype_name(p.dtype)}, {"scale", p.scale},  {"zero_point", p.zero_point},
                     {"axis", p.axis},               {"min", p.range.min}, {"max", p.range.max},
                     {"method", p.method}};
  }
  root["tensors"] = tensors;
  root["log"] = log;
  return root.dump(2);
}

}  // namespace lq
