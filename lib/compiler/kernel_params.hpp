// Builders of the integer kernels' parameters from the Quantizer's float parameters: the
// compiler calls them once per instruction, so the kernels (kernels/integer) read only
// integers and know nothing of QuantParams.
#pragma once

#include <functional>

#include "kernels/integer/integer_kernels.hpp"
#include "libquant/quantizer.hpp"

namespace lq::compiler {

using integer::kNoClip;

// A per-tensor `output`'s spec with a fused Clip(clip_min, clip_max) (Relu: clip_min = 0)
// quantized like its float output would be, so the clamp equals fake quantization's.
integer::OutputSpec make_output_spec(const QuantParams& output, float clip_min = -kNoClip,
                                     float clip_max = kNoClip);

// From the float model's parameters: `weight` per tensor or per channel (any axis; the
// channels are the op's output channels), a fused Clip as in make_output_spec.
integer::LinearQuant make_linear_quant(const QuantParams& input, const QuantParams& weight,
                                       const QuantParams& output, float clip_min = -kNoClip,
                                       float clip_max = kNoClip);

integer::Rescale make_rescale(const QuantParams& input, const QuantParams& output);

integer::AddParams make_add_params(const QuantParams& a, const QuantParams& b,
                                   const QuantParams& output, float clip_min = -kNoClip,
                                   float clip_max = kNoClip);

// Fails unless the two inputs and the output of a binary op have per-tensor parameters.
void require_per_tensor(const char* op, const QuantParams& a, const QuantParams& b,
                        const QuantParams& output);
// Mul and Div: both zero points, `real_multiplier` and the output spec with a fused Clip.
integer::MulParams two_operand_params(const QuantParams& a, const QuantParams& b,
                                      const QuantParams& output, double real_multiplier,
                                      float clip_min, float clip_max);
integer::MulParams make_mul_params(const QuantParams& a, const QuantParams& b,
                                   const QuantParams& output, float clip_min = -kNoClip,
                                   float clip_max = kNoClip);
// The multiplier of Div's MulParams is s_a / (s_b s_out).
integer::MulParams make_div_params(const QuantParams& a, const QuantParams& b,
                                   const QuantParams& output, float clip_min = -kNoClip,
                                   float clip_max = kNoClip);

integer::AveragePoolParams make_average_pool_params(const QuantParams& input,
                                                    const QuantParams& output);

// values[i] = quantize(f(dequantize(code i))) with QuantizeLinear's rounding, so a table op
// equals fake quantization of f exactly (when f is computed as the float kernel does).
integer::LookupTable make_lookup_table(const QuantParams& input, const QuantParams& output,
                                       const std::function<float(float)>& f);

// The float functions of the table ops, written as the float kernels compute them.
float sigmoid_function(float x);
float tanh_function(float x);
float exp_function(float x);
float hard_sigmoid_function(float x, float alpha, float beta);  // ONNX defaults 0.2, 0.5
float hard_swish_function(float x);

integer::SoftmaxParams make_softmax_params(const QuantParams& input, const QuantParams& output,
                                           int64_t axis, bool coerce_2d = false);

}  // namespace lq::compiler
