// ONNX multidirectional broadcasting, shared by every elementwise kernel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

// The broadcast shape of all `shapes`; fails naming the node if they do not broadcast.
Shape broadcast_shapes(const KernelContext& ctx, const std::vector<Shape>& shapes);

// Element strides of `in` read as a tensor of shape `out` (0 along broadcast axes).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Calls f(out_index, offsets) for every element of `out`, where offsets[k] is the
// element offset into input k. The innermost axis is walked in a tight loop.
template <size_t N, typename F>
void for_each_broadcast(const Shape& out, const std::array<const Shape*, N>& in_shapes, F&& f) {
  const size_t rank = out.size();
  std::array<std::vector<int64_t>, N> strides;
  for (size_t k = 0; k < N; ++k) strides[k] = broadcast_strides(*in_shapes[k], out);
  const int64_t total = shape_numel(out);
  if (total == 0) return;
  if (rank == 0) {
    std::array<int64_t, N> offsets{};
    f(int64_t{0}, offsets);
    return;
  }
  const int64_t inner = out[rank - 1];
  std::vector<int64_t> index(rank, 0);
  std::array<int64_t, N> base{};
  for (int64_t out_index = 0; out_index < total; out_index += inner) {
    std::array<int64_t, N> offsets = base;
    for (int64_t i = 0; i < inner; ++i) {
      f(out_index + i, offsets);
      for (size_t k = 0; k < N; ++k) offsets[k] += strides[k][rank - 1];
    }
    // Advance the outer index (all axes but the last).
    for (size_t axis = rank - 1; axis-- > 0;) {
      ++index[axis];
      for (size_t k = 0; k < N; ++k) base[k] += strides[k][axis];
      if (index[axis] < out[axis]) break;
      for (size_t k = 0; k < N; ++k) base[k] -= strides[k][axis] * out[axis];
      index[axis] = 0;
    }
  }
}

}  // namespace lq::kernels
