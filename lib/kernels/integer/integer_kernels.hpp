// Integer reference kernels: what the fixed-point Simulator executes and what optimized
// integer kernels are tested against. Plain loops over lq::Tensor; data int8 / uint8 /
// int16, weights int4 (stored as int8) / int8 / uint8 / int16, biases int32 (int64 where
// int16 × int16 sums need it).
//
// Every kernel takes its quantization as integers precomputed by the compiler (zero points,
// Multipliers, clamp bounds, tables): no float arithmetic runs inside a kernel. The
// compiler's make_* builders (compiler/kernel_params.hpp) derive them from float scales
// once, at compile time; the kernels know nothing of QuantParams.
//
// Products are accumulated exactly, in int32 when the bound terms × max|x − zx| ×
// max|w − zw| + max|bias| fits, else in int64 (accumulator_is_int64); both give the same
// sums, so the choice changes speed, never results. Each sum is then requantized once
// (quantization/requantize.hpp). Errors throw lq::Error naming the op ("integer Conv: ...").
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "kernels/thread_pool.hpp"
#include "libquant/tensor.hpp"
#include "kernels/integer/requantize.hpp"

namespace lq::integer {

// The dtype, zero point and clamp bounds of an op's integer output. [min, max] is the
// dtype's range narrowed by a fused Relu / Clip.
struct OutputSpec {
  DType dtype = DType::kInt8;  // kInt8, kUInt8, kInt16
  int32_t zero_point = 0;
  int32_t min = -128;
  int32_t max = 127;

  template <class V>
  void fields(V& v) {
    v("dtype", dtype);
    v("zero_point", zero_point);
    v("min", min);
    v("max", max);
  }
};

constexpr float kNoClip = std::numeric_limits<float>::infinity();

// Whether a sum of `terms` products |a| <= a_max, |b| <= b_max plus |bias| <= bias_max can
// leave int32 (then the kernels accumulate in int64).
bool accumulator_is_int64(int64_t terms, int64_t a_max, int64_t b_max, int64_t bias_max);

// ---- Conv, Gemm, MatMul: sum((x − zx) × (w − zw[c])) + bias[c], requantized per channel.

// The quantization of a linear op. weight_zero_points and multipliers hold one entry, or
// one per output channel (Conv: M; Gemm / MatMul: the N columns of the weight).
struct LinearQuant {
  int32_t input_zero_point = 0;
  std::vector<int32_t> weight_zero_points{0};
  std::vector<Multiplier> multipliers;  // s_x × s_w[c] / s_y
  OutputSpec output;

  template <class V>
  void fields(V& v) {
    v("input_zero_point", input_zero_point);
    v("weight_zero_points", weight_zero_points);
    v("multipliers", multipliers);
    v("output", output);
  }
};

// ONNX Conv with auto_pad already resolved into pads (the compiler knows the shapes).
struct ConvParams {
  std::vector<int64_t> strides;    // per spatial axis; empty: all 1
  std::vector<int64_t> dilations;  // empty: all 1
  std::vector<int64_t> pads;       // begins then ends; empty: all 0
  int64_t group = 1;
  LinearQuant quant;

  template <class V>
  void fields(V& v) {
    v("strides", strides);
    v("dilations", dilations);
    v("pads", pads);
    v("group", group);
    v("quant", quant);
  }
};

// x [N, C, D1...] (int8/uint8/int16), w [M, C/group, K1...], optional bias [M] int32 or int64.
// `pool` splits the output positions across threads (results do not depend on it).
Tensor conv(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvParams& params,
            kernels::ThreadPool* pool = nullptr);

// ONNX MatMul (numpy semantics: 1-D operands promoted, batch dims broadcast); the optional
// bias [N] is a following Add folded in by the compiler. Per-channel quantization is along
// the last axis of b.
Tensor mat_mul(const Tensor& a, const Tensor& b, const Tensor* bias, const LinearQuant& quant,
               kernels::ThreadPool* pool = nullptr);

// ONNX Gemm with alpha and beta folded into the multipliers and the bias by the compiler:
// a [M, K] (or [K, M] with trans_a), b [K, N] (or [N, K]), c int32 broadcastable to [M, N].
struct GemmParams {
  bool trans_a = false;
  bool trans_b = false;
  LinearQuant quant;

