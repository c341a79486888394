// QuantizedGraph -> ONNX QDQ graph, and the parameter report.
#include <fmt/format.h>

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

}  // namespace

Graph QuantizedGraph::to_qdq() const {
  Graph g = graph.clone();
  upgrade_opset(g, kQdqOpset);
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
