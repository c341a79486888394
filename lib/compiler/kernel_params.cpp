// The compiler's builders of integer kernel parameters: float scales (QuantParams) become
// zero points, Multipliers, clamp bounds and tables once, at compile time, so that no
// kernel sees a float scale.
#include "compiler/kernel_params.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels/integer/common.hpp"

namespace lq::compiler {

namespace {

// One table entry per input code: 256, or 65536 for int16.
size_t table_entries(DType input) { return size_t{1} << (input == DType::kInt16 ? 16 : 8); }

void check_per_tensor(const QuantParams& params, const char* what) {
  if (params.scale.size() != 1 || params.zero_point.size() != 1) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("integer Add: {} needs per-tensor parameters", what));
  }
}

}  // namespace

integer::OutputSpec make_output_spec(const QuantParams& output, float clip_min, float clip_max) {
  if (output.scale.size() != 1 || output.zero_point.size() != 1) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("an integer op's output needs per-tensor parameters, got {} scales",
                            output.scale.size()));
  }
  integer::OutputSpec spec;
  spec.dtype = output.dtype;
  spec.zero_point = output.zero_point[0];
  const int32_t qmin = output.qmin(), qmax = output.qmax();
  spec.min = quantize_value(clip_min, output.scale[0], spec.zero_point, qmin, qmax);
  spec.max = quantize_value(clip_max, output.scale[0], spec.zero_point, qmin, qmax);
  spec.min = std::min(spec.min, spec.max);  // Clip with min > max yields max
  integer::detail::check_output_spec("OutputSpec", spec);
  return spec;
}

integer::LinearQuant make_linear_quant(const QuantParams& input, const QuantParams& weight,
                              const QuantParams& output, float clip_min, float clip_max) {
  if (input.scale.size() != 1 || output.scale.size() != 1) {
    throw Error(StatusCode::kInvalidArgument,
                "an integer linear op needs per-tensor input and output parameters");
  }
  if (weight.scale.empty() || weight.scale.size() != weight.zero_point.size()) {
    throw Error(StatusCode::kInvalidArgument,
                "weight parameters need as many zero points as scales (at least one)");
  }
  integer::LinearQuant quant;
  quant.input_zero_point = input.zero_point.at(0);
  quant.weight_zero_points = weight.zero_point;
  quant.multipliers = make_multipliers(input.scale[0], weight.scale, output.scale[0]);
  quant.output = make_output_spec(output, clip_min, clip_max);
  return quant;
}

void require_per_tensor(const char* op, const QuantParams& a, const QuantParams& b,
                        const QuantParams& output) {
  if (a.scale.size() != 1 || b.scale.size() != 1 || output.scale.size() != 1) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("integer {} needs per-tensor parameters", op));
  }
}

integer::MulParams two_operand_params(const QuantParams& a, const QuantParams& b, const QuantParams& output,
                             double real_multiplier, float clip_min, float clip_max) {
  integer::MulParams params;
  params.a_zero_point = a.zero_point.at(0);
  params.b_zero_point = b.zero_point.at(0);
  params.multiplier = make_multiplier(real_multiplier);
  params.output = make_output_spec(output, clip_min, clip_max);
  return params;
}

integer::AddParams make_add_params(const QuantParams& a, const QuantParams& b, const QuantParams& output,
                          float clip_min, float clip_max) {
  check_per_tensor(a, "input A");
  check_per_tensor(b, "input B");
  check_per_tensor(output, "the output");
  integer::AddParams params;
  params.a_zero_point = a.zero_point[0];
  params.b_zero_point = b.zero_point[0];
  // |x − z| < 2^16 for int16, 2^8 otherwise: the shifted value stays below 2^30.
  params.left_shift = a.dtype == DType::kInt16 || b.dtype == DType::kInt16 ? 14 : 20;
  const double twice_max = 2.0 * std::max<double>(a.scale[0], b.scale[0]);
  params.a_multiplier = make_multiplier(a.scale[0] / twice_max);
  params.b_multiplier = make_multiplier(b.scale[0] / twice_max);
  params.output_multiplier =
      make_multiplier(twice_max / (std::ldexp(1.0, params.left_shift) * output.scale[0]));
  params.output = make_output_spec(output, clip_min, clip_max);
  return params;
}