  template <class V>
  void fields(V& v) {
    v("trans_a", trans_a);
    v("trans_b", trans_b);
    v("quant", quant);
  }
};
Tensor gemm(const Tensor& a, const Tensor& b, const Tensor* c, const GemmParams& params,
            kernels::ThreadPool* pool = nullptr);

// conv, mat_mul and gemm run optimized kernels (compiler/kernels/optimized) where the CPU
// and the case allow it: 8-bit data and weights with an int32 accumulator. Those give the
// codes of the plain reference loops below, bit for bit; tests compare the two.
Tensor conv_reference(const Tensor& x, const Tensor& w, const Tensor* bias,
                      const ConvParams& params, kernels::ThreadPool* pool = nullptr);
Tensor mat_mul_reference(const Tensor& a, const Tensor& b, const Tensor* bias,
                         const LinearQuant& quant, kernels::ThreadPool* pool = nullptr);
Tensor gemm_reference(const Tensor& a, const Tensor& b, const Tensor* c, const GemmParams& params,
                      kernels::ThreadPool* pool = nullptr);

// ONNX ConvTranspose with its geometry resolved by the compiler (output_shape,
// output_padding and auto_pad become pads, which may be negative, and output sizes):
// output position o along an axis receives input i through tap k when
// i × stride + k × dilation − pads_begin == o. x [N, C, D1...], w [C, M/group, K1...]
// with per-channel parameters along axis 1 (M/group entries, shared by the groups), bias
// [M] int32 or int64. Sums are exact in int64.
struct ConvTransposeParams {
  std::vector<int64_t> strides;    // per spatial axis
  std::vector<int64_t> dilations;  // per spatial axis
  std::vector<int64_t> pads;       // begins then ends
  std::vector<int64_t> output;     // spatial output sizes
  int64_t group = 1;
  LinearQuant quant;

  template <class V>
  void fields(V& v) {
    v("strides", strides);
    v("dilations", dilations);
    v("pads", pads);
    v("output", output);
    v("group", group);
    v("quant", quant);
  }
};
Tensor conv_transpose(const Tensor& x, const Tensor& w, const Tensor* bias,
                      const ConvTransposeParams& params, kernels::ThreadPool* pool = nullptr);
// The gather formulation (the float kernel's loops), which tests compare conv_transpose with.
Tensor conv_transpose_reference(const Tensor& x, const Tensor& w, const Tensor* bias,
                                const ConvTransposeParams& params, kernels::ThreadPool* pool = nullptr);

// ---- Elementwise with rescaling.

// out = zo + round((x − zx) × M): moves a tensor to other quantization parameters.
struct Rescale {
  int32_t zero_point = 0;  // of the input
  Multiplier multiplier;   // s_in / s_out

  template <class V>
  void fields(V& v) {
    v("zero_point", zero_point);
    v("multiplier", multiplier);
  }
};
Tensor rescale(const Tensor& x, const Rescale& rescale, const OutputSpec& output);
// The plain loop rescale is tested against (rescale runs byte tables for 8-bit codes).
Tensor rescale_reference(const Tensor& x, const Rescale& rescale, const OutputSpec& output);
// The parameters of the Rescale kernel: requantization with clamps (Relu / Clip on int16,
// Identity to new parameters).
struct RescaleOp {
  Rescale rescale;
  OutputSpec output;

  template <class V>
  void fields(V& v) {
    v("rescale", rescale);
    v("output", output);
  }
};

// TFLite's Add: each input's (x − z) << left_shift is scaled to twice the larger input
// scale, the two are summed exactly and the sum is requantized to the output.
struct AddParams {
  int32_t a_zero_point = 0;
  int32_t b_zero_point = 0;
  int left_shift = 20;           // 20 when both inputs are 8-bit, 14 with an int16 one
  Multiplier a_multiplier;       // s_a / (2 max(s_a, s_b))
  Multiplier b_multiplier;       // s_b / (2 max(s_a, s_b))
  Multiplier output_multiplier;  // 2 max(s_a, s_b) / (2^left_shift s_out)
  OutputSpec output;
  bool subtract = false;  // Sub: a − b

