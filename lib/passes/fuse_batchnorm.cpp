#include <cmath>

#include "passes/passes.hpp"

namespace lq::passes {

namespace {

// Per-channel y = x * scale + shift equivalent of an inference BatchNormalization.
struct ChannelAffine {
  std::vector<double> scale;
  std::vector<double> shift;
};

bool all_constant(const Node& node, size_t first, size_t last) {
  for (size_t i = first; i <= last; ++i) {
    const Value* v = node.input(i);
    if (!v || !v->is_constant() || v->initializer()->dtype() != DType::kFloat32) return false;
  }
  return true;
}

std::optional<ChannelAffine> batchnorm_affine(const Node& bn, int64_t channels) {
  if (bn.op_type() != "BatchNormalization" || !bn.domain().empty() || !all_constant(bn, 1, 4)) {
    return std::nullopt;
  }
  if (bn.attr_int("training_mode", 0) != 0 || bn.attr_int("spatial", 1) != 1) return std::nullopt;
  for (size_t i = 1; i < bn.outputs().size(); ++i) {  // training outputs must be unused
    if (!bn.output(i)->uses().empty() || bn.output(i)->is_graph_output()) return std::nullopt;
  }
  const auto gamma = bn.input(1)->initializer()->to_doubles();
  const auto beta = bn.input(2)->initializer()->to_doubles();
  const auto mean = bn.input(3)->initializer()->to_doubles();
  const auto var = bn.input(4)->initializer()->to_doubles();
  const auto n = static_cast<size_t>(channels);
  if (gamma.size() != n || beta.size() != n || mean.size() != n || var.size() != n) return std::nullopt;
  const double epsilon = bn.attr_float("epsilon", 1e-5f);
  ChannelAffine affine;
  for (size_t c = 0; c < n; ++c) {
    const double s = gamma[c] / std::sqrt(var[c] + epsilon);
    affine.scale.push_back(s);
    affine.shift.push_back(beta[c] - mean[c] * s);
  }
  return affine;
}

// The single BatchNormalization consuming `producer`'s output, if the output feeds nothing else.
Node* sole_batchnorm_user(const Node& producer) {
  const Value* out = producer.output(0);
  if (producer.outputs().size() != 1 || out->is_graph_output() || out->uses().size() != 1) return nullptr;
  Node* user = out->uses().front().node;
  // A graph output keeps its name, so a BN that produces one stays.
  const bool fusable = user->op_type() == "BatchNormalization" &&
                       out->uses().front().input_index == 0 && !user->output(0)->is_graph_output();
  return fusable ? user : nullptr;
}

Tensor scaled_rows(const Tensor& weight, const std::vector<double>& scale, bool per_row) {
  Tensor out = weight.clone();
  float* w = out.data<float>();
  const int64_t rows = weight.dim(0);
  const int64_t cols = weight.numel() / rows;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double s = per_row ? scale[static_cast<size_t>(r)] : scale[static_cast<size_t>(c)];
      w[r * cols + c] = static_cast<float>(w[r * cols + c] * s);
    }
  }
  return out;
}

// New bias = old_bias * scale + shift (old bias zero when absent).
Tensor fused_bias(const Value* old_bias, const ChannelAffine& affine, double old_factor) {
  const size_t n = affine.scale.size();
  std::vector<double> b(n, 0.0);
  if (old_bias) b = old_bias->initializer()->to_doubles();
  std::vector<float> out(n);
  for (size_t c = 0; c < n; ++c) out[c] = static_cast<float>(b[c] * old_factor * affine.scale[c] + affine.shift[c]);
  return Tensor::from_vector<float>({static_cast<int64_t>(n)}, out);
}

Value* new_constant(Graph& graph, const std::string& base, Tensor data) {
  Value* v = graph.add_value(graph.unique_name(base));
  graph.set_initializer(v, std::move(data));
  return v;
}

// Replaces the BN by the rewritten producer: the producer takes over the BN's output.
void bypass_batchnorm(Graph& graph, Node* producer, Node* bn) {
  Value* bn_out = bn->output(0);
  Value* produced = producer->output(0);
  graph.remove_node(bn);
  graph.replace_all_uses(bn_out, produced);
}

