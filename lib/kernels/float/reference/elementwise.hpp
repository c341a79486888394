// Shared machinery of the elementwise math kernels: dtype dispatch, float16 handled
// through float32, and broadcast loops that collapse axes so the common cases (same
// shape, a scalar operand, a per-channel or per-row operand) run as tight loops the
// compiler vectorizes. Every output element is computed by one call in one chunk, so
// results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "kernels/float/kernel.hpp"
#include "kernels/float/reference/broadcast.hpp"

namespace lq::kernels::math {

// Chunk sizes for parallel_for: cheap arithmetic needs big chunks to pay for the
// hand-off, transcendental functions are worth splitting finer.
constexpr int64_t kCheapGrain = 32768;
constexpr int64_t kCostlyGrain = 8192;

template <typename T>
struct Type {
  using type = T;
};
template <typename... Ts>
struct TypeList {};

using FloatTypes = TypeList<float, double>;
using SignedTypes = TypeList<float, double, int8_t, int16_t, int32_t, int64_t>;
using NumericTypes = TypeList<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t,
                              uint32_t, uint64_t>;

// Fails with kUnsupported, listing what the kernel accepts.
[[noreturn]] inline void fail_dtype(const KernelContext& ctx, size_t index,
                                    const std::vector<DType>& supported) {
  std::string names;
  for (DType d : supported) names += std::string(names.empty() ? "" : ", ") + dtype_name(d);
  ctx.fail(StatusCode::kUnsupported, "input {} has dtype {}; this kernel supports {}", index,
           dtype_name(ctx.input(index).dtype()), names);
}

// Calls f(Type<T>{}) for the T of `dtype` in the list; otherwise fails naming input
// `index`, the supported dtypes plus `also_supported` (handled by the caller, e.g. float16).
template <typename... Ts, typename F>
void dispatch(const KernelContext& ctx, size_t index, DType dtype, TypeList<Ts...>, F&& f,
              std::initializer_list<DType> also_supported = {}) {
  const bool matched = ((dtype == DTypeOf<Ts>::value && (f(Type<Ts>{}), true)) || ...);
  if (!matched) {
    std::vector<DType> supported{DTypeOf<Ts>::value...};
    supported.insert(supported.end(), also_supported.begin(), also_supported.end());
    fail_dtype(ctx, index, supported);
  }
}

// Float16 is computed in float32 and rounded once per result (as numpy does).
inline bool is_half(const Tensor& t) { return t.dtype() == DType::kFloat16; }
inline Tensor float_from_half(const Tensor& t) { return is_half(t) ? t.cast(DType::kFloat32) : t; }

// Wrapping integer arithmetic: ONNX leaves overflow to the platform; we give two's
// complement instead of undefined behaviour. Small types are promoted to (unsigned) int.
template <typename T>
using WrapType = std::make_unsigned_t<decltype(T() + T())>;
template <typename T>
T wrap_add(T a, T b) {
  return static_cast<T>(static_cast<WrapType<T>>(a) + static_cast<WrapType<T>>(b));
}
template <typename T>
T wrap_sub(T a, T b) {
  return static_cast<T>(static_cast<WrapType<T>>(a) - static_cast<WrapType<T>>(b));
}
template <typename T>
T wrap_mul(T a, T b) {
  return static_cast<T>(static_cast<WrapType<T>>(a) * static_cast<WrapType<T>>(b));
}

// The output index space of a broadcast, with adjacent axes merged wherever every
// input walks them as one axis (same shape -> 1 axis, [N,C,H,W] with [C,1,1] ->
// [N,C,HW]). Never empty: a scalar output is dims {1}.
template <size_t N>
struct BroadcastLoop {
  Shape dims;
  std::array<std::vector<int64_t>, N> strides;  // per input, in elements (0 = broadcast)
  int64_t total = 0;
};

template <size_t N>
BroadcastLoop<N> plan_broadcast(const Shape& out, const std::array<const Shape*, N>& inputs) {
  std::array<std::vector<int64_t>, N> full;
  for (size_t k = 0; k < N; ++k) full[k] = broadcast_strides(*inputs[k], out);
  BroadcastLoop<N> loop;
  loop.total = shape_numel(out);
  for (size_t axis = 0; axis < out.size(); ++axis) {
    if (out[axis] == 1) continue;
    bool merges = !loop.dims.empty();
    for (size_t k = 0; merges && k < N; ++k) {
      merges = loop.strides[k].back() == full[k][axis] * out[axis];
    }
    if (merges) {
      loop.dims.back() *= out[axis];
      for (size_t k = 0; k < N; ++k) loop.strides[k].back() = full[k][axis];
      continue;
    }
    loop.dims.push_back(out[axis]);
    for (size_t k = 0; k < N; ++k) loop.strides[k].push_back(full[k][axis]);
  }
  if (loop.dims.empty()) {
    loop.dims.push_back(1);
    for (size_t k = 0; k < N; ++k) loop.strides[k].push_back(0);
  }
  return loop;
}

// Calls row(out_offset, length, in_offsets, in_inner_strides) for the runs along the
// innermost merged axis that cover output elements [begin, end).
template <size_t N, typename Row>
void for_each_row(const BroadcastLoop<N>& loop, int64_t begin, int64_t end, Row&& row) {
  const size_t rank = loop.dims.size();
  const size_t inner_axis = rank - 1;
  std::vector<int64_t> index(rank);
  std::array<int64_t, N> offsets{};
  std::array<int64_t, N> inner_strides{};
  int64_t rest = begin;
  for (size_t axis = rank; axis-- > 0;) {
    index[axis] = rest % loop.dims[axis];
    rest /= loop.dims[axis];
    for (size_t k = 0; k < N; ++k) offsets[k] += index[axis] * loop.strides[k][axis];
  }
  for (size_t k = 0; k < N; ++k) inner_strides[k] = loop.strides[k][inner_axis];
  const int64_t inner = loop.dims[inner_axis];
  for (int64_t pos = begin; pos < end;) {
    const int64_t length = std::min(end - pos, inner - index[inner_axis]);
    row(pos, length, offsets, inner_strides);
    pos += length;
    index[inner_axis] += length;
    for (size_t k = 0; k < N; ++k) offsets[k] += length * inner_strides[k];
    if (index[inner_axis] < inner) continue;
    // Carry into the outer axes.
    for (size_t axis = rank; axis-- > 0;) {
      for (size_t k = 0; k < N; ++k) offsets[k] -= index[axis] * loop.strides[k][axis];
      index[axis] = 0;
      if (axis == 0) break;
      ++index[axis - 1];
      for (size_t k = 0; k < N; ++k) offsets[k] += loop.strides[k][axis - 1];
      if (index[axis - 1] < loop.dims[axis - 1]) break;
    }
  }
}

// out[i] = op(a[i], b[i]) with broadcasting. Along the innermost merged axis each input
// is either contiguous (stride 1) or repeated (stride 0), so every run is one of these
// tight loops; both repeat only for a one-element output.
template <typename A, typename B, typename Out, typename Op>
void binary_rows(const BroadcastLoop<2>& loop, const A* a, const B* b, Out* out, int64_t begin,
                 int64_t end, Op op) {
  for_each_row(loop, begin, end,
               [&](int64_t pos, int64_t n, const std::array<int64_t, 2>& offset,
                   const std::array<int64_t, 2>& stride) {
                 Out* o = out + pos;
                 const A* x = a + offset[0];
                 const B* y = b + offset[1];
                 if (stride[0] == 1 && stride[1] == 1) {
                   for (int64_t i = 0; i < n; ++i) o[i] = op(x[i], y[i]);
                 } else if (stride[0] == 1) {
                   const B y0 = *y;
                   for (int64_t i = 0; i < n; ++i) o[i] = op(x[i], y0);
                 } else if (stride[1] == 1) {
                   const A x0 = *x;
                   for (int64_t i = 0; i < n; ++i) o[i] = op(x0, y[i]);
                 } else {
                   for (int64_t i = 0; i < n; ++i) o[i] = op(*x, *y);
                 }
               });
}

// A new tensor of dtype Out and the broadcast shape of a and b, out = op(a, b).
template <typename A, typename B, typename Out, typename Op>
Tensor map_binary(const KernelContext& ctx, const Tensor& a, const Tensor& b, Op op,
                  int64_t grain = kCheapGrain) {
  const Shape shape = broadcast_shapes(ctx, {a.shape(), b.shape()});
  // Every element is written below.
  Tensor result = ctx.allocate_uninitialized(DTypeOf<Out>::value, shape);
  const BroadcastLoop<2> loop = plan_broadcast<2>(shape, {&a.shape(), &b.shape()});
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  Out* po = result.data<Out>();
  ctx.pool.parallel_for(
      loop.total,
      [&](int64_t begin, int64_t end) { binary_rows(loop, pa, pb, po, begin, end, op); }, grain);
  return result;
}

// A new tensor of x's shape, out[i] = op(x[i]).
template <typename In, typename Out, typename Op>
Tensor map_unary(const KernelContext& ctx, const Tensor& x, Op op, int64_t grain = kCheapGrain) {
  Tensor result = ctx.allocate_uninitialized(DTypeOf<Out>::value, x.shape());  // all written
  const In* in = x.data<In>();
  Out* out = result.data<Out>();
  ctx.pool.parallel_for(
      x.numel(),
      [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = op(in[i]);
      },
      grain);
  return result;
}

// A result computed in float32 for a float16 input 0, rounded back to float16.
inline Tensor half_if_input_half(const KernelContext& ctx, const Tensor& result) {
  return is_half(ctx.input(0)) ? result.cast(DType::kFloat16) : result;
}

// Output 0 = op(input 0) elementwise, in input 0's dtype from Types (float16 via float32).
template <typename Types, typename Op>
void unary_kernel(KernelContext& ctx, Op op, int64_t grain = kCheapGrain) {
  const Tensor x = float_from_half(ctx.input(0));
  Tensor result;
  dispatch(ctx, 0, x.dtype(), Types{},
           [&](auto type) {
             using T = typename decltype(type)::type;
             result = map_unary<T, T>(
                 ctx, x, [&op](T v) { return static_cast<T>(op(v)); }, grain);
           },
           {DType::kFloat16});
  ctx.outputs[0] = half_if_input_half(ctx, result);
}

// Both inputs of a binary op must share a dtype (ONNX type constraint T).
inline void require_same_dtype(const KernelContext& ctx, size_t index, size_t other) {
  const DType a = ctx.input(other).dtype();
  const DType b = ctx.input(index).dtype();
  if (a != b) {
    ctx.fail_input(index, "dtype {} differs from input {}'s dtype {}; both must be the same",
                   dtype_name(b), other, dtype_name(a));
  }
}

// Normalizes an axis in [-rank, rank) to [0, rank); fails naming the attribute otherwise.
inline int64_t normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank,
                              const char* what) {
  if (axis < -rank || axis >= rank) {
    ctx.fail(StatusCode::kInvalidArgument, "{} {} is out of range for rank {} (valid: [{}, {}])",
             what, axis, rank, -rank, rank - 1);
  }
  return axis < 0 ? axis + rank : axis;
}

}  // namespace lq::kernels::math
