// Shared machinery of the integer kernels: dtype checks, widening to int32 offsets from
// the zero point, narrowing results into the output dtype, window geometry and the
// axis-separable gather behind the data-movement ops.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernels/integer/integer_kernels.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::integer::detail {

template <typename... Args>
[[noreturn]] void fail(const char* op, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(StatusCode::kInvalidArgument, std::string("integer ") + op + ": " +
                                                fmt::format(format, std::forward<Args>(args)...));
}

// Fails unless `t` (named `what`) has one of the dtypes `allowed`.
void require_dtype(const char* op, const char* what, const Tensor& t,
                   std::initializer_list<DType> allowed);
// Data inputs: int8, uint8, int16. Weights: also int4 (checked to hold [-8, 7]).
void require_data(const char* op, const char* what, const Tensor& t);
void require_weight(const char* op, const char* what, const Tensor& t);
void check_output_spec(const char* op, const OutputSpec& output);
// A zero point inside `dtype`'s range.
void check_zero_point(const char* op, const char* what, DType dtype, int32_t zero_point);

// max |q − zero_point| over the codes q of `dtype`.
int64_t max_abs_offset(DType dtype, int32_t zero_point);

// t[i] − zero_point as int32, for any integer dtype of the kernels (int4 stored as int8).
std::vector<int32_t> widen(const Tensor& t, int32_t zero_point);
// The same with one zero point per channel along `axis` (or one for all).
std::vector<int32_t> widen(const Tensor& t, const std::vector<int32_t>& zero_points, size_t axis);

// An output tensor of `output.dtype` holding `values` (already within its range).
Tensor narrow(const OutputSpec& output, Shape shape, const std::vector<int32_t>& values);

// Calls f(typed pointer) with `data` read as codes of `dtype` (int4 as int8, int8, uint8,
// int16): one dispatch per buffer, not per element.
template <typename F>
void visit_codes(DType dtype, const void* data, F&& f) {
  switch (dtype) {
    case DType::kInt4:
    case DType::kInt8:
      return f(static_cast<const int8_t*>(data));
    case DType::kUInt8:
      return f(static_cast<const uint8_t*>(data));
    case DType::kInt16:
      return f(static_cast<const int16_t*>(data));
    default:
      throw Error(StatusCode::kInternal,
                  fmt::format("integer kernels cannot read {}", dtype_name(dtype)));
  }
}

// The same for writing codes of an int8, uint8 or int16 output.
template <typename F>
void visit_output(DType dtype, void* data, F&& f) {
  switch (dtype) {
    case DType::kInt8:
      return f(static_cast<int8_t*>(data));
    case DType::kUInt8:
      return f(static_cast<uint8_t*>(data));
    case DType::kInt16:
      return f(static_cast<int16_t*>(data));
    default:
      throw Error(StatusCode::kInternal,
                  fmt::format("integer kernels cannot write {}", dtype_name(dtype)));
  }
}

// Entry c of a per-channel list of `channels` entries, or entry 0 of a one-entry list.
template <typename T>
const T& channel_entry(const std::vector<T>& list, int64_t c) {
  return list.size() == 1 ? list[0] : list[static_cast<size_t>(c)];
}
// Checks that a per-channel list has 1 or `channels` entries.
void check_channel_list(const char* op, const char* what, size_t size, int64_t channels);

// Checks a LinearQuant against the input and weight dtypes and the output channel count.
void check_linear_quant(const char* op, const LinearQuant& quant, DType input, DType weight,
                        int64_t channels);
// Whether sums of `terms` input × weight offset products plus a bias from `bias` can leave
// int32 (accumulator_is_int64 with the dtype ranges as bounds).
bool linear_needs_int64(const LinearQuant& quant, DType input, DType weight, int64_t terms,
                        const std::vector<int64_t>& bias);

// requantize for an int32 accumulator, requantize64 for an int64 one.
template <typename Acc>
int32_t requantize_sum(Acc acc, Multiplier m, const OutputSpec& out) {
  if constexpr (sizeof(Acc) == sizeof(int32_t)) {
    return requantize(acc, m, out.zero_point, out.min, out.max);
  } else {
    return requantize64(acc, m, out.zero_point, out.min, out.max);
  }
}

// The int32 bias values (input `what` of shape [channels]), or none.
std::vector<int64_t> read_bias(const char* op, const Tensor* bias, int64_t channels);

// The ONNX multidirectional broadcast of two shapes.
Shape broadcast_shape(const char* op, const Shape& a, const Shape& b);

// The checks of integer::add / mul (failing as they do); the broadcast output shape.
Shape check_add(const Tensor& a, const Tensor& b, const AddParams& params);
Shape check_mul(const Tensor& a, const Tensor& b, const MulParams& params);
// The checks of integer::lookup.
void check_lookup(const Tensor& x, const LookupTable& table);

