// What each input of an op is to the quantizer: data that flows (quantized), weights
// (quantized, maybe per channel), a bias (int32), or a parameter that stays as it is
// (shapes, indices, scales of Resize, Clip bounds, ...).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "libquant/graph.hpp"

namespace lq::roles {

enum class InputRole { kData, kWeight, kBias, kParameter };

InputRole input_role(const Node& node, size_t index);
// True when some use reads the value as data or weights, or it is a graph output/input.
bool is_data_value(const Value& value);
// Ops whose outputs are a selection or rearrangement of input 0's values.
bool is_pass_through(const Node& node);
// The output-channel axis of a weight tensor (per-channel quantization), -1 if none.
int weight_channel_axis(const Node& node, const Tensor& weight);
// The bias input of Conv/ConvTranspose/Gemm when it is constant, else nullptr.
const Value* bias_input(const Node& node);
// The Relu or Clip (constant bounds) that is the only reader of `v`, the output of a Conv,
// ConvTranspose, Gemm, MatMul, Add, Sub or Mul, or nullptr. Such a pair has one
// quantization point, after the activation (as TFLite and ONNX Runtime fuse them): the
// Quantizer gives `v` no parameters and the Compiler clamps the op's output.
const Node* fused_activation(const Value& v);

// The bounds of a Relu ([0, inf)) or a Clip: attributes before opset 11, constant scalar
// inputs after, +-inf where absent. nullopt when a bound is computed at run time.
std::optional<std::pair<float, float>> clip_bounds(const Node& node);

// Ops that work element by element in every input: with every operand but one a constant
// scalar, a function of one tensor (one table of its codes).
bool is_elementwise(const Node& node);

// The inner values of elementwise chains: a value computed by elementwise ops (constant
// operands scalars) from one tensor x and read only by elementwise ops computing from the
// same x. The gate of x * HardSigmoid(x) (HardSwish), of x * Sigmoid(x) (SiLU), or x + 3
// in Clip(x + 3, 0, 6) are such values. A chain has one quantization point, at its ends:
// the Quantizer gives its inner values no parameters, and the Compiler lowers each end as
// one table of x's codes (equal to fake quantization, which computes the chain in float).
// `included`: nodes that may take part (e.g. those the config quantizes).
std::set<const Value*> elementwise_chain_inner(const Graph& graph,
                                               const std::function<bool(const Node&)>& included);

}  // namespace lq::roles
