// Helpers shared by the shape and data-movement kernels (the ops of register_tensor.cpp).
// Most of those ops only move elements, so they copy dtype_size(dtype) bytes per element
// and work for every dtype.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

// `axis` in [-rank, rank) made non-negative; fails naming the node and `what` otherwise.
int64_t normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank, const char* what);

// The values of an int32 or int64 input (shapes, axes, pads, repeats, ...).
std::vector<int64_t> int_list_input(const KernelContext& ctx, size_t index);

// Element strides of a row-major tensor of `shape`.
std::vector<int64_t> row_major_strides(const Shape& shape);

// One element of `dtype` holding `value` (converted as Cast does), as raw bytes.
std::vector<uint8_t> element_bytes(DType dtype, double value);

// Marks an output position that takes the fill value instead of an input element.
constexpr int64_t kFillOffset = -1;

// The gather every axis-separable op reduces to (Slice, Pad, Tile, Expand, Transpose,
// nearest Resize, ...): with `offsets[d]` holding out.dim(d) element offsets into `in`,
//   out[j_0, ..., j_{r-1}] = in.flat[offsets[0][j_0] + ... + offsets[r-1][j_{r-1}]],
// or the element `fill` (dtype_size bytes) where any offsets[d][j_d] is kFillOffset.
// Runs in parallel over output rows.
void gather_by_axis_offsets(const KernelContext& ctx, const Tensor& in,
                            const std::vector<std::vector<int64_t>>& offsets, Tensor& out,
                            const uint8_t* fill = nullptr);

// out = in, read as a tensor of `in_shape` (same element count), with its axes permuted:
// out.dim(d) == in_shape[perm[d]]. `out` must already have that shape.
void permute_copy(const KernelContext& ctx, const Tensor& in, const Shape& in_shape,
                  const std::vector<int64_t>& perm, Tensor& out);

// For every element of a tensor of `shape` (row-major order), the element offset of
// the same multi-index in a tensor with `strides`, leaving out the coordinate along
// `skip_axis` (GatherElements / ScatterElements add the indexed one).
std::vector<int64_t> offsets_except_axis(const Shape& shape, const std::vector<int64_t>& strides,
                                         size_t skip_axis);

// The int32/int64 indices of input `input` into an axis of size `dim`, in
// [-dim, dim - 1]; negative ones count from the back and are made non-negative.
std::vector<int64_t> axis_indices(const KernelContext& ctx, size_t input, int64_t dim);

// GatherElements / ScatterElements: checks that `indices` (input `indices_input`) has
// the rank of `data` and no larger dimension off `axis`; returns, per index position,
// the data offset of that position without the indexed axis.
std::vector<int64_t> element_positions(const KernelContext& ctx, const Shape& data,
                                       const Shape& indices, size_t axis, size_t indices_input);

// ScatterND / ScatterElements: how an update combines with the element it lands on
// (the `reduction` attribute: add and mul since opset 16, max and min since 18).
enum class ScatterReduction { kNone, kAdd, kMul, kMax, kMin };
ScatterReduction scatter_reduction(const KernelContext& ctx);

// For each k, combines the `block` elements of `updates` starting at k * block into
// `out` starting at element offset out_offsets[k], in order of k (so with repeated
// offsets and no reduction the last update wins). Fails on dtypes the reduction
// cannot do arithmetic on.
void scatter_blocks(const KernelContext& ctx, ScatterReduction reduction, const Tensor& updates,
                    const std::vector<int64_t>& out_offsets, int64_t block, Tensor& out);

// Calls f(T{}) with the C++ type of a numeric dtype (not float16, int4, bool) and returns
// true, or returns false for the other dtypes.
template <typename F>
bool visit_numeric(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat32:
      f(float{});
      return true;
    case DType::kFloat64:
      f(double{});
      return true;
    case DType::kInt8:
      f(int8_t{});
      return true;
    case DType::kUInt8:
      f(uint8_t{});
      return true;
    case DType::kInt16:
      f(int16_t{});
      return true;
    case DType::kUInt16:
      f(uint16_t{});
      return true;
    case DType::kInt32:
      f(int32_t{});
      return true;
    case DType::kUInt32:
      f(uint32_t{});
      return true;
    case DType::kInt64:
      f(int64_t{});
      return true;
    case DType::kUInt64:
      f(uint64_t{});
      return true;
    default:
      return false;
  }
}

}  // namespace lq::kernels
