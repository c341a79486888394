// The one definition of quantize / dequantize shared by fake quantization, the QDQ export
// and the compiler (DESIGN.md, "Numerics conventions").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "libquant/quantizer.hpp"

namespace lq {

int32_t QuantParams::qmin() const { return dtype_qmin(dtype); }
int32_t QuantParams::qmax() const { return dtype_qmax(dtype); }

int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  // Division (not a reciprocal multiply) and ties-to-even, as ONNX QuantizeLinear.
  const double q = static_cast<double>(std::nearbyint(x / scale)) + zero_point;
  if (std::isnan(q)) return std::clamp<int32_t>(zero_point, qmin, qmax);
  return static_cast<int32_t>(std::clamp<double>(q, qmin, qmax));
}

float dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return static_cast<float>(static_cast<int64_t>(q) - zero_point) * scale;
}

namespace {

// Calls fn(index, channel) for every element, channel along params.axis (0 if per tensor).
template <typename Fn>
void for_each_channel(const Tensor& data, const QuantParams& params, Fn&& fn) {
  const int64_t n = data.numel();
  if (!params.per_channel()) {
    for (int64_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  const auto axis = static_cast<size_t>(params.axis);
  if (axis >= data.rank() || data.dim(axis) != static_cast<int64_t>(params.scale.size())) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("per-channel parameters with {} scales on axis {} do not fit shape {}",
                            params.scale.size(), params.axis, shape_str(data.shape())));
  }
  int64_t inner = 1;
  for (size_t i = axis + 1; i < data.rank(); ++i) inner *= data.dim(i);
  const int64_t channels = data.dim(axis);
  for (int64_t i = 0; i < n; ++i) fn(i, static_cast<size_t>((i / inner) % channels));
}

void check_params(const QuantParams& params) {
  if (params.scale.empty() || params.scale.size() != params.zero_point.size()) {
    throw Error(StatusCode::kInvalidArgument,
                "quantization parameters need as many zero points as scales (at least one)");
  }
}

}  // namespace

Tensor fake_quantize(const Tensor& data, const QuantParams& params) {
  check_params(params);
  Tensor out(DType::kFloat32, data.shape());
  const float* x = data.data<float>();
  float* y = out.data<float>();
  const int64_t n = data.numel();
  const auto channels = static_cast<int64_t>(params.per_channel() ? params.scale.size() : 1);
  int64_t inner = n;
  if (params.per_channel()) {
    const auto axis = static_cast<size_t>(params.axis);
    if (axis >= data.rank() || data.dim(axis) != channels) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("per-channel parameters with {} scales on axis {} do not fit shape {}",
                              params.scale.size(), params.axis, shape_str(data.shape())));
    }
    inner = 1;
    for (size_t i = axis + 1; i < data.rank(); ++i) inner *= data.dim(i);
  }
  // The same arithmetic as quantize_value, in a loop the compiler vectorizes: the quotient
  // is clamped first (so it is small), then rounded to nearest even by the 1.5 * 2^23 trick
  // (exact for |v| < 2^22 in the default rounding mode), then dequantized.
  constexpr float kRound = 12582912.0f;
  for (int64_t block = 0; block * inner < n; ++block) {
    const auto c = static_cast<size_t>(block % channels);
    const float scale = params.scale[c];
    const auto zero_point = static_cast<float>(params.zero_point[c]);
    const float lo = static_cast<float>(params.qmin()) - zero_point;
    const float hi = static_cast<float>(params.qmax()) - zero_point;
    const float* in = x + block * inner;
    float* o = y + block * inner;
    if (std::max(std::fabs(lo), std::fabs(hi)) >= 4194304.0f) {  // int32: no rounding trick
      for (int64_t i = 0; i < inner; ++i) {
        const int32_t q = quantize_value(in[i], scale, params.zero_point[c], params.qmin(), params.qmax());
        o[i] = dequantize_value(q, scale, params.zero_point[c]);
      }
      continue;
    }
    for (int64_t i = 0; i < inner; ++i) {
      float v = in[i] / scale;
      v = v < lo ? lo : (v > hi ? hi : v);  // NaN stays NaN and becomes the zero point below
      const float q = (v + kRound) - kRound;
      o[i] = (q == q ? q : 0.0f) * scale;
    }
  }
  return out;
}

Tensor quantize_tensor(const Tensor& data, const QuantParams& params) {
  check_params(params);
  Tensor out(params.dtype, data.shape());
  const float* x = data.data<float>();
  const int32_t qmin = params.qmin(), qmax = params.qmax();
  auto fill = [&](auto* q) {
    using T = std::remove_pointer_t<decltype(q)>;
    for_each_channel(data, params, [&](int64_t i, size_t c) {
      q[i] = static_cast<T>(quantize_value(x[i], params.scale[c], params.zero_point[c], qmin, qmax));
    });
  };
  switch (params.dtype) {
    case DType::kInt4:
    case DType::kInt8: fill(static_cast<int8_t*>(out.raw())); break;
    case DType::kUInt8: fill(static_cast<uint8_t*>(out.raw())); break;
    case DType::kInt16: fill(static_cast<int16_t*>(out.raw())); break;
    case DType::kUInt16: fill(static_cast<uint16_t*>(out.raw())); break;
    case DType::kInt32: fill(static_cast<int32_t*>(out.raw())); break;
    default:
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("cannot quantize to {}", dtype_name(params.dtype)));
  }
  return out;
}

Tensor dequantize_tensor(const Tensor& codes, const QuantParams& params) {
  check_params(params);
  Tensor out(DType::kFloat32, codes.shape());
  float* y = out.data<float>();
  auto read = [&](const auto* q) {
    for_each_channel(codes, params, [&](int64_t i, size_t c) {
      y[i] = dequantize_value(static_cast<int32_t>(q[i]), params.scale[c], params.zero_point[c]);
    });
  };
  switch (codes.dtype()) {
    case DType::kInt4:
    case DType::kInt8: read(static_cast<const int8_t*>(codes.raw())); break;
    case DType::kUInt8: read(codes.data<uint8_t>()); break;
    case DType::kInt16: read(codes.data<int16_t>()); break;
    case DType::kUInt16: read(codes.data<uint16_t>()); break;
    case DType::kInt32: read(codes.data<int32_t>()); break;
    default:
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("cannot dequantize {}", dtype_name(codes.dtype())));
  }
  return out;
}

}  // namespace lq