  template <class V>
  void fields(V& v) {
    v("a_zero_point", a_zero_point);
    v("b_zero_point", b_zero_point);
    v("left_shift", left_shift);
    v("a_multiplier", a_multiplier);
    v("b_multiplier", b_multiplier);
    v("output_multiplier", output_multiplier);
    v("output", output);
    v("subtract", subtract);
  }
};
// ONNX multidirectional broadcasting; a − b when params.subtract.
Tensor add(const Tensor& a, const Tensor& b, const AddParams& params);

// (a − za)(b − zb) requantized by one multiplier s_a s_b / s_out (int64 products for int16).
struct MulParams {
  int32_t a_zero_point = 0;
  int32_t b_zero_point = 0;
  Multiplier multiplier;
  OutputSpec output;

  template <class V>
  void fields(V& v) {
    v("a_zero_point", a_zero_point);
    v("b_zero_point", b_zero_point);
    v("multiplier", multiplier);
    v("output", output);
  }
};
Tensor mul(const Tensor& a, const Tensor& b, const MulParams& params);

// add and mul run optimized rows (compiler/kernels/optimized/elementwise.hpp) for 8-bit
// inputs; they give the codes of these plain loops bit for bit, and tests compare the two.
Tensor add_reference(const Tensor& a, const Tensor& b, const AddParams& params);
Tensor mul_reference(const Tensor& a, const Tensor& b, const MulParams& params);

// Div of two integer tensors: (a − za) / (b − zb) × s_a / (s_b s_out), one exact rounding
// (ties away from zero); a zero divisor saturates by the numerator's sign. The multiplier
// of the MulParams is s_a / (s_b s_out).
Tensor div(const Tensor& a, const Tensor& b, const MulParams& params);

// Concat along `axis` (non-negative), each input rescaled to the output's parameters
// (an identity when they are equal).
struct ConcatParams {
  int64_t axis = 0;
  std::vector<Rescale> inputs;  // one per input
  OutputSpec output;

  template <class V>
  void fields(V& v) {
    v("axis", axis);
    v("inputs", inputs);
    v("output", output);
  }
};
Tensor concat(const std::vector<const Tensor*>& inputs, const ConcatParams& params);
// The plain loop concat is tested against (concat copies or table-rescales blocks).
Tensor concat_reference(const std::vector<const Tensor*>& inputs, const ConcatParams& params);

// ---- Pooling on N x C x D1... tensors; geometry as ONNX after auto_pad resolution.
struct PoolWindow {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;    // empty: all 1
  std::vector<int64_t> dilations;  // empty: all 1
  std::vector<int64_t> pads;       // begins then ends; empty: all 0
  bool ceil_mode = false;

  template <class V>
  void fields(V& v) {
    v("kernel", kernel);
    v("strides", strides);
    v("dilations", dilations);
    v("pads", pads);
    v("ceil_mode", ceil_mode);
  }
};

// Integer max over each window; output has the input's dtype and parameters.
Tensor max_pool(const Tensor& x, const PoolWindow& window);

// sum(x − zx) over a window, divided by its count with rounding: the multiplier
// s_in / s_out is divided by each count in integers (divide_multiplier).
struct AveragePoolParams {
  PoolWindow window;  // unused by global_average_pool
  bool count_include_pad = false;
  int32_t input_zero_point = 0;
  Multiplier multiplier;  // s_in / s_out
  OutputSpec output;

  template <class V>
  void fields(V& v) {
    v("window", window);
    v("count_include_pad", count_include_pad);
    v("input_zero_point", input_zero_point);
    v("multiplier", multiplier);
    v("output", output);
  }
};
Tensor average_pool(const Tensor& x, const AveragePoolParams& params);
Tensor global_average_pool(const Tensor& x, const AveragePoolParams& params);
// The loop on widened offsets global_average_pool is tested against.
Tensor global_average_pool_reference(const Tensor& x, const AveragePoolParams& params);

// ---- Data movement: outputs keep the input's dtype and parameters.

// Same elements, new shape (a view sharing x's buffer).
Tensor reshape(const Tensor& x, const Shape& shape);
// out.dim(d) == x.dim(perm[d]).
Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm);
// ONNX Slice: per listed axis (negative counts from the back), start / end clamped as ONNX
// does; steps empty means all 1.
struct SliceParams {
  std::vector<int64_t> starts;
  std::vector<int64_t> ends;
  std::vector<int64_t> axes;   // empty: 0, 1, ...
  std::vector<int64_t> steps;  // empty: all 1
};
Tensor slice(const Tensor& x, const SliceParams& params);
// ONNX Pad: pads (begins then ends, negative crops) with `value` (the quantized constant,
// usually the zero point) or the edge / reflect modes.
enum class PadMode { kConstant, kEdge, kReflect };
struct PadParams {
  std::vector<int64_t> pads;
  PadMode mode = PadMode::kConstant;
  int32_t value = 0;
};
Tensor pad(const Tensor& x, const PadParams& params);
// Nearest-neighbour Resize: out[j0, j1, ...] = x[source[0][j0], source[1][j1], ...]; the
// compiler computes `source` (one index list per axis) from the ONNX coordinate transform.
Tensor resize_nearest(const Tensor& x, const std::vector<std::vector<int64_t>>& source);

