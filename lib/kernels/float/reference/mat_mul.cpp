// MatMul: numpy matmul semantics (batched, broadcast, 1-D operands promoted).
#include "kernels/float/reference/mat_mul.hpp"

#include <type_traits>

#include "kernels/float/reference/broadcast.hpp"
#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels {

namespace {

// Element offset of every output batch in an operand with `batch` leading dims.
std::vector<int64_t> batch_offsets(const Shape& batch, const Shape& out_batch,
                                   int64_t matrix_size) {
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(shape_numel(out_batch)));
  const std::array<const Shape*, 1> shapes{&batch};
  for_each_broadcast<1>(out_batch, shapes, [&](int64_t, const std::array<int64_t, 1>& at) {
    offsets.push_back(at[0] * matrix_size);
  });
  return offsets;
}

// Integer products wrap around (two's complement) instead of overflowing into UB.
template <typename T, bool = std::is_integral_v<T>>
struct AccumulatorOf {
  using type = T;
};
template <typename T>
struct AccumulatorOf<T, true> {
  using type = std::make_unsigned_t<T>;
};
template <typename T>
using Accumulator = typename AccumulatorOf<T>::type;

template <typename T>
void mat_mul_typed(KernelContext& ctx, const MatMulPlan& p) {
  const T* a = ctx.input(0).data<T>();
  const T* b = ctx.input(1).data<T>();
  T* y = ctx.make_output(0, ctx.input(0).dtype(), p.output).template data<T>();
  const int64_t batches = static_cast<int64_t>(p.a_offsets.size());
  ctx.pool.parallel_for(batches * p.m, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t batch = row / p.m;
      const T* a_row = a + p.a_offsets[static_cast<size_t>(batch)] + (row % p.m) * p.k;
      const T* b_mat = b + p.b_offsets[static_cast<size_t>(batch)];
      for (int64_t j = 0; j < p.n; ++j) {
        Accumulator<T> dot = 0;
        for (int64_t l = 0; l < p.k; ++l) {
          dot += static_cast<Accumulator<T>>(a_row[l]) *
                 static_cast<Accumulator<T>>(b_mat[l * p.n + j]);
        }
        y[row * p.n + j] = static_cast<T>(dot);
      }
    }
  });
}

}  // namespace

MatMulPlan plan_mat_mul(const KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.rank() == 0) ctx.fail_input(0, "is a scalar; MatMul needs rank >= 1");
  if (b.rank() == 0) ctx.fail_input(1, "is a scalar; MatMul needs rank >= 1");
  if (b.dtype() != a.dtype()) {
    ctx.fail_input(1, "dtype {} differs from A's dtype {}", dtype_name(b.dtype()),
                   dtype_name(a.dtype()));
  }
  // numpy: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; the unit dim is dropped after.
  Shape a_shape = a.shape(), b_shape = b.shape();
  if (a.rank() == 1) a_shape.insert(a_shape.begin(), 1);
  if (b.rank() == 1) b_shape.push_back(1);
  MatMulPlan p;
  p.m = a_shape[a_shape.size() - 2];
  p.k = a_shape.back();
  p.n = b_shape.back();
  if (b_shape[b_shape.size() - 2] != p.k) {
    ctx.fail_input(1, "shape {} has K = {}, but A {} has K = {}", shape_str(b.shape()),
                   b_shape[b_shape.size() - 2], shape_str(a.shape()), p.k);
  }
  const Shape a_batch(a_shape.begin(), a_shape.end() - 2);
  const Shape b_batch(b_shape.begin(), b_shape.end() - 2);
  const Shape out_batch = broadcast_shapes(ctx, {a_batch, b_batch});
  p.a_offsets = batch_offsets(a_batch, out_batch, p.m * p.k);
  p.b_offsets = batch_offsets(b_batch, out_batch, p.k * p.n);
  p.output = out_batch;
  if (a.rank() > 1) p.output.push_back(p.m);
  if (b.rank() > 1) p.output.push_back(p.n);
  return p;
}

void mat_mul(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64,
                        DType::kUInt32, DType::kUInt64});
  const MatMulPlan p = plan_mat_mul(ctx);
  switch (ctx.input(0).dtype()) {
    case DType::kFloat64:
      return mat_mul_typed<double>(ctx, p);
    case DType::kInt32:
      return mat_mul_typed<int32_t>(ctx, p);
    case DType::kInt64:
      return mat_mul_typed<int64_t>(ctx, p);
    case DType::kUInt32:
      return mat_mul_typed<uint32_t>(ctx, p);
    case DType::kUInt64:
      return mat_mul_typed<uint64_t>(ctx, p);
    default:
      return mat_mul_typed<float>(ctx, p);
  }
}

}  // namespace lq::kernels