integer::AveragePoolParams make_average_pool_params(const QuantParams& input, const QuantParams& output) {
  const integer::Rescale r = make_rescale(input, output);
  integer::AveragePoolParams params;
  params.input_zero_point = r.zero_point;
  params.multiplier = r.multiplier;
  params.output = make_output_spec(output);
  return params;
}

integer::MulParams make_div_params(const QuantParams& a, const QuantParams& b, const QuantParams& output,
                          float clip_min, float clip_max) {
  require_per_tensor("Div", a, b, output);
  return two_operand_params(
      a, b, output, static_cast<double>(a.scale[0]) / (static_cast<double>(b.scale[0]) * output.scale[0]),
      clip_min, clip_max);
}

integer::MulParams make_mul_params(const QuantParams& a, const QuantParams& b, const QuantParams& output,
                          float clip_min, float clip_max) {
  require_per_tensor("Mul", a, b, output);
  return two_operand_params(
      a, b, output, static_cast<double>(a.scale[0]) * b.scale[0] / output.scale[0], clip_min, clip_max);
}

integer::Rescale make_rescale(const QuantParams& input, const QuantParams& output) {
  if (input.scale.size() != 1 || output.scale.size() != 1 || input.zero_point.size() != 1) {
    throw Error(StatusCode::kInvalidArgument, "rescaling needs per-tensor parameters");
  }
  return {input.zero_point[0],
          make_multiplier(static_cast<double>(input.scale[0]) / output.scale[0])};
}

float sigmoid_function(float x) { return 1.0f / (1.0f + std::exp(-x)); }

float tanh_function(float x) { return std::tanh(x); }

float exp_function(float x) { return std::exp(x); }

float hard_sigmoid_function(float x, float alpha, float beta) {
  return std::max(0.0f, std::min(1.0f, alpha * x + beta));
}

float hard_swish_function(float x) { return x * hard_sigmoid_function(x, 1.0f / 6.0f, 0.5f); }

integer::LookupTable make_lookup_table(const QuantParams& input, const QuantParams& output,
                              const std::function<float(float)>& f) {
  if (input.dtype != DType::kInt8 && input.dtype != DType::kUInt8 &&
      input.dtype != DType::kInt16) {
    integer::detail::fail("Lookup", "input dtype {} is not int8, uint8 or int16", dtype_name(input.dtype));
  }
  if (input.scale.size() != 1 || input.zero_point.size() != 1) {
    integer::detail::fail("Lookup", "the input needs per-tensor parameters");
  }
  const integer::OutputSpec out = make_output_spec(output);
  integer::LookupTable table;
  table.input_dtype = input.dtype;
  table.output_dtype = output.dtype;
  const int32_t qmin = dtype_qmin(input.dtype);
  for (size_t i = 0; i < table_entries(input.dtype); ++i) {
    const float x =
        dequantize_value(qmin + static_cast<int32_t>(i), input.scale[0], input.zero_point[0]);
    table.values.push_back(quantize_value(f(x), output.scale[0], out.zero_point, out.min, out.max));
  }
  return table;
}

integer::SoftmaxParams make_softmax_params(const QuantParams& input, const QuantParams& output, int64_t axis,
                                  bool coerce_2d) {
  if (input.dtype != DType::kInt8 && input.dtype != DType::kUInt8 &&
      input.dtype != DType::kInt16) {
    integer::detail::fail("Softmax", "input dtype {} is not int8, uint8 or int16", dtype_name(input.dtype));
  }
  if (input.scale.size() != 1 || output.scale.size() != 1) {
    integer::detail::fail("Softmax", "input and output need per-tensor parameters");
  }
  integer::SoftmaxParams params;
  params.axis = axis;
  params.coerce_2d = coerce_2d;
  params.input_dtype = input.dtype;
  for (size_t d = 0; d < table_entries(input.dtype); ++d) {
    const double e = std::exp(-static_cast<double>(input.scale[0]) * static_cast<double>(d));
    params.exp_table.push_back(static_cast<int32_t>(std::llround(std::ldexp(e, integer::kSoftmaxTableBits))));
  }
  params.multiplier = make_multiplier(1.0 / output.scale[0]);
  params.output = make_output_spec(output);
  return params;
}

}  // namespace lq::compiler
