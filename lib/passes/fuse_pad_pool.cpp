// A constant Pad with -FLT_MAX (or -inf) before a MaxPool, as Caffe converters write a
// ceil-mode pooling, becomes the MaxPool's own padding. The fill is below every value the
// pool can output, so it never wins a max: padding (which no window ever picks) computes
// the same, and the sentinel no longer reaches calibration, where it would become a range
// of 3.4e38 that no integer scale represents.
#include <algorithm>
#include <limits>

#include "passes/passes.hpp"

namespace lq::passes {

namespace {

// The Pad's fill and pads (begins then ends, over every axis), or false when it is not a
// constant-mode Pad of constant parameters.
// Pads no real model has (the Pad kernel refuses them by the resource limits) stay unfused,
// so that the pooled sizes below cannot overflow (fuzz regression).
bool plausible(const std::vector<int64_t>& pads) {
  for (int64_t v : pads) {
    if (v > (int64_t{1} << 40) || v < -(int64_t{1} << 40)) return false;
  }
  return true;
}

bool read_pad(const Node& pad, float& fill, std::vector<int64_t>& pads) {
  if (pad.attr_string("mode", "constant") != "constant") return false;
  if (pad.has_attr("pads")) {  // opset < 11
    pads = pad.attr_ints("pads");
    fill = pad.attr_float("value", 0.0f);
    return plausible(pads);
  }
  const Value* p = pad.input(1);
  if (!p || !p->is_constant() || pad.input(3)) return false;  // axes (opset 18): not handled
  if (p->initializer()->dtype() != DType::kInt64) return false;
  pads = p->initializer()->to_int64s();  // not through double: 2^63 - 1 does not convert back
  if (!plausible(pads)) return false;
  fill = 0.0f;
  if (const Value* c = pad.input(2)) {
    if (!c->is_constant() || c->initializer()->numel() != 1) return false;
    fill = static_cast<float>(c->initializer()->to_doubles()[0]);
  }
  return true;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The output size of a pooling axis, as the float kernels compute it (a ceil-mode window
// that would start in the end padding is dropped).
int64_t pooled(int64_t input, int64_t begin, int64_t end, int64_t span, int64_t stride, bool ceil_mode) {
  const int64_t room = input + begin + end - span;
  if (room < 0) return -1;
  int64_t out = (ceil_mode ? ceil_div(room, stride) : room / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= input + begin) --out;
  return out;
}

bool fuse_one(Graph& graph, Node* pad) {
  float fill = 0.0f;
  std::vector<int64_t> pads;
  if (!read_pad(*pad, fill, pads) || !(fill <= std::numeric_limits<float>::lowest())) return false;
  Value* padded = pad->output(0);
  Value* data = pad->input(0);
  if (!data || padded->is_graph_output() || padded->uses().size() != 1) return false;
  Node* pool = padded->uses().front().node;
  if (pool->op_type() != "MaxPool" || !pool->domain().empty() || pool->input(0) != padded) return false;
  if (pool->attr_string("auto_pad", "NOTSET") != "NOTSET") return false;
  if (pool->output(1) && !pool->output(1)->uses().empty()) return false;  // Indices
  const size_t rank = pads.size() / 2;
  const std::vector<int64_t> kernel = pool->attr_ints("kernel_shape");
  if (pads.size() != 2 * rank || rank < 2 || kernel.size() != rank - 2) return false;
  for (size_t a = 0; a < 2; ++a) {
    if (pads[a] != 0 || pads[rank + a] != 0) return false;  // batch and channel axes
  }
  const size_t spatial = rank - 2;
  std::vector<int64_t> pool_pads = pool->attr_ints("pads", std::vector<int64_t>(2 * spatial, 0));
  const std::vector<int64_t> strides = pool->attr_ints("strides", std::vector<int64_t>(spatial, 1));
  const std::vector<int64_t> dilations = pool->attr_ints("dilations", std::vector<int64_t>(spatial, 1));
  const bool ceil_mode = pool->attr_int("ceil_mode", 0) != 0;
  if (pool_pads.size() != 2 * spatial || strides.size() != spatial || dilations.size() != spatial) return false;
  const TensorType& in = data->type();
  std::vector<int64_t> fused(2 * spatial);
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t before = pads[2 + i], after = pads[rank + 2 + i];
    if (before < 0 || after < 0) return false;  // cropping
    fused[i] = pool_pads[i] + before;
    fused[spatial + i] = pool_pads[spatial + i] + after;
    const int64_t span = dilations[i] * (kernel[i] - 1) + 1;
    // Every window must still hold an input element (then the sentinel never was the max).
    if (fused[i] >= span || fused[spatial + i] >= span) return false;
    if (ceil_mode) {
      // The dropped-window rule depends on where the input ends: the output size must not change.
      if (!in.has_shape || in.dims.size() != rank || !in.dims[2 + i].known()) return false;
      const int64_t size = in.dims[2 + i].value;
      const int64_t before_fusion = pooled(size + before + after, pool_pads[i], pool_pads[spatial + i], span, strides[i], true);
      if (before_fusion < 0 || before_fusion != pooled(size, fused[i], fused[spatial + i], span, strides[i], true)) return false;
    }
  }
  Attribute attr;
  attr.type = AttrType::kInts;
  attr.ints = fused;
  pool->set_attr("pads", attr);
  graph.set_input(pool, 0, data);
  graph.remove_node(pad);
  return true;
}

}  // namespace

bool fuse_pad_pool(Graph& graph) {
  std::vector<Node*> pads;
  for (Node* n : graph.nodes()) {
    if (n->op_type() == "Pad" && n->domain().empty()) pads.push_back(n);
  }
  bool changed = false;
  for (Node* pad : pads) changed = fuse_one(graph, pad) || changed;
  if (changed) graph.remove_unused_values();
  return changed;
}

}  // namespace lq::passes