// The parameters of the Gather kernel, the separable data movement the compiler lowers
// Reshape, Transpose, Slice, Pad, Resize (nearest), ... to:
// out[j0, ..., jr] = in.flat[offsets[0][j0] + ... + offsets[r][jr]], or the fill code
// where an offset is detail::kFill (Pad's constant); run by detail::gather_axes.
struct GatherOp {
  std::vector<std::vector<int64_t>> offsets;
  int32_t fill = 0;

  template <class V>
  void fields(V& v) {
    v("axes", "offsets", offsets);  // one offset list per output axis
    v("fill", fill);
  }
};

// ---- Lookup tables.

// out = values[x − qmin(input_dtype)]: one entry per input code (256, or 65536 for int16).
struct LookupTable {
  DType input_dtype = DType::kInt8;   // kInt8, kUInt8, kInt16
  DType output_dtype = DType::kInt8;  // kInt8, kUInt8, kInt16
  std::vector<int32_t> values;

  template <class V>
  void fields(V& v) {
    v("input_dtype", input_dtype);
    v("output_dtype", output_dtype);
    v("values", values);
  }
};
Tensor lookup(const Tensor& x, const LookupTable& table);
// The plain loop (widen to table indices, index, narrow) lookup is tested against.
Tensor lookup_reference(const Tensor& x, const LookupTable& table);

// Softmax of an 8-bit or int16 input along `axis` (or over all axes from `axis` on, ONNX before
// opset 13): e = exp_table[max − x] holds round(exp(−s_in d) 2^30), the row's integer sum
// S divides the multiplier 1 / s_out (divide_multiplier), and each e is requantized by it.
// Error in output LSBs: 0.5 from the final rounding, plus (n + 1) 2^−31 / s_out from the
// table's rounding (n = row length) and 2^−30 / s_out from the two multiplier roundings:
// about n × 1.2e-7 LSB for 8-bit outputs (n × 3e-5 for int16 ones).
constexpr int kSoftmaxTableBits = 30;  // exp(0) = 2^30: a row of n entries sums below n 2^30
struct SoftmaxParams {
  int64_t axis = 0;  // non-negative
  bool coerce_2d = false;
  DType input_dtype = DType::kInt8;  // kInt8, kUInt8, kInt16
  std::vector<int32_t> exp_table;    // 256 entries (65536 for int16), index max − x
  Multiplier multiplier;             // 1 / s_out
  OutputSpec output;

  template <class V>
  void fields(V& v) {
    v("axis", axis);
    v("coerce_2d", coerce_2d);
    v("input_dtype", input_dtype);
    v("exp_table", exp_table);
    v("multiplier", multiplier);
    v("output", output);
  }
};
Tensor softmax(const Tensor& x, const SoftmaxParams& params);

// ---- The built-in kernels, in registry order: X(descriptor) each, `const IntegerKernel&
// descriptor()` (kernels/integer/registry.hpp) being defined beside its kernel, e.g. in
// reference/conv.cpp. A new op adds its params struct above and its line here. Order matters
// only where kernels share a .lqm message or a params type: the first one names it in errors
// (Mul before Div, AveragePool before GlobalAveragePool).
#define LQ_INTEGER_KERNELS(X) \
  X(conv_kernel) \
  X(gemm_kernel) \
  X(mat_mul_kernel) \
  X(add_kernel) \
  X(mul_kernel) \
  X(concat_kernel) \
  X(rescale_kernel) \
  X(max_pool_kernel) \
  X(average_pool_kernel) \
  X(global_average_pool_kernel) \
  X(gather_kernel) \
  X(lookup_kernel) \
  X(softmax_kernel) \
  X(conv_transpose_kernel) \
  X(div_kernel)

}  // namespace lq::integer
