#include "graph/roles.hpp"

#include <limits>
#include <map>
#include <set>

namespace lq::roles {

namespace {

// Inputs (by index) that are parameters rather than data; absent ops: all data.
const std::map<std::string, std::set<size_t>> kParameterInputs = {
    {"Reshape", {1}},        {"Slice", {1, 2, 3, 4}},        {"Pad", {1, 2, 3}},
    {"Clip", {1, 2}},        {"Expand", {1}},                {"Tile", {1}},
    {"Gather", {1}},         {"GatherElements", {1}},        {"GatherND", {1}},
    {"Squeeze", {1}},        {"Unsqueeze", {1}},             {"Split", {1}},
    {"ReduceMean", {1}},     {"ReduceSum", {1}},             {"ReduceMax", {1}},
    {"ReduceMin", {1}},      {"ReduceProd", {1}},            {"ReduceL2", {1}},
    {"Resize", {1, 2, 3}},   {"Upsample", {1}},              {"TopK", {1}},
    {"Pow", {1}},            {"ConstantOfShape", {0}},       {"Where", {0}},
    {"BatchNormalization", {1, 2, 3, 4}},                    {"Range", {0, 1, 2}},
    {"OneHot", {1, 2}},      {"ScatterND", {1}},             {"ScatterElements", {1}},
};

const std::set<std::string> kPassThrough = {
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity", "Dropout",
    "MaxPool", "GlobalMaxPool", "Slice", "Gather", "Split", "Expand", "Tile",
    "DepthToSpace", "SpaceToDepth"};

const std::set<std::string> kElementwise = {
    "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Exp", "Log",
    "Sqrt", "Abs", "Neg", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Erf", "Reciprocal",
    "Floor", "Ceil", "Round", "Sin", "Cos", "Sign", "ThresholdedRelu", "Mish", "Gelu", "PRelu",
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};

bool has_weight_slot(const Node& node) {
  const std::string& op = node.op_type();
  return op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul";
}

}  // namespace

InputRole input_role(const Node& node, size_t index) {
  if (!node.domain().empty()) return InputRole::kData;
  const std::string& op = node.op_type();
  if (has_weight_slot(node)) {
    const Value* v = node.input(index);
    if (index == 1 && v && v->is_constant()) return InputRole::kWeight;
    if (index == 2 && op != "MatMul") return InputRole::kBias;
    return InputRole::kData;
  }
  if ((op == "LayerNormalization" || op == "InstanceNormalization") && index > 0) return InputRole::kParameter;
  auto it = kParameterInputs.find(op);
  if (it != kParameterInputs.end() && it->second.count(index)) return InputRole::kParameter;
  return InputRole::kData;
}

bool is_data_value(const Value& value) {
  if (value.is_graph_input() || value.is_graph_output()) return true;
  for (const Use& use : value.uses()) {
    const InputRole role = input_role(*use.node, use.input_index);
    if (role == InputRole::kData || role == InputRole::kWeight) return true;
  }
  return false;
}

bool is_pass_through(const Node& node) {
  if (!node.domain().empty()) return false;
  if (kPassThrough.count(node.op_type())) return true;
  const bool nearest = node.attr_string("mode", "nearest") == "nearest";
  return (node.op_type() == "Resize" || node.op_type() == "Upsample") && nearest;
}

int weight_channel_axis(const Node& node, const Tensor& weight) {
  const std::string& op = node.op_type();
  if (op == "Conv") return 0;
  if (op == "ConvTranspose") return 1;
  if (op == "Gemm") return node.attr_int("transB", 0) != 0 ? 0 : 1;
  if (op == "MatMul") return weight.rank() >= 2 ? static_cast<int>(weight.rank()) - 1 : -1;
  return -1;
}

const Value* bias_input(const Node& node) {
  const std::string& op = node.op_type();
  if (op != "Conv" && op != "ConvTranspose" && op != "Gemm") return nullptr;
  const Value* bias = node.input(2);
  if (!bias || !bias->is_constant() || bias->initializer()->dtype() != DType::kFloat32) return nullptr;
  if (op == "Gemm" && bias->initializer()->rank() > 1 && bias->initializer()->dim(0) != 1) return nullptr;
  return bias;
}

const Node* fused_activation(const Value& v) {
  static const std::set<std::string> kProducers = {"Conv", "ConvTranspose", "Gemm", "MatMul",
                                                   "Add",  "Sub",           "Mul"};
  const Node* producer = v.producer();
  if (!producer || !producer->domain().empty() || !kProducers.count(producer->op_type())) return nullptr;
  if (v.is_graph_output() || v.uses().size() != 1 || v.uses()[0].input_index != 0) return nullptr;
  const Node* user = v.uses()[0].node;
  if (!user->domain().empty() || (user->op_type() != "Relu" && user->op_type() != "Clip")) return nullptr;
  for (size_t i = 1; i < user->inputs().size(); ++i) {
    if (user->input(i) && !user->input(i)->is_constant()) return nullptr;
  }
  return user;
}

std::optional<std::pair<float, float>> clip_bounds(const Node& node) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  if (node.op_type() == "Relu") return std::make_pair(0.0f, kInf);
  std::pair<float, float> bounds{node.attr_float("min", -kInf), node.attr_float("max", kInf)};
  for (size_t i : {size_t{1}, size_t{2}}) {
    const Value* v = node.input(i);
    if (!v) continue;
    if (!v->is_constant() || v->initializer()->numel() != 1) return std::nullopt;
    (i == 1 ? bounds.first : bounds.second) = static_cast<float>(v->initializer()->to_doubles()[0]);
  }
  return bounds;
}

