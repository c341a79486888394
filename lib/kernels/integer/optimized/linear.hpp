// Optimized integer Conv, ConvTranspose, MatMul and Gemm for 8-bit data (int8, uint8) and
// 8-bit weights (int8, uint8, int4 stored as int8): int32 dot products of packed operands
// (int8_kernels.hpp), the zero points folded in through operand sums, and the same
// requantization as the reference. They return the reference's codes bit for bit, for
// any thread count, and nothing for the cases they do not cover (int16 operands, products
// whose sums can leave int32, (transposed) Conv beyond two spatial axes, a Gemm C with
// both M and N axes), which the public kernels then hand to their loops. A bias
// that makes the reference accumulate in int64 is added in int64 to the exact int32 sum.
#pragma once

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/int8_kernels.hpp"

namespace lq::integer::optimized {

// On a checked problem (detail::conv_problem, mat_mul_problem, gemm_problem).
std::optional<Tensor> conv(const detail::ConvProblem& problem, const Tensor& x, const Tensor& w,
                           const LinearQuant& quant, kernels::ThreadPool* pool,
                           const Int8Kernels& kernels = best_int8_kernels());
std::optional<Tensor> matrix_product(const detail::LinearProblem& problem, const Tensor& a,
                                     const Tensor& b, const LinearQuant& quant,
                                     kernels::ThreadPool* pool,
                                     const Int8Kernels& kernels = best_int8_kernels());

// ConvTranspose (1-D and 2-D) as a product of the weights [group][M/group × K, C/group]
// with the input [C, H × W] into int32 tap sums, which output rows then gather (col2im)
// and requantize; on a checked problem (detail::conv_transpose_problem).
std::optional<Tensor> conv_transpose(const detail::ConvTransposeProblem& problem, const Tensor& x,
                                     const Tensor& w, const LinearQuant& quant,
                                     kernels::ThreadPool* pool,
                                     const Int8Kernels& kernels = best_int8_kernels());

// The public kernels' signatures with a chosen kernel set, for tests.
std::optional<Tensor> conv(const Tensor& x, const Tensor& w, const Tensor* bias,
                           const ConvParams& params, kernels::ThreadPool* pool,
                           const Int8Kernels& kernels);
std::optional<Tensor> mat_mul(const Tensor& a, const Tensor& b, const Tensor* bias,
                              const LinearQuant& quant, kernels::ThreadPool* pool,
                              const Int8Kernels& kernels);
std::optional<Tensor> gemm(const Tensor& a, const Tensor& b, const Tensor* c,
                           const GemmParams& params, kernels::ThreadPool* pool,
                           const Int8Kernels& kernels);
std::optional<Tensor> conv_transpose(const Tensor& x, const Tensor& w, const Tensor* bias,
                                     const ConvTransposeParams& params, kernels::ThreadPool* pool,
                                     const Int8Kernels& kernels);

namespace internal {

// Multiply-adds per parallel_for chunk, at least: waking a worker costs microseconds
// (2^17 int8 multiply-adds are a few microseconds of VNNI work).
constexpr int64_t kMinChunkWork = int64_t{1} << 17;
// Bytes of one packed block of the lane operand (it stays in L2 while every panel of the
// broadcast operand meets it).
constexpr int64_t kBlockBytes = int64_t{1} << 17;

// Whether the dtypes allow the 8-bit kernels.
inline bool eight_bit(DType data, DType weight) {
  return (data == DType::kInt8 || data == DType::kUInt8) &&
         (weight == DType::kInt8 || weight == DType::kUInt8 || weight == DType::kInt4);
}

// Largest |sum| of `terms` products (x − zx)(w − zw) over the dtypes' codes, or -1 when it
// leaves int32 (then the kernels do not run).
inline int64_t product_bound(const LinearQuant& quant, DType data, DType weight, int64_t terms) {
  if (detail::linear_needs_int64(quant, data, weight, terms, {})) return -1;
  int64_t weight_max = 0;
  for (int32_t zp : quant.weight_zero_points) {
    weight_max = std::max(weight_max, detail::max_abs_offset(weight, zp));
  }
  return terms * detail::max_abs_offset(data, quant.input_zero_point) * weight_max;
}

// Whether a sum within `bound` plus `bias` can leave int32: then the bias is added to the
// exact int32 sum in int64 (requantize_row_wide).
inline bool wide_with_bias(int64_t bound, int64_t bias) {
  return bound + (bias < 0 ? -bias : bias) > std::numeric_limits<int32_t>::max();
}

// The low 32 bits of an exact sum: the wrapping arithmetic of the kernels.
inline int32_t wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

inline OutputCodes output_codes(const OutputSpec& spec) {
  const OutputKind kind = spec.dtype == DType::kInt8    ? OutputKind::kInt8
                          : spec.dtype == DType::kUInt8 ? OutputKind::kUInt8
                                                        : OutputKind::kInt16;
  return {kind, spec.zero_point, spec.min, spec.max};
}

inline RowTerms row_terms(int32_t constant, int32_t factor, Multiplier m) {
  return {constant, factor, m, lane_multiplier(m)};
}

inline int64_t round_up(int64_t v, int64_t multiple) {
  return (v + multiple - 1) / multiple * multiple;
}

// Runs fn(begin, end) over [0, n) on the pool, or inline without one.
void run_tasks(kernels::ThreadPool* pool, int64_t n, int64_t grain,
               const std::function<void(int64_t, int64_t)>& fn);

// A 1-D or 2-D window (Conv, ConvTranspose) on two axes; 1-D is one row. Position o reads
// input o × stride − pad + k × dilation (Conv), or input i reaches i × stride − pad +
// k × dilation (ConvTranspose).
struct Geometry2d {
  int64_t in_h, in_w, k_h, k_w, s_h, s_w, d_h, d_w, pad_top, pad_left, out_h, out_w;
};

// From per-axis sizes (1 or 2 spatial axes); `pads_begin` holds at least one entry per axis.
inline Geometry2d geometry_2d(const std::vector<int64_t>& input, const std::vector<int64_t>& kernel,
                              const std::vector<int64_t>& strides,
                              const std::vector<int64_t>& dilations,
                              const std::vector<int64_t>& pads_begin,
                              const std::vector<int64_t>& output) {
  if (input.size() == 1) {
    return {1, input[0], 1, kernel[0], 1, strides[0], 1, dilations[0], 0, pads_begin[0], 1, output[0]};
  }
  return {input[0],     input[1],     kernel[0],     kernel[1],     strides[0], strides[1],
          dilations[0], dilations[1], pads_begin[0], pads_begin[1], output[0],  output[1]};
}

}  // namespace internal

}  // namespace lq::integer::optimized
