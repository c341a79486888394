#include "kernels/float/kernel.hpp"

namespace lq::kernels {

// Exactly one of the value* attributes holds the constant (opset 12 added the
// scalar and list forms).
void constant(KernelContext& ctx) {
  const Node& node = ctx.node;
  int found = 0;
  for (const auto& [name, attr] : node.attributes()) {
    if (name.rfind("value", 0) == 0 || name == "sparse_value") ++found;
  }
  if (found != 1) {
    ctx.fail(StatusCode::kInvalidModel,
             "needs exactly one of the attributes value, value_float, value_floats, value_int, "
             "value_ints, value_string(s), sparse_value; it has {}",
             found);
  }
  if (const Attribute* a = node.find_attr("value")) {
    if (a->t.empty()) ctx.fail(StatusCode::kInvalidModel, "attribute value holds no tensor");
    ctx.outputs[0] = a->t;
  } else if (const Attribute* a = node.find_attr("value_float")) {
    ctx.outputs[0] = Tensor::scalar<float>(a->f);
  } else if (const Attribute* a = node.find_attr("value_floats")) {
    ctx.outputs[0] =
        Tensor::from_vector<float>({static_cast<int64_t>(a->floats.size())}, a->floats);
  } else if (const Attribute* a = node.find_attr("value_int")) {
    ctx.outputs[0] = Tensor::scalar<int64_t>(a->i);
  } else if (const Attribute* a = node.find_attr("value_ints")) {
    ctx.outputs[0] = Tensor::from_vector<int64_t>({static_cast<int64_t>(a->ints.size())}, a->ints);
  } else {
    ctx.fail(StatusCode::kUnsupported,
             "string and sparse constants are not supported (libquant has no string tensors)");
  }
}

}  // namespace lq::kernels
