#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// Flat positions of the non-zero elements, in row-major order.
std::vector<int64_t> nonzero_positions(const KernelContext& ctx, const Tensor& data) {
  std::vector<int64_t> positions;
  const int64_t n = data.numel();
  auto collect = [&](const auto* values, auto is_nonzero) {
    for (int64_t i = 0; i < n; ++i) {
      if (is_nonzero(values[i])) positions.push_back(i);
    }
  };
  const auto* raw = data.raw();
  switch (data.dtype()) {
    case DType::kFloat16:  // +0 and -0 differ only in the sign bit
      collect(static_cast<const uint16_t*>(raw), [](uint16_t h) { return (h & 0x7fffu) != 0; });
      break;
    case DType::kBool:
    case DType::kInt4:
      collect(static_cast<const uint8_t*>(raw), [](uint8_t b) { return b != 0; });
      break;
    default:
      if (!visit_numeric(data.dtype(), [&](auto tag) {
            using T = decltype(tag);
            collect(static_cast<const T*>(raw), [](T v) { return v != T(0); });
          })) {
        ctx.fail(StatusCode::kUnsupported, "dtype {} is not supported", dtype_name(data.dtype()));
      }
  }
  return positions;
}

}  // namespace

// [rank, count] coordinates of the non-zero elements; a scalar counts as shape [1],
// as numpy.nonzero and ONNX Runtime treat it.
void non_zero(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const std::vector<int64_t> positions = nonzero_positions(ctx, data);
  const Shape dims = data.rank() == 0 ? Shape{1} : data.shape();
  const auto count = static_cast<int64_t>(positions.size());
  Tensor& out = ctx.make_output(0, DType::kInt64, {static_cast<int64_t>(dims.size()), count});
  int64_t* coords = out.data<int64_t>();
  for (int64_t k = 0; k < count; ++k) {
    int64_t rest = positions[static_cast<size_t>(k)];
    for (size_t d = dims.size(); d-- > 0;) {
      coords[static_cast<int64_t>(d) * count + k] = rest % dims[d];
      rest /= dims[d];
    }
  }
}

}  // namespace lq::kernels