// Conv and ConvTranspose: the BN's per-channel scale goes into the weights, its shift
// into the bias.
bool fuse_into_conv(Graph& graph, Node* conv) {
  Node* bn = sole_batchnorm_user(*conv);
  const Value* weight = conv->input(1);
  const Value* bias = conv->input(2);
  if (!bn || !weight || !weight->is_constant() || weight->initializer()->dtype() != DType::kFloat32 ||
      weight->initializer()->rank() < 3 || (bias && (!bias->is_constant() || bias->initializer()->dtype() != DType::kFloat32))) {
    return false;
  }
  const int64_t channels = output_channels(*conv, *weight->initializer());
  if (channels <= 0) return false;
  const auto affine = batchnorm_affine(*bn, channels);
  if (!affine) return false;
  Value* w = new_constant(graph, weight->name() + "_bn",
                          scale_output_channels(*conv, *weight->initializer(), affine->scale));
  Value* b = new_constant(graph, conv->name() + "_bias_bn", fused_bias(bias, *affine, 1.0));
  graph.set_input(conv, 1, w);
  graph.set_input(conv, 2, b);
  bypass_batchnorm(graph, conv, bn);
  return true;
}

bool fuse_into_gemm(Graph& graph, Node* gemm) {
  Node* bn = sole_batchnorm_user(*gemm);
  const Value* weight = gemm->input(1);
  const Value* bias = gemm->input(2);
  if (!bn || !weight || !weight->is_constant() || weight->initializer()->rank() != 2 ||
      weight->initializer()->dtype() != DType::kFloat32) {
    return false;
  }
  const bool trans_b = gemm->attr_int("transB", 0) != 0;
  const int64_t n = weight->initializer()->dim(trans_b ? 0 : 1);
  // Only a bias that is one value per output column folds; a full [M, N] C does not.
  if (bias && (!bias->is_constant() || bias->initializer()->numel() != n ||
               bias->initializer()->dtype() != DType::kFloat32)) {
    return false;
  }
  const auto affine = batchnorm_affine(*bn, n);
  if (!affine) return false;
  const double beta = gemm->attr_float("beta", 1.0f);
  Value* w = new_constant(graph, weight->name() + "_bn", scaled_rows(*weight->initializer(), affine->scale, trans_b));
  Value* b = new_constant(graph, gemm->name() + "_bias_bn", fused_bias(bias, *affine, beta));
  graph.set_input(gemm, 1, w);
  graph.set_input(gemm, 2, b);
  Attribute one;
  one.type = AttrType::kFloat;
  one.f = 1.0f;
  gemm->set_attr("beta", one);
  bypass_batchnorm(graph, gemm, bn);
  return true;
}

}  // namespace

int64_t output_channels(const Node& conv, const Tensor& weight) {
  if (weight.rank() < 2) return -1;
  if (conv.op_type() == "Conv") return weight.dim(0);
  const int64_t group = conv.attr_int("group", 1);
  if (group < 1 || weight.dim(0) % group != 0) return -1;
  return weight.dim(1) * group;
}

Tensor scale_output_channels(const Node& conv, const Tensor& weight, const std::vector<double>& scale) {
  if (conv.op_type() == "Conv") return scaled_rows(weight, scale, true);
  // ConvTranspose: element (ci, j, ...) feeds output channel (ci / (C / group)) × (M / group) + j.
  Tensor out = weight.clone();
  float* w = out.data<float>();
  const int64_t group = conv.attr_int("group", 1);
  const int64_t in_channels = weight.dim(0), per_group = weight.dim(1);
  const int64_t kernel = weight.numel() / (in_channels * per_group);
  for (int64_t ci = 0; ci < in_channels; ++ci) {
    const int64_t g = ci / (in_channels / group);
    for (int64_t j = 0; j < per_group; ++j) {
      const double s = scale[static_cast<size_t>(g * per_group + j)];
      float* row = w + (ci * per_group + j) * kernel;
      for (int64_t k = 0; k < kernel; ++k) row[k] = static_cast<float>(row[k] * s);
    }
  }
  return out;
}

bool fuse_batchnorm(Graph& graph) {
  // Collected first: fusing removes BatchNormalization nodes from the graph.
  std::vector<Node*> producers;
  for (Node* node : graph.nodes()) {
    const std::string& op = node->op_type();
    if (node->domain().empty() && (op == "Conv" || op == "ConvTranspose" || op == "Gemm")) {
      producers.push_back(node);
    }
  }
  bool changed = false;
  for (Node* node : producers) {
    const std::string& op = node->op_type();
    changed |= op == "Gemm" ? fuse_into_gemm(graph, node) : fuse_into_conv(graph, node);
  }
  if (changed) graph.remove_unused_values();
  return changed;
}

}  // namespace lq::passes