bool is_elementwise(const Node& node) {
  return node.domain().empty() && kElementwise.count(node.op_type()) > 0;
}

std::set<const Value*> elementwise_chain_inner(const Graph& graph,
                                               const std::function<bool(const Node&)>& included) {
  // A node that can be part of a chain: elementwise, one float output, constant operands
  // scalars, and no operand left unquantized for a fused Relu/Clip (its producer owns it).
  auto member = [&](const Node& n) {
    if (!is_elementwise(n) || n.outputs().size() != 1 || !included(n)) return false;
    const DType out = n.output(0)->type().dtype;
    if (out != DType::kFloat32 && out != DType::kUndefined) return false;
    bool data = false;
    for (const Value* in : n.inputs()) {
      if (!in) continue;
      if (in->is_constant()) {
        if (in->initializer()->numel() != 1) return false;
        continue;
      }
      if (fused_activation(*in)) return false;
      data = true;
    }
    return data;
  };
  // Start from every candidate and drop values until each one left has a single root that
  // all its readers share (dropping one can change its readers' roots: repeat).
  std::set<const Value*> inner;
  for (const Node* n : graph.nodes()) {
    const Value* out = n->output(0);
    if (member(*n) && !out->is_graph_output() && !out->uses().empty()) inner.insert(out);
  }
  for (bool changed = true; changed;) {
    changed = false;
    std::map<const Value*, const Value*> root;       // inner value -> its root (nullptr: none)
    std::map<const Node*, const Value*> node_root;   // member node -> the root of its operands
    for (const Node* n : graph.nodes()) {            // topological: operands first
      if (!member(*n)) continue;
      const Value* common = nullptr;
      bool single = true;
      for (const Value* in : n->inputs()) {
        if (!in || in->is_constant()) continue;
        const Value* r = inner.count(in) ? root.at(in) : in;
        if (!r || (common && common != r)) single = false;
        common = r;
      }
      node_root[n] = single ? common : nullptr;
      if (inner.count(n->output(0))) root[n->output(0)] = node_root[n];
    }
    for (auto it = inner.begin(); it != inner.end();) {
      const Value* r = root.at(*it);
      bool keep = r != nullptr;
      for (const Use& use : (*it)->uses()) {
        auto user = node_root.find(use.node);
        keep = keep && user != node_root.end() && user->second == r;
      }
      if (keep) {
        ++it;
      } else {
        it = inner.erase(it);
        changed = true;
      }
    }
  }
  return inner;
}

}  // namespace lq::roles
