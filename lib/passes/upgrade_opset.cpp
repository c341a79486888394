// Rewrites a graph to a newer default-domain opset without changing what it computes:
// attributes that later opsets take as inputs become constant inputs, and ops whose
// meaning changed are rewritten. Ops whose definition changed in a way not handled here
// are refused by name, checked against ONNX's own schema registry.
#include <fmt/format.h>
#include <onnx/defs/schema.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "libquant/graph.hpp"

namespace lq {

namespace {

Value* int64_constant(Graph& g, const std::string& base, const std::vector<int64_t>& values) {
  Value* v = g.add_value(g.unique_name(base));
  g.set_initializer(v, Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values));
  return v;
}

Value* float_scalar(Graph& g, const std::string& base, float value) {
  Value* v = g.add_value(g.unique_name(base));
  g.set_initializer(v, Tensor::scalar<float>(value));
  return v;
}

// Moves integer-list attribute `attr` to a constant input at `index` (if present).
void attr_to_input(Graph& g, Node* n, const std::string& attr, size_t index) {
  if (!n->has_attr(attr)) return;
  Value* v = int64_constant(g, n->name() + "_" + attr, n->attr_ints(attr));
  n->remove_attr(attr);
  g.set_input(n, index, v);
}

Attribute string_attr(const std::string& s) {
  Attribute a;
  a.type = AttrType::kString;
  a.s = s;
  return a;
}

Attribute int_attr(int64_t i) {
  Attribute a;
  a.type = AttrType::kInt;
  a.i = i;
  return a;
}

void upgrade_slice(Graph& g, Node* n) {  // < 10: starts/ends/axes attributes
  attr_to_input(g, n, "starts", 1);
  attr_to_input(g, n, "ends", 2);
  attr_to_input(g, n, "axes", 3);
}

void upgrade_clip(Graph& g, Node* n) {  // < 11: min/max attributes
  const float lo = n->attr_float("min", -std::numeric_limits<float>::infinity());
  const float hi = n->attr_float("max", std::numeric_limits<float>::infinity());
  n->remove_attr("min");
  n->remove_attr("max");
  if (std::isfinite(lo)) g.set_input(n, 1, float_scalar(g, n->name() + "_min", lo));
  if (std::isfinite(hi)) {
    if (!n->input(1)) g.set_input(n, 1, float_scalar(g, n->name() + "_min", -std::numeric_limits<float>::infinity()));
    g.set_input(n, 2, float_scalar(g, n->name() + "_max", hi));
  }
}

void upgrade_pad(Graph& g, Node* n) {  // < 11: pads/value attributes
  attr_to_input(g, n, "pads", 1);
  if (n->has_attr("value")) {
    g.set_input(n, 2, float_scalar(g, n->name() + "_value", n->attr_float("value", 0.0f)));
    n->remove_attr("value");
  }
}

// Before 13, Softmax-like ops flatten the input to 2-D at `axis`. Equal to the per-axis
// form when `axis` is the last axis; otherwise Flatten -> op(axis=-1) -> Reshape back.
void upgrade_softmax(Graph& g, Node* n) {
  const Value* x = n->input(0);
  const int64_t axis = n->attr_int("axis", 1);
  if (x->type().has_shape) {
    const auto rank = static_cast<int64_t>(x->type().dims.size());
    if (axis == -1 || axis == rank - 1) {
      n->set_attr("axis", int_attr(-1));
      return;
    }
  }
  Value* in = n->input(0);
  Value* out = n->output(0);
  const std::string name = n->name();
  const std::string op = n->op_type();
  g.remove_node(n);
  Value* flat = g.add_value(g.unique_name(name + "_flat"));
  g.add_node("Flatten", {in}, {flat}, g.unique_name(name + "_flatten"))->set_attr("axis", int_attr(axis));
  Value* soft = g.add_value(g.unique_name(name + "_2d"));
  g.add_node(op, {flat}, {soft}, name)->set_attr("axis", int_attr(-1));
  Value* shape = g.add_value(g.unique_name(name + "_shape"));
  g.add_node("Shape", {in}, {shape}, g.unique_name(name + "_shape"));
  g.add_node("Reshape", {soft, shape}, {out}, g.unique_name(name + "_reshape"));
}

// Upsample (7-9) -> Resize (13): asymmetric coordinates, nearest rounds down.
void upgrade_upsample(Graph& g, Node* n) {
  Value* in = n->input(0);
  Value* out = n->output(0);
  Value* scales = n->input(1);
  const std::string mode = n->attr_string("mode", "nearest");
  if (!scales) {  // opset 7: scales attribute
    const auto values = n->attr_floats("scales");
    scales = g.add_value(g.unique_name(n->name() + "_scales"));
    g.set_initializer(scales, Tensor::from_vector<float>({static_cast<int64_t>(values.size())}, values));
  }
  const std::string name = n->name();
  g.remove_node(n);
  Node* r = g.add_node("Resize", {in, nullptr, scales}, {out}, name);
  r->set_attr("mode", string_attr(mode == "bilinear" ? "linear" : mode));
  r->set_attr("coordinate_transformation_mode", string_attr("asymmetric"));
  r->set_attr("nearest_mode", string_attr("floor"));
}

// Resize 10 (X, scales) -> 13 (X, roi, scales): the same asymmetric, round-down behavior.
void upgrade_resize10(Graph& g, Node* n) {
  Value* scales = n->input(1);
  g.set_input(n, 1, nullptr);
  g.set_input(n, 2, scales);
  n->set_attr("coordinate_transformation_mode", string_attr("asymmetric"));
  n->set_attr("nearest_mode", string_attr("floor"));
}

void to_identity(Graph& g, Node* n) {  // inference Dropout
  Value* in = n->input(0);
  Value* out = n->output(0);
  const Value* mask = n->output(1);
  if (mask && (!mask->uses().empty() || mask->is_graph_output())) {
    throw Error(StatusCode::kUnsupported,
                fmt::format("{}: its mask output is used; cannot rewrite it for a newer opset", n->describe()));
  }
  const std::string name = n->name();
  g.remove_node(n);
  g.add_node("Identity", {in}, {out}, name);
}

using Upgrade = std::function<void(Graph&, Node*)>;

// Rewrites keyed by op type; applied when the op's definition at the old opset differs
// from the target's.
const std::map<std::string, Upgrade>& upgrades() {
  static const std::map<std::string, Upgrade> table = {
      {"Slice", upgrade_slice},
      {"Clip", upgrade_clip},
      {"Pad", upgrade_pad},
      {"Squeeze", [](Graph& g, Node* n) { attr_to_input(g, n, "axes", 1); }},
      {"Unsqueeze", [](Graph& g, Node* n) { attr_to_input(g, n, "axes", 1); }},
      {"Split", [](Graph& g, Node* n) { attr_to_input(g, n, "split", 1); }},
      {"ReduceSum", [](Graph& g, Node* n) { attr_to_input(g, n, "axes", 1); }},
      {"TopK", [](Graph& g, Node* n) { attr_to_input(g, n, "k", 1); }},
      {"Softmax", upgrade_softmax},
      {"LogSoftmax", upgrade_softmax},
      {"Hardmax", upgrade_softmax},
      {"Upsample", upgrade_upsample},
      {"Dropout", to_identity},
  };
  return table;
}

// Changes between versions that need no rewrite for inference graphs (new types,
// new optional attributes with the old behavior as default).
bool compatible_without_rewrite(const std::string& op) {
  static const std::set<std::string> ops = {
      "Add", "Sub", "Mul", "Div", "Pow", "Cast", "Gather", "Concat", "Reshape", "Flatten",
      "Transpose", "MatMul", "Gemm", "Conv", "MaxPool", "AveragePool", "Relu", "LeakyRelu",
      "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "Floor", "Ceil",
      "Equal", "Greater", "Less", "Where", "Constant", "ConstantOfShape", "Expand", "Shape",
      "Tile", "ArgMax", "ArgMin", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
      "ReduceL2", "Identity", "PRelu", "Min", "Max", "Sum", "Mean", "BatchNormalization",
      "GlobalAveragePool", "GlobalMaxPool", "ConvTranspose", "Erf", "Sign", "Not", "And", "Or",
      "Range", "InstanceNormalization", "Size", "Mod", "HardSigmoid", "Softplus", "Elu", "Selu",
      "Resize", "GatherElements", "GatherND", "ScatterND", "ScatterElements", "DepthToSpace",
      "SpaceToDepth", "NonZero", "OneHot"};
  return ops.count(op) != 0;
}

}  // namespace

