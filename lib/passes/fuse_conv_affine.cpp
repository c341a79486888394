// Conv or ConvTranspose followed by Mul and/or Add with per-output-channel constants (how
// some exporters spell an inference BatchNormalization or a bias) folds into its weights
// and bias: one op, and one quantized tensor instead of three.
#include "passes/passes.hpp"

namespace lq::passes {

namespace {

// The per-channel values of a constant that broadcasts against [N, C, ...] as one value
// per channel (shapes [], [1], [C,1,...,1] or [1,C,1,...,1]); empty if it does not.
std::vector<double> per_channel(const Value* v, int64_t channels, size_t out_rank) {
  if (!v || !v->is_constant() || v->initializer()->dtype() != DType::kFloat32) return {};
  const Tensor& t = *v->initializer();
  const std::vector<double> values = t.to_doubles();
  if (values.size() == 1) return std::vector<double>(static_cast<size_t>(channels), values[0]);
  if (static_cast<int64_t>(values.size()) != channels || t.rank() > out_rank) return {};
  // The non-1 dimension must sit on the channel axis (axis 1 of the output).
  const size_t channel_axis = 1 - (out_rank - t.rank());
  if (out_rank - t.rank() > 1 || t.dim(channel_axis) != channels) return {};
  return values;
}

// The other input of a binary node that reads `v`.
const Value* other_input(const Node& n, const Value* v) {
  return n.input(0) == v ? n.input(1) : n.input(0);
}

bool fuse_one(Graph& graph, Node* conv) {
  Value* out = conv->output(0);
  const Value* weight = conv->input(1);
  if (!weight || !weight->is_constant() || weight->initializer()->dtype() != DType::kFloat32) return false;
  if (out->is_graph_output() || out->uses().size() != 1 || !out->type().has_shape) return false;
  const Value* bias = conv->input(2);
  if (bias && !bias->is_constant()) return false;
  Node* user = out->uses().front().node;
  const bool is_mul = user->op_type() == "Mul";
  const bool is_add = user->op_type() == "Add";
  if (!user->domain().empty() || (!is_mul && !is_add) || user->output(0)->is_graph_output()) return false;
  const int64_t channels = output_channels(*conv, *weight->initializer());
  if (channels <= 0) return false;
  const auto values = per_channel(other_input(*user, out), channels, out->type().dims.size());
  if (values.empty()) return false;
  // The result must keep the Conv output's shape (the constant adds no dimensions).
  if (user->output(0)->type().has_shape && user->output(0)->type().dims.size() != out->type().dims.size()) return false;

  std::vector<double> b(static_cast<size_t>(channels), 0.0);
  if (bias) b = bias->initializer()->to_doubles();
  Tensor w = weight->initializer()->clone();
  if (is_mul) {
    w = scale_output_channels(*conv, w, values);
    for (int64_t c = 0; c < channels; ++c) b[static_cast<size_t>(c)] *= values[static_cast<size_t>(c)];
  } else {
    for (int64_t c = 0; c < channels; ++c) b[static_cast<size_t>(c)] += values[static_cast<size_t>(c)];
  }
  std::vector<float> bias_values(b.begin(), b.end());
  Value* new_w = graph.add_value(graph.unique_name(weight->name() + "_affine"));
  graph.set_initializer(new_w, std::move(w));
  Value* new_b = graph.add_value(graph.unique_name(conv->name() + "_bias_affine"));
  graph.set_initializer(new_b, Tensor::from_vector<float>({channels}, bias_values));
  graph.set_input(conv, 1, new_w);
  graph.set_input(conv, 2, new_b);
  // The Conv now produces what the Mul/Add produced.
  Value* fused = user->output(0);
  graph.remove_node(user);
  graph.replace_all_uses(fused, out);
  return true;
}

}  // namespace

bool fuse_conv_affine(Graph& graph) {
  std::vector<Node*> convs;
  for (Node* n : graph.nodes()) {
    if ((n->op_type() == "Conv" || n->op_type() == "ConvTranspose") && n->domain().empty()) convs.push_back(n);
  }
  bool changed = false;
  for (Node* conv : convs) {
    while (fuse_one(graph, conv)) changed = true;  // Mul then Add, or several
  }
  if (changed) graph.remove_unused_values();
  return changed;
}

}  // namespace lq::passes
