// Integer rules for the ops that compute: Conv, Gemm, MatMul (int32/int64 accumulation,
// one requantization per output), Add / Sub / Mul / Concat (each input rescaled), Relu and
// Clip on int16 (a clamped rescale), pooling and Softmax.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "compiler/lowering.hpp"
#include "kernels/float/reference/conv_transpose.hpp"
#include "kernels/float/reference/window.hpp"
#include "graph/roles.hpp"

namespace lq::compiler {

namespace {

using integer::kNoClip;

// Every listed data input is an integer tensor; `why` names the first that is not.
bool inputs_integer(Lowering& l, const Node& node, const std::vector<size_t>& data_inputs,
                    std::string& why) {
  for (size_t i : data_inputs) {
    const Value* v = node.input(i);
    if (!v || !l.is_integer(v)) {
      why = v ? "input " + l.not_integer_reason(v) : fmt::format("input {} is absent", i);
      return false;
    }
  }
  return true;
}

// The listed data inputs and every output are integer tensors.
bool all_integer(Lowering& l, const Node& node, const std::vector<size_t>& data_inputs,
                 std::string& why) {
  if (!inputs_integer(l, node, data_inputs, why)) return false;
  for (const Value* o : node.outputs()) {
    if (!l.is_integer(o)) {
      why = "output " + l.not_integer_reason(o);
      return false;
    }
  }
  return true;
}

const QuantParams& quant_of(Lowering& l, const Value* v) { return *l.params(v); }

bool clip_bounds(Lowering& l, const Node& node, float& lo, float& hi, std::string& why);

// Where a computing op writes: its own output, or the output of the Relu / Clip fused with
// it (QuantDecisions::fusions: the Quantizer left the op's output unquantized), clamped to
// that activation's bounds.
struct Destination {
  const Value* value = nullptr;
  float lo = -kNoClip;
  float hi = kNoClip;
  const Node* activation = nullptr;
};

std::optional<Destination> destination(Lowering& l, const Node& node, std::string& why) {
  Destination d{node.output(0)};
  const Node* activation = l.fused_activation(d.value);
  if (activation) {
    if (!clip_bounds(l, *activation, d.lo, d.hi, why)) return std::nullopt;
    d.value = activation->output(0);
    d.activation = activation;
  }
  if (!l.is_integer(d.value)) {
    why = "output " + l.not_integer_reason(d.value);
    return std::nullopt;
  }
  return d;
}

// Marks the fused activation as lowered and returns the destination tensor.
int write_to(Lowering& l, const Destination& d) {
  if (d.activation) l.fuse(*d.activation);
  return l.tensor(d.value);
}

// A window's pads in ONNX order: begins, then ends.
std::vector<int64_t> onnx_pads(const kernels::Window& w) {
  std::vector<int64_t> pads = w.pads_begin;
  pads.insert(pads.end(), w.pads_end.begin(), w.pads_end.end());
  return pads;
}

// Window geometry with auto_pad resolved, as the float kernel computes it.
integer::PoolWindow pool_window(Lowering& l, const Node& node, const Shape& x, bool pool,
                                bool allow_dilations) {
  const kernels::KernelContext ctx = l.context(node);
  const std::vector<int64_t> spatial(x.begin() + 2, x.end());
  kernels::WindowOptions options;
  options.ceil_mode = pool && node.attr_int("ceil_mode", 0) != 0;
  options.allow_dilations = allow_dilations;
  const kernels::Window w = kernels::resolve_window(
      ctx, spatial, kernels::read_kernel_shape(ctx, spatial.size(), {}), options);
  integer::PoolWindow out;
  out.kernel = w.kernel;
  out.strides = w.strides;
  out.dilations = w.dilations;
  out.pads = onnx_pads(w);
  out.ceil_mode = options.ceil_mode;
  return out;
}

// The bias of a linear op as int32 (int64 if needed) at the accumulator scale s_x × s_w[c]
// (c along the bias's last axis, modulo the weight's scales, when they are per channel).
// The quantizer's own int32 codes are used when its scale is exactly that product;
// otherwise the (fake-quantized) float bias is re-rounded. Returns -1 without a bias, -2
// with `why` set when it cannot be expressed.
int linear_bias(Lowering& l, const Node& node, size_t index, const QuantParams& x,
                const QuantParams& w, std::string& why) {
  const Value* b = node.input(index);
  if (!b) return -1;
  const Tensor& real = *l.folded_constant(node, index);
  const QuantParams* p = l.params(b);
  const int64_t last = real.rank() == 0 ? 1 : real.dim(real.rank() - 1);
  // Channel c of the bias uses weight scale c mod (scales): ConvTranspose's groups share them.
  if (w.scale.size() > 1 && last % static_cast<int64_t>(w.scale.size()) != 0) {
    why = fmt::format("bias \"{}\" of shape {} does not run along the {} weight channels",
                      b->name(), shape_str(real.shape()), w.scale.size());
    return -2;
  }
  std::vector<int64_t> codes;
  const std::vector<double> values = real.to_doubles();
  const std::vector<double> raw = b->initializer()->to_doubles();
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t c = w.scale.size() == 1 ? 0 : i % w.scale.size();
    const float product = x.scale[0] * w.scale[c];
    const size_t pc = p && p->scale.size() > 1 ? c : 0;
    double code = std::nearbyint(values[i] / (static_cast<double>(x.scale[0]) * w.scale[c]));
    if (p && p->dtype == DType::kInt32 && p->scale[pc] == product && p->zero_point[pc] == 0) {
      code = quantize_value(static_cast<float>(raw[i]), product, 0, INT32_MIN, INT32_MAX);
    }
    if (!(std::abs(code) < 0x1p62)) {
      why = fmt::format("bias \"{}\" element {} does not fit int64 at the accumulator scale",
                        b->name(), i);
      return -2;
    }
    codes.push_back(static_cast<int64_t>(code));
  }
  // int32 when every code fits (8-bit ops), int64 for the wide sums of int16 ops.
  const bool narrow = std::all_of(codes.begin(), codes.end(), [](int64_t v) {
    return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
  });
  Tensor q(narrow ? DType::kInt32 : DType::kInt64, real.shape());
  for (size_t i = 0; i < codes.size(); ++i) {
    if (narrow) {
      q.data<int32_t>()[i] = static_cast<int32_t>(codes[i]);
    } else {
      q.data<int64_t>()[i] = codes[i];
    }
  }
  return l.constant(b->name() + (narrow ? ":int32" : ":int64"), std::move(q));
}

bool weight_ok(Lowering& l, const Value* w, std::string& why) {
  const QuantParams* p = l.params(w);
  if (!p || (p->dtype != DType::kInt4 && p->dtype != DType::kInt8 && p->dtype != DType::kUInt8 &&
             p->dtype != DType::kInt16)) {
    why = fmt::format("weight \"{}\" is not quantized to int4/int8/uint8/int16", w->name());
    return false;
  }
  return true;
}

// What Conv and ConvTranspose check alike: constant weights quantized per tensor or along
// `channel_axis`, an integer input, where the result goes, and the bias as integers.
struct WeightedOperands {
  const Value* x = nullptr;
  const Value* w = nullptr;
  const QuantParams* xq = nullptr;
  const QuantParams* wq = nullptr;
  Destination out;
  int bias = -1;
};

std::optional<WeightedOperands> weighted_operands(Lowering& l, const Node& node, int channel_axis,
                                                  std::string& why) {
  WeightedOperands o;
  o.x = node.input(0);
  o.w = node.input(1);
  if (!o.w || !o.w->is_constant()) {
    why = node.op_type() + " weights are computed at run time";
    return std::nullopt;
  }
  if (!inputs_integer(l, node, {0}, why) || !weight_ok(l, o.w, why)) return std::nullopt;
  const std::optional<Destination> out = destination(l, node, why);
  if (!out) return std::nullopt;
  o.out = *out;
  o.xq = &quant_of(l, o.x);
  o.wq = &quant_of(l, o.w);
  if (o.wq->per_channel() && o.wq->axis != channel_axis) return std::nullopt;
  o.bias = linear_bias(l, node, 2, *o.xq, *o.wq, why);
  if (o.bias == -2) return std::nullopt;
  return o;
}

bool lower_conv(Lowering& l, const Node& node, std::string& why) {
  const std::optional<WeightedOperands> o = weighted_operands(l, node, 0, why);
  if (!o) return false;
  const Shape xs = l.shape(o->x);
  const Shape ws = l.shape(o->w);
  const kernels::KernelContext ctx = l.context(node);
  const std::vector<int64_t> spatial(xs.begin() + 2, xs.end());
  const kernels::Window win = kernels::resolve_window(
      ctx, spatial, kernels::read_kernel_shape(ctx, spatial.size(), {ws.begin() + 2, ws.end()}));
  integer::ConvParams params;
  params.strides = win.strides;
  params.dilations = win.dilations;
  params.pads = onnx_pads(win);
  params.group = node.attr_int("group", 1);
  params.quant = make_linear_quant(*o->xq, *o->wq, quant_of(l, o->out.value), o->out.lo, o->out.hi);
  const int y = write_to(l, o->out);
  const int64_t macs = shape_numel(l.tensor_at(y).info.shape) * shape_numel(Shape(ws.begin() + 1, ws.end()));
  l.emit(integer::conv_kernel(), node, {l.tensor(o->x), l.tensor(o->w), o->bias}, {y}, params, macs);
  return true;
}

bool lower_conv_transpose(Lowering& l, const Node& node, std::string& why) {
  const std::optional<WeightedOperands> o = weighted_operands(l, node, 1, why);
  if (!o) return false;
  // The float kernel's geometry (output_shape, output_padding, auto_pad): it reads shapes only.
  kernels::KernelContext ctx = l.context(node);
  const Tensor x_shape = Tensor::borrow(DType::kFloat32, l.shape(o->x), nullptr);
  ctx.inputs = {&x_shape, o->w->initializer()};
  const kernels::ConvTransposeGeometry g = kernels::resolve_conv_transpose(ctx);
  integer::ConvTransposeParams params;
  params.strides = g.window.strides;
  params.dilations = g.window.dilations;
  params.pads = onnx_pads(g.window);
  params.output = g.window.output;
  params.group = g.group;
  params.quant = make_linear_quant(*o->xq, *o->wq, quant_of(l, o->out.value), o->out.lo, o->out.hi);
  const int y = write_to(l, o->out);
  const Shape ws = l.shape(o->w);
  const int64_t macs = shape_numel(l.shape(o->x)) * shape_numel(Shape(ws.begin() + 1, ws.end()));
  l.emit(integer::conv_transpose_kernel(), node, {l.tensor(o->x), l.tensor(o->w), o->bias}, {y}, params, macs);
  return true;
}

// Gemm and MatMul: B is constant weights or a second integer input; A is integer.
std::optional<Destination> matrix_operands(Lowering& l, const Node& node, std::string& why) {
  const Value* b = node.input(1);
  const bool b_weight = b && b->is_constant();
  if (!inputs_integer(l, node, b_weight ? std::vector<size_t>{0} : std::vector<size_t>{0, 1}, why)) {
    return std::nullopt;
  }
  if (b_weight && !weight_ok(l, b, why)) return std::nullopt;
  return destination(l, node, why);
}

bool lower_gemm(Lowering& l, const Node& node, std::string& why) {
  if (node.attr_float("alpha", 1.0f) != 1.0f ||
      (node.input(2) && node.attr_float("beta", 1.0f) != 1.0f)) {
    why = "Gemm with alpha or beta other than 1";
    return false;
  }
  const Value* b = node.input(1);
  const std::optional<Destination> out = matrix_operands(l, node, why);
  if (!out) return false;
  if (node.input(2) && !node.input(2)->is_constant()) {
    why = "Gemm's C is computed at run time";
    return false;
  }
  const QuantParams& aq = quant_of(l, node.input(0));
  const QuantParams& bq = quant_of(l, b);
  integer::GemmParams params;
  params.trans_a = node.attr_int("transA", 0) != 0;
  params.trans_b = node.attr_int("transB", 0) != 0;
  if (bq.per_channel() && bq.axis != (params.trans_b ? 0 : 1)) return false;
  const int bias = linear_bias(l, node, 2, aq, bq, why);
  if (bias == -2) return false;
  params.quant = make_linear_quant(aq, bq, quant_of(l, out->value), out->lo, out->hi);
  const int y = write_to(l, *out);
  const Shape as = l.shape(node.input(0));
  const int64_t depth = params.trans_a ? as[0] : as[1];
  const int64_t macs = shape_numel(l.tensor_at(y).info.shape) * depth;
  l.emit(integer::gemm_kernel(), node, {l.tensor(node.input(0)), l.tensor(b), bias}, {y}, params, macs);
  return true;
}

bool lower_mat_mul(Lowering& l, const Node& node, std::string& why) {
  const Value* b = node.input(1);
  const std::optional<Destination> out = matrix_operands(l, node, why);
  if (!out) return false;
  const QuantParams& bq = quant_of(l, b);
  const Shape bs = l.shape(b);
  if (bq.per_channel() && bq.axis != static_cast<int>(bs.size()) - 1) return false;
  const integer::LinearQuant quant = make_linear_quant(
      quant_of(l, node.input(0)), bq, quant_of(l, out->value), out->lo, out->hi);
  const int y = write_to(l, *out);
  const Shape as = l.shape(node.input(0));
  const int64_t macs = shape_numel(l.tensor_at(y).info.shape) * as.back();
  l.emit(integer::mat_mul_kernel(), node, {l.tensor(node.input(0)), l.tensor(b), -1}, {y}, quant, macs);
  return true;
}

bool lower_binary(Lowering& l, const Node& node, std::string& why) {
  if (!inputs_integer(l, node, {0, 1}, why)) return false;
  const std::optional<Destination> out = destination(l, node, why);
  if (!out) return false;
  const QuantParams& a = quant_of(l, node.input(0));
  const QuantParams& b = quant_of(l, node.input(1));
  const QuantParams& y = quant_of(l, out->value);
  const std::vector<int> ins = {l.tensor(node.input(0)), l.tensor(node.input(1))};
  const std::vector<int> outs = {write_to(l, *out)};
  if (node.op_type() == "Mul") {
    l.emit(integer::mul_kernel(), node, ins, outs, make_mul_params(a, b, y, out->lo, out->hi));
    return true;
  }
  if (node.op_type() == "Div") {
    l.emit(integer::div_kernel(), node, ins, outs, make_div_params(a, b, y, out->lo, out->hi));
    return true;
  }
  integer::AddParams params = make_add_params(a, b, y, out->lo, out->hi);
  params.subtract = node.op_type() == "Sub";
  l.emit(integer::add_kernel(), node, ins, outs, params);
  return true;
}

bool lower_concat(Lowering& l, const Node& node, std::string& why) {
  std::vector<size_t> all;
  for (size_t i = 0; i < node.inputs().size(); ++i) all.push_back(i);
  if (!all_integer(l, node, all, why)) return false;
  const QuantParams& y = quant_of(l, node.output(0));
  integer::ConcatParams params;
  const auto rank = static_cast<int64_t>(l.shape(node.output(0)).size());
  params.axis = node.attr_int("axis", 0);
  if (params.axis < 0) params.axis += rank;
  std::vector<int> ins;
  for (const Value* v : node.inputs()) {
    params.inputs.push_back(make_rescale(quant_of(l, v), y));
    ins.push_back(l.tensor(v));
  }
  params.output = make_output_spec(y);
  l.emit(integer::concat_kernel(), node, ins, {l.tensor(node.output(0))}, params);
  return true;
}

// Relu / Clip bounds (roles::clip_bounds), or why not.
bool clip_bounds(Lowering&, const Node& node, float& lo, float& hi, std::string& why) {
  const auto bounds = roles::clip_bounds(node);
  if (!bounds) {
    why = "Clip bounds are computed at run time";
    return false;
  }
  std::tie(lo, hi) = *bounds;
  return true;
}

bool lower_clip(Lowering& l, const Node& node, std::string& why) {
  float lo = 0, hi = 0;
  if (!all_integer(l, node, {0}, why) || !clip_bounds(l, node, lo, hi, why)) return false;
  const int x = l.tensor(node.input(0));
  const int y = l.tensor(node.output(0));
  l.emit_rescale(node, x, y, make_output_spec(l.tensor_at(y).info.quant, lo, hi));
  return true;
}

bool lower_max_pool(Lowering& l, const Node& node, std::string& why) {
  if (node.outputs().size() > 1) {
    why = "MaxPool's indices output";
    return false;
  }
  if (!all_integer(l, node, {0}, why)) return false;
  const int x = l.tensor(node.input(0));
  const int y = l.tensor(node.output(0));
  const integer::PoolWindow window = pool_window(l, node, l.shape(node.input(0)), true, true);
  if (l.same_params(x, y)) {
    l.emit(integer::max_pool_kernel(), node, {x}, {y}, window);
    return true;
  }
  const int pooled = l.temporary(node.output(0)->name() + ":pooled", l.tensor_at(y).info.shape,
                                 l.tensor_at(x).info.quant);
  l.emit(integer::max_pool_kernel(), node, {x}, {pooled}, window);
  l.emit_rescale(node, pooled, y, make_output_spec(l.tensor_at(y).info.quant));
  return true;
}

bool lower_average_pool(Lowering& l, const Node& node, std::string& why) {
  if (!all_integer(l, node, {0}, why)) return false;
  integer::AveragePoolParams params = make_average_pool_params(
      quant_of(l, node.input(0)), quant_of(l, node.output(0)));
  const bool global = node.op_type() == "GlobalAveragePool";
  if (!global) {
    const int64_t opset = l.graph().opset("");
    params.window = pool_window(l, node, l.shape(node.input(0)), true, opset >= 19);
    params.count_include_pad = node.attr_int("count_include_pad", 0) != 0;
  }
  l.emit(global ? integer::global_average_pool_kernel() : integer::average_pool_kernel(), node,
         {l.tensor(node.input(0))}, {l.tensor(node.output(0))}, params);
  return true;
}

// ReduceMean over any axes: a gather lays x out as [1, kept, reduced] (a separable map:
// each block of axes is one offset list), then GlobalAveragePool averages the last axis.
// Its [1, kept, 1] result has the output's elements in the output's order.
bool lower_reduce_mean(Lowering& l, const Node& node, std::string& why) {
  if (!all_integer(l, node, {0}, why)) return false;
  const Value* x = node.input(0);
  const Shape shape = l.shape(x);
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> axes = node.attr_ints("axes");
  if (const Value* given = node.input(1)) {
    if (!given->is_constant()) {
      why = "ReduceMean axes are computed at run time";
      return false;
    }
    axes = given->initializer()->to_int64s();
  }
  if (axes.empty()) {
    if (node.attr_int("noop_with_empty_axes", 0) != 0) return false;  // an identity
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int64_t a : axes) reduced[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  // Per block (kept, reduced): the flat offset of every coordinate combination, row-major.
  std::vector<std::vector<int64_t>> offsets = {{0}, {0}, {0}};
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    std::vector<int64_t>& block = offsets[reduced[static_cast<size_t>(d)] ? 2 : 1];
    std::vector<int64_t> grown;
    for (int64_t i = 0; i < shape[static_cast<size_t>(d)]; ++i) {
      for (int64_t inner : block) grown.push_back(i * stride + inner);
    }
    block = std::move(grown);
    stride *= shape[static_cast<size_t>(d)];
  }
  const QuantParams& xq = quant_of(l, x);
  const int laid_out = l.temporary(x->name() + ":by_reduced_axes",
                                   {1, static_cast<int64_t>(offsets[1].size()),
                                    static_cast<int64_t>(offsets[2].size())},
                                   xq);
  l.emit(integer::gather_kernel(), node, {l.tensor(x)}, {laid_out}, integer::GatherOp{offsets, xq.zero_point[0]});
  l.emit(integer::global_average_pool_kernel(), node, {laid_out}, {l.tensor(node.output(0))},
         make_average_pool_params(xq, quant_of(l, node.output(0))));
  return true;
}

bool lower_softmax(Lowering& l, const Node& node, std::string& why) {
  if (!all_integer(l, node, {0}, why)) return false;
  const QuantParams& x = quant_of(l, node.input(0));
  const int64_t opset = l.graph().opset("");
  const auto rank = static_cast<int64_t>(l.shape(node.input(0)).size());
  int64_t axis = node.attr_int("axis", opset >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  l.emit(integer::softmax_kernel(), node, {l.tensor(node.input(0))}, {l.tensor(node.output(0))},
         make_softmax_params(x, quant_of(l, node.output(0)), axis, opset < 13));
  return true;
}

}  // namespace

bool lower_arithmetic(Lowering& l, const Node& node, std::string& why) {
  if (!node.domain().empty()) return false;
  const std::string& op = node.op_type();
  if (op == "Conv") return lower_conv(l, node, why);
  if (op == "ConvTranspose") return lower_conv_transpose(l, node, why);
  if (op == "Gemm") return lower_gemm(l, node, why);
  if (op == "MatMul") return lower_mat_mul(l, node, why);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return lower_binary(l, node, why);
  if (op == "Concat") return lower_concat(l, node, why);
  if (op == "Relu" || op == "Clip") return lower_clip(l, node, why);
  if (op == "MaxPool") return lower_max_pool(l, node, why);
  if (op == "AveragePool" || op == "GlobalAveragePool") return lower_average_pool(l, node, why);
  if (op == "Softmax") return lower_softmax(l, node, why);
  if (op == "ReduceMean") return lower_reduce_mean(l, node, why);
  return false;
}

}  // namespace lq::compiler