bool upgrade_opset(Graph& graph, int64_t target) {
  const int64_t from = graph.opset("");
  if (from >= target) return false;
  const auto* registry = onnx::OpSchemaRegistry::Instance();
  for (Node* node : graph.nodes()) {
    if (!node->domain().empty()) continue;
    const auto* old_schema = registry->GetSchema(node->op_type(), static_cast<int>(from));
    const auto* new_schema = registry->GetSchema(node->op_type(), static_cast<int>(target));
    if (!old_schema || !new_schema) {
      throw Error(StatusCode::kUnsupported,
                  fmt::format("{}: op {} does not exist at opset {} or {}", node->describe(),
                              node->op_type(), from, target));
    }
    if (old_schema->since_version() == new_schema->since_version()) continue;
    const std::string& op = node->op_type();
    if (op == "Resize" && old_schema->since_version() == 10) {
      upgrade_resize10(graph, node);
      continue;
    }
    if (op == "BatchNormalization" && node->attr_int("spatial", 1) != 1) {
      throw Error(StatusCode::kUnsupported,
                  fmt::format("{}: spatial=0 has no equivalent after opset 9", node->describe()));
    }
    if (op == "BatchNormalization") node->remove_attr("spatial");
    auto it = upgrades().find(op);
    if (it != upgrades().end()) {
      it->second(graph, node);
    } else if (!compatible_without_rewrite(op)) {
      throw Error(StatusCode::kUnsupported,
                  fmt::format("{}: op {} changed between opset {} and {} in a way libquant does "
                              "not rewrite; export at the model's own opset",
                              node->describe(), op, from, target));
    }
  }
  graph.set_opset("", target);
  graph.remove_unused_values();
  graph.topological_sort();
  return true;
}

}  // namespace lq