// y[i, m, n] = requantize(sum_k a_i[m, k] b_i[k, n] + bias[m, n]) for i < batch, with the
// multiplier of column n: the loop behind MatMul and Gemm. Operands are addressed through
// element strides; y is [batch, rows, cols] row-major.
struct MatrixProduct {
  int64_t batch = 1, rows = 0, cols = 0, depth = 0;
  std::vector<int64_t> a_offsets, b_offsets;  // per batch entry
  int64_t a_row_stride = 0, a_depth_stride = 0;
  int64_t b_depth_stride = 0, b_col_stride = 0;
  std::vector<int64_t> bias;  // empty: none; else addressed by the two strides below
  int64_t bias_row_stride = 0, bias_col_stride = 0;
  bool wide = false;  // int64 accumulator
};
// The reference loop on widened offsets (widen).
void matrix_product(const MatrixProduct& p, const int32_t* a, const int32_t* b,
                    const LinearQuant& quant, int32_t* y, kernels::ThreadPool* pool);

// A checked MatMul or Gemm: its product of a and b (b's channels along b_channel_axis)
// and the output's shape.
struct LinearProblem {
  MatrixProduct product;
  size_t b_channel_axis = 0;
  Shape out_shape;
};
// Check the operands and parameters, failing as integer::mat_mul / integer::gemm do.
LinearProblem mat_mul_problem(const Tensor& a, const Tensor& b, const Tensor* bias,
                              const LinearQuant& quant);
LinearProblem gemm_problem(const Tensor& a, const Tensor& b, const Tensor* c,
                           const GemmParams& params);
// The reference: widen, matrix_product, narrow.
Tensor reference_linear(const LinearProblem& problem, const Tensor& a, const Tensor& b,
                        const LinearQuant& quant, kernels::ThreadPool* pool);

// A checked Conv: sizes per image and group, its window, bias and output shape.
struct ConvProblem {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  int64_t in_per_group = 0, out_per_group = 0;
  int64_t in_size = 0, out_size = 0, kernel_size = 0;  // spatial elements
  kernels::Window window;
  std::vector<int64_t> bias;  // empty: none
  Shape out_shape;
  bool wide = false;  // int64 accumulator
};
// Checks the operands and parameters, failing as integer::conv does.
ConvProblem conv_problem(const Tensor& x, const Tensor& w, const Tensor* bias,
                         const ConvParams& params);

// A checked ConvTranspose: sizes per image and group, its geometry (params' strides,
// dilations, pads and output sizes), bias and output shape.
struct ConvTransposeProblem {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  int64_t in_per_group = 0, out_per_group = 0;
  std::vector<int64_t> input, kernel, output;  // spatial sizes
  std::vector<int64_t> strides, dilations, pads;
  int64_t in_size = 0, out_size = 0, kernel_size = 0;  // spatial elements
  std::vector<int64_t> bias;                           // empty: none
  Shape out_shape;
};
// Checks the operands and parameters, failing as integer::conv_transpose does.
ConvTransposeProblem conv_transpose_problem(const Tensor& x, const Tensor& w, const Tensor* bias,
                                            const ConvTransposeParams& params);

// The window of a Conv or pool over `input` spatial dims (ONNX output size rule).
kernels::Window make_window(const char* op, const std::vector<int64_t>& input,
                            const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                            const std::vector<int64_t>& dilations, const std::vector<int64_t>& pads,
                            bool ceil_mode);

// The window of a pool over x [N, C, D1...]: checks the rank and that `window` has one
// kernel size per spatial axis.
kernels::Window pool_window(const char* op, const Tensor& x, const PoolWindow& window);


// Marks an output position along an axis that takes the fill element.
constexpr int64_t kFill = -1;

// out[j0, ..., jr] = in.flat[offsets[0][j0] + ... + offsets[r][jr]], or `fill` (one
// element of in's dtype) where an offset is kFill. out.dim(d) == offsets[d].size().
// Runs of consecutive offsets along the last axis are copied as blocks, and a sub-block
// whose offset repeats the previous one's (nearest upsampling) is copied from the output.
Tensor gather_axes(const Tensor& in, const std::vector<std::vector<int64_t>>& offsets,
                   int32_t fill = 0);
// The element-by-element loop gather_axes is tested against.
Tensor gather_axes_reference(const Tensor& in, const std::vector<std::vector<int64_t>>& offsets,
                             int32_t fill = 0);

// Row-major element strides of `shape`.
std::vector<int64_t> strides_of(const Shape& shape);

}  // namespace lq::integer::detail
