// Data movement on integers. The float reference kernel of the op is the one definition of
// where each output element comes from: the compiler runs it once on an index tensor
// (element i holds i + 1) and reads the answer back as one offset list per output axis
// (a separable gather; 0 marks Pad's fill). Ops whose map is not separable run on CPU.
#include <fmt/format.h>

#include <optional>
#include <set>

#include "kernels/integer/common.hpp"
#include "compiler/lowering.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::compiler {

namespace {

const std::set<std::string> kMovementOps = {
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity", "Dropout",
    "Slice",   "Gather",  "Expand",  "Tile",      "Split",     "Pad",      "Resize",
    "Upsample", "DepthToSpace", "SpaceToDepth"};

using Offsets = std::vector<std::vector<int64_t>>;

int64_t flat_index(const std::vector<int64_t>& c, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + c[d];
  return flat;
}

// The per-axis offsets that reproduce `map` (source index + 1, or 0 for fill), or nullopt
// when the map is not separable.
std::optional<Offsets> separable_offsets(const Tensor& map) {
  const int64_t* v = map.data<int64_t>();
  const int64_t n = map.numel();
  const Shape shape = map.rank() == 0 ? Shape{1} : map.shape();
  int64_t anchor = 0;
  while (anchor < n && v[anchor] == 0) ++anchor;
  if (anchor == n) return std::nullopt;  // all fill: nothing to anchor on
  std::vector<int64_t> center(shape.size());
  kernels::unravel_index(anchor, shape, center);
  const int64_t base = v[anchor] - 1;
  Offsets offsets(shape.size());
  int64_t shifted = 0;  // what the per-axis minima moved onto axis 0
  for (size_t d = 0; d < shape.size(); ++d) {
    std::vector<int64_t> c = center;
    int64_t lowest = 0;
    for (int64_t j = 0; j < shape[d]; ++j) {
      c[d] = j;
      const int64_t at = v[flat_index(c, shape)];
      offsets[d].push_back(at == 0 ? integer::detail::kFill : at - 1 - base);
      if (at != 0) lowest = std::min(lowest, at - 1 - base);
    }
    if (d == 0) continue;
    for (int64_t& o : offsets[d]) o = o == integer::detail::kFill ? o : o - lowest;
    shifted += lowest;
  }
  for (int64_t& o : offsets[0]) o = o == integer::detail::kFill ? o : o + base + shifted;
  for (const auto& axis : offsets) {
    for (int64_t o : axis) {
      if (o < 0 && o != integer::detail::kFill) return std::nullopt;
    }
  }
  std::vector<int64_t> c(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t predicted = 1;
    for (size_t d = 0; d < shape.size() && predicted != 0; ++d) {
      const int64_t o = offsets[d][static_cast<size_t>(c[d])];
      predicted = o == integer::detail::kFill ? 0 : predicted + o;
    }
    if (predicted != v[i]) return std::nullopt;
    for (size_t d = shape.size(); d-- > 0;) {
      if (++c[d] < shape[d]) break;
      c[d] = 0;
    }
  }
  return offsets;
}

// Pad's constant as a code of the output's parameters.
int32_t pad_fill(Lowering& l, const Node& node, const QuantParams& out) {
  float value = node.attr_float("value", 0.0f);
  if (const Tensor* c = l.folded_constant(node, 2); c && c->numel() == 1) {
    value = static_cast<float>(c->to_doubles()[0]);
  }
  return quantize_value(value, out.scale[0], out.zero_point[0], out.qmin(), out.qmax());
}

}  // namespace

bool lower_gather(Lowering& l, const Node& node, std::string& why) {
  const std::string& op = node.op_type();
  if (!node.domain().empty() || !kMovementOps.count(op)) return false;
  if ((op == "Resize" || op == "Upsample") && node.attr_string("mode", "nearest") != "nearest") {
    why = fmt::format("{} mode {} interpolates in float (nearest moves integer codes)", op,
                      node.attr_string("mode", "nearest"));
    return false;
  }
  const Value* x = node.input(0);
  if (!x || x->is_constant()) return false;
  if (!l.is_integer(x)) {
    why = "input " + l.not_integer_reason(x);
    return false;
  }
  for (size_t i = 1; i < node.inputs().size(); ++i) {
    if (node.input(i) && !node.input(i)->is_constant()) {
      why = fmt::format("{} input {} is computed at run time", op, i);
      return false;
    }
  }
  for (const Value* o : node.outputs()) {
    if (!l.is_integer(o)) {
      why = "output " + l.not_integer_reason(o);
      return false;
    }
  }
  Tensor index(DType::kInt64, l.shape(x));
  for (int64_t i = 0; i < index.numel(); ++i) index.data<int64_t>()[i] = i + 1;
  const Tensor zero = Tensor::scalar<int64_t>(0);
  std::vector<const Tensor*> inputs = {&index};
  for (size_t i = 1; i < node.inputs().size(); ++i) {
    inputs.push_back(op == "Pad" && i == 2 && node.input(i) ? &zero : l.folded_constant(node, i));
  }
  std::vector<Tensor> maps;
  try {
    maps = l.evaluate(node, inputs);
  } catch (const Error& e) {
    why = fmt::format("{} could not be mapped to a gather: {}", op, e.what());
    return false;
  }
  std::vector<Offsets> all;
  for (const Tensor& map : maps) {
    std::optional<Offsets> offsets = separable_offsets(map);
    if (!offsets) {
      why = fmt::format("{} moves elements in a pattern that is not separable per axis", op);
      return false;
    }
    all.push_back(std::move(*offsets));
  }
  const int in = l.tensor(x);
  for (size_t k = 0; k < node.outputs().size(); ++k) {
    const int out = l.tensor(node.output(k));
    // Copies: l.temporary() appends to the tensors a reference would point into.
    const QuantParams out_params = l.tensor_at(out).info.quant;
    const int32_t fill = op == "Pad" ? pad_fill(l, node, out_params) : out_params.zero_point[0];
    if (l.same_params(in, out)) {
      l.emit(integer::gather_kernel(), node, {in}, {out}, integer::GatherOp{all[k], fill});
      continue;
    }
    // Rescaled before it moves, so that Pad's fill is quantized with the output's parameters
    // as fake quantization quantizes it (the value may lie outside the input's range).
    const int rescaled = l.temporary(node.output(k)->name() + ":rescaled", l.shape(x), out_params);
    l.emit_rescale(node, in, rescaled, make_output_spec(out_params));
    l.emit(integer::gather_kernel(), node, {rescaled}, {out}, integer::GatherOp{all[k], fill});
  }
  return true;
}

}  // namespace lq::compiler
