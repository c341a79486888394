// Graph rewrites, one per file. Each returns whether it changed the graph.
#pragma once

#include "libquant/graph.hpp"

namespace lq::passes {

// Evaluates nodes whose inputs are all constant and stores their outputs as initializers.
bool fold_constants(Graph& graph);
// Folds an inference BatchNormalization into the weights and bias of the Conv,
// ConvTranspose or Gemm before it.
bool fuse_batchnorm(Graph& graph);
// Folds Mul/Add by per-channel constants after a Conv or ConvTranspose into its weights
// and bias.
bool fuse_conv_affine(Graph& graph);

// Output channels of a Conv (weights [M, C/group, k...]) or ConvTranspose (weights
// [C, M/group, k...]), and its weights with output channel m scaled by scale[m]
// (fuse_batchnorm.cpp).
int64_t output_channels(const Node& conv, const Tensor& weight);
Tensor scale_output_channels(const Node& conv, const Tensor& weight, const std::vector<double>& scale);
// Rewrites x * Clip(x + 3, 0, 6) / 6 as x * HardSigmoid(x) (HardSwish).
bool fuse_hardswish(Graph& graph);
// Replaces an If with a constant condition by the nodes of the branch it takes.
bool fold_if(Graph& graph);
// Pad(-FLT_MAX or -inf) -> MaxPool becomes the MaxPool's padding (Caffe's ceil-mode pooling).
bool fuse_pad_pool(Graph& graph);
// Removes Identity and inference-mode Dropout nodes.
bool eliminate_identity(Graph& graph);
// Removes nodes none of whose outputs is used or a graph output, then unused values.
bool remove_dead_nodes(Graph& graph);

}  // namespace lq::passes
