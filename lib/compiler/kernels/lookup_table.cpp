// Table ops (Sigmoid, Tanh, HardSigmoid, HardSwish, Exp, any unary function): the table is
// built once from the float function, then applied by indexing. 8-bit inputs have 256
// entries; int16 inputs a full 65536-entry table, exact like the 8-bit ones (an
// interpolated 513-entry table, TFLite's int16 method, errs by tens of LSBs at the kinks
// of HardSigmoid / HardSwish, which would break agreement with fake quantization).
#include <algorithm>
#include <cmath>

#include "compiler/kernels/common.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "LookupTable";

size_t entries(DType input) { return size_t{1} << (input == DType::kInt16 ? 16 : 8); }

}  // namespace

float sigmoid_function(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float tanh_function(float x) { return std::tanh(x); }
float exp_function(float x) { return std::exp(x); }
float hard_sigmoid_function(float x, float alpha, float beta) {
  return std::max(0.0f, std::min(1.0f, alpha * x + beta));
}
float hard_swish_function(float x) { return x * hard_sigmoid_function(x, 1.0f / 6.0f, 0.5f); }

LookupTable make_lookup_table(const QuantParams& input, const QuantParams& output,
                              const std::function<float(float)>& f) {
  if (input.dtype != DType::kInt8 && input.dtype != DType::kUInt8 &&
      input.dtype != DType::kInt16) {
    detail::fail(kOp, "input dtype {} is not int8, uint8 or int16", dtype_name(input.dtype));
  }
  if (input.scale.size() != 1 || input.zero_point.size() != 1) {
    detail::fail(kOp, "the input needs per-tensor parameters");
  }
  const OutputSpec out = make_output_spec(output);
  LookupTable table;
  table.input_dtype = input.dtype;
  table.output_dtype = output.dtype;
  const int32_t qmin = dtype_qmin(input.dtype);
  for (size_t i = 0; i < entries(input.dtype); ++i) {
    const float x =
        dequantize_value(qmin + static_cast<int32_t>(i), input.scale[0], input.zero_point[0]);
    table.values.push_back(quantize_value(f(x), output.scale[0], out.zero_point, out.min, out.max));
  }
  return table;
}

Tensor lookup(const Tensor& x, const LookupTable& table) {
  detail::require_dtype(kOp, "input", x, {table.input_dtype});
  if (table.values.size() != entries(table.input_dtype)) {
    detail::fail(kOp, "table has {} entries, expected {}", table.values.size(),
                 entries(table.input_dtype));
  }
  const OutputSpec out{table.output_dtype, 0, dtype_qmin(table.output_dtype),
                       dtype_qmax(table.output_dtype)};
  detail::check_output_spec(kOp, out);
  for (int32_t v : table.values) {
    if (v < out.min || v > out.max) {
      detail::fail(kOp, "table value {} is outside the {} range", v,
                   dtype_name(table.output_dtype));
    }
  }
  const int32_t qmin = dtype_qmin(table.input_dtype);
  std::vector<int32_t> y = detail::widen(x, qmin);  // the table index of each element
  for (int32_t& v : y) v = table.values[static_cast<size_t>(v)];
  return detail::narrow(out, x.shape(), y);
}

}  // namespace lq::integer
