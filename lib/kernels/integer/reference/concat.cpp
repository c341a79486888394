// Integer Concat: each input rescaled to the output's parameters on the way (an exact copy
// when they are equal: the multiplier is then exactly 1). concat rescales each input's
// blocks with optimized::Rescaler (copies, byte tables); concat_reference is the loop.
#include <algorithm>

#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/elementwise.hpp"
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "Concat";

// The output shape; fails unless the inputs agree off `axis`.
Shape concat_shape(const std::vector<const Tensor*>& inputs, int64_t axis) {
  const Shape& first = inputs[0]->shape();
  if (axis < 0 || axis >= static_cast<int64_t>(first.size())) {
    detail::fail(kOp, "axis {} is out of range for rank {}", axis, first.size());
  }
  Shape out = first;
  out[static_cast<size_t>(axis)] = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& s = inputs[i]->shape();
    bool fits = s.size() == first.size();
    for (size_t d = 0; fits && d < s.size(); ++d) {
      fits = d == static_cast<size_t>(axis) || s[d] == first[d];
    }
    if (!fits) {
      detail::fail(kOp, "input {} has shape {}, which differs from input 0 {} off axis {}", i,
                   shape_str(s), shape_str(first), axis);
    }
    out[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
  }
  return out;
}

// The checks of concat and concat_reference; the output shape.
Shape check_concat(const std::vector<const Tensor*>& inputs, const ConcatParams& params) {
  if (inputs.empty()) detail::fail(kOp, "no inputs");
  if (params.inputs.size() != inputs.size()) {
    detail::fail(kOp, "{} inputs but {} input rescales", inputs.size(), params.inputs.size());
  }
  detail::check_output_spec(kOp, params.output);
  for (size_t i = 0; i < inputs.size(); ++i) {
    detail::require_data(kOp, "an input", *inputs[i]);
    detail::check_zero_point(kOp, "an input", inputs[i]->dtype(), params.inputs[i].zero_point);
  }
  return concat_shape(inputs, params.axis);
}

int64_t outer_size(const Shape& out_shape, int64_t axis) {
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= out_shape[static_cast<size_t>(d)];
  return outer;
}

}  // namespace

Tensor concat(const std::vector<const Tensor*>& inputs, const ConcatParams& params) {
  const Shape out_shape = check_concat(inputs, params);
  const int64_t outer = outer_size(out_shape, params.axis);
  std::vector<optimized::Rescaler> rescalers;
  for (size_t i = 0; i < inputs.size(); ++i) {
    rescalers.emplace_back(inputs[i]->dtype(), params.inputs[i], params.output);
  }
  Tensor y(params.output.dtype, out_shape);
  auto* dst = static_cast<uint8_t*>(y.raw());
  const auto out_element = static_cast<int64_t>(dtype_size(params.output.dtype));
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t block = inputs[i]->numel() / std::max<int64_t>(outer, 1);
      const auto* src = static_cast<const uint8_t*>(inputs[i]->raw()) +
                        o * block * static_cast<int64_t>(dtype_size(inputs[i]->dtype()));
      rescalers[i].run(src, block, dst);
      dst += block * out_element;
    }
  }
  return y;
}

Tensor concat_reference(const std::vector<const Tensor*>& inputs, const ConcatParams& params) {
  const Shape out_shape = check_concat(inputs, params);
  const int64_t outer = outer_size(out_shape, params.axis);
  const OutputSpec& out = params.output;
  std::vector<int32_t> y(static_cast<size_t>(shape_numel(out_shape)));
  size_t next = 0;
  std::vector<std::vector<int32_t>> widened;
  for (size_t i = 0; i < inputs.size(); ++i) {
    widened.push_back(detail::widen(*inputs[i], params.inputs[i].zero_point));
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto block = static_cast<size_t>(inputs[i]->numel() / std::max<int64_t>(outer, 1));
      const int32_t* x = widened[i].data() + static_cast<size_t>(o) * block;
      for (size_t k = 0; k < block; ++k) {
        y[next++] = requantize(x[k], params.inputs[i].multiplier, out.zero_point, out.min, out.max);
      }
    }
  }
  return detail::narrow(out, out_shape, y);
}

const IntegerKernel& concat_kernel() {
  static const IntegerKernel k = make_kernel<ConcatParams>(
      {"Concat", 6, "concat", [](const KernelArgs& a, const ConcatParams& p) {
         std::vector<const Tensor*> parts;
         for (const Tensor& t : a.inputs) parts.push_back(&t);
         return single(concat(parts, p));
       }});
  return k;
}

}  // namespace lq::integer
