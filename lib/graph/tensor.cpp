#include "libquant/tensor.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

namespace lq {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kUndefined: return 0;
    case DType::kFloat32: return 4;
    case DType::kFloat16: return 2;
    case DType::kFloat64: return 8;
    case DType::kInt4: return 1;
    case DType::kInt8: return 1;
    case DType::kUInt8: return 1;
    case DType::kInt16: return 2;
    case DType::kUInt16: return 2;
    case DType::kInt32: return 4;
    case DType::kUInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kUInt64: return 8;
    case DType::kBool: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kUndefined: return "undefined";
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kFloat64: return "float64";
    case DType::kInt4: return "int4";
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt16: return "int16";
    case DType::kUInt16: return "uint16";
    case DType::kInt32: return "int32";
    case DType::kUInt32: return "uint32";
    case DType::kInt64: return "int64";
    case DType::kUInt64: return "uint64";
    case DType::kBool: return "bool";
  }
  return "unknown";
}

bool dtype_is_float(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kFloat64;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

float half_to_float(uint16_t half) {
  const uint32_t sign = (half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1f;
  const uint32_t mantissa = half & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: value = mantissa * 2^-24
      const float value = std::ldexp(static_cast<float>(mantissa), -24);
      std::memcpy(&bits, &value, 4);
      bits |= sign;
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

uint16_t float_to_half(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs_bits = bits & 0x7fffffffu;
  if (abs_bits >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (abs_bits > 0x7f800000u ? 0x200u : 0));
  }
  if (abs_bits >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow
  if (abs_bits < 0x38800000u) {  // subnormal or zero in half: round x * 2^24 to even
    const float scaled = std::fabs(value) * 16777216.0f;
    const float rounded = std::nearbyint(scaled);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(rounded));
  }
  const uint32_t mantissa_lsb = (abs_bits >> 13) & 1u;
  const uint32_t rounded = abs_bits + 0xfffu + mantissa_lsb;  // round to nearest even
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  for (int64_t d : shape_) {
    if (d < 0) {
      throw Error(StatusCode::kInvalidArgument,
                  "Tensor: negative dimension in shape " + shape_str(shape_));
    }
  }
  const size_t bytes = nbytes();
  // Never a null buffer, so a zero-element tensor still has a distinct address.
  std::shared_ptr<uint8_t> buffer(new uint8_t[bytes > 0 ? bytes : 1](),
                                  std::default_delete<uint8_t[]>());
  data_ = buffer.get();
  storage_ = std::move(buffer);
}

Tensor Tensor::from_storage(DType dtype, Shape shape, std::shared_ptr<void> storage) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = storage.get();
  t.storage_ = std::move(storage);
  return t;
}

Tensor Tensor::borrow(DType dtype, Shape shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel()) {
    throw Error(StatusCode::kInvalidArgument, "Tensor::reshaped: cannot view " +
                                                  shape_str(shape_) + " as " + shape_str(shape));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (nbytes() > 0) std::memcpy(t.data_, data_, nbytes());
  return t;
}

namespace {

template <typename Fn>
void visit_elements(const Tensor& t, Fn&& fn) {
  const int64_t n = t.numel();
  const void* p = t.raw();
  auto each = [&](auto* typed) {
    for (int64_t i = 0; i < n; ++i) fn(i, typed[i]);
  };
  switch (t.dtype()) {
    case DType::kFloat32: each(static_cast<const float*>(p)); break;
    case DType::kFloat64: each(static_cast<const double*>(p)); break;
    case DType::kFloat16: {
      const auto* h = static_cast<const uint16_t*>(p);
      for (int64_t i = 0; i < n; ++i) fn(i, half_to_float(h[i]));
      break;
    }
    case DType::kInt4:
    case DType::kInt8: each(static_cast<const int8_t*>(p)); break;
    case DType::kUInt8: each(static_cast<const uint8_t*>(p)); break;
    case DType::kInt16: each(static_cast<const int16_t*>(p)); break;
    case DType::kUInt16: each(static_cast<const uint16_t*>(p)); break;
    case DType::kInt32: each(static_cast<const int32_t*>(p)); break;
    case DType::kUInt32: each(static_cast<const uint32_t*>(p)); break;
    case DType::kInt64: each(static_cast<const int64_t*>(p)); break;
    case DType::kUInt64: each(static_cast<const uint64_t*>(p)); break;
    case DType::kBool: each(static_cast<const bool*>(p)); break;
    case DType::kUndefined: break;
  }
}

// Float to integer as ONNX Cast: truncation toward zero, saturated to the type.
template <typename T>
T float_to_int(double v) {
  if (std::isnan(v)) return 0;
  const double t = std::trunc(v);
  if (t <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (t >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(t);
}

template <typename T, typename Src>
T convert(Src v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != Src(0);
  } else if constexpr (std::is_floating_point_v<T> || !std::is_floating_point_v<Src>) {
    return static_cast<T>(v);
  } else {
    return float_to_int<T>(static_cast<double>(v));
  }
}

}  // namespace

std::vector<double> Tensor::to_doubles() const {
  std::vector<double> out(static_cast<size_t>(numel()));
  visit_elements(*this, [&](int64_t i, auto v) { out[static_cast<size_t>(i)] = static_cast<double>(v); });
  return out;
}

std::vector<int64_t> Tensor::to_int64s() const {
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  visit_elements(*this, [&](int64_t i, auto v) { out[static_cast<size_t>(i)] = convert<int64_t>(v); });
  return out;
}

Tensor Tensor::cast(DType to) const {
  Tensor out(to, shape_);
  void* p = out.raw();
  auto fill = [&](auto* typed) {
    using T = std::remove_pointer_t<decltype(typed)>;
    visit_elements(*this, [&](int64_t i, auto v) { typed[i] = convert<T>(v); });
  };
  switch (to) {
    case DType::kFloat32: fill(static_cast<float*>(p)); break;
    case DType::kFloat64: fill(static_cast<double*>(p)); break;
    case DType::kFloat16: {
      auto* h = static_cast<uint16_t*>(p);
      visit_elements(*this, [&](int64_t i, auto v) { h[i] = float_to_half(static_cast<float>(v)); });
      break;
    }
    case DType::kInt4: {
      auto* q = static_cast<int8_t*>(p);
      visit_elements(*this, [&](int64_t i, auto v) {
        q[i] = static_cast<int8_t>(std::min<int64_t>(7, std::max<int64_t>(-8, convert<int64_t>(v))));
      });
      break;
    }
    case DType::kInt8: fill(static_cast<int8_t*>(p)); break;
    case DType::kUInt8: fill(static_cast<uint8_t*>(p)); break;
    case DType::kInt16: fill(static_cast<int16_t*>(p)); break;
    case DType::kUInt16: fill(static_cast<uint16_t*>(p)); break;
    case DType::kInt32: fill(static_cast<int32_t*>(p)); break;
    case DType::kUInt32: fill(static_cast<uint32_t*>(p)); break;
    case DType::kInt64: fill(static_cast<int64_t*>(p)); break;
    case DType::kUInt64: fill(static_cast<uint64_t*>(p)); break;
    case DType::kBool: fill(static_cast<bool*>(p)); break;
    case DType::kUndefined:
      throw Error(StatusCode::kInvalidArgument, "Tensor::cast: target dtype is undefined");
  }
  return out;
}

void Tensor::check_dtype(DType expected) const {
  // Int4 is stored as int8 bytes, float16 as uint16 bit patterns.
  if (expected == dtype_ || (expected == DType::kInt8 && dtype_ == DType::kInt4) ||
      (expected == DType::kUInt16 && dtype_ == DType::kFloat16)) {
    return;
  }
  throw Error(StatusCode::kInvalidArgument, std::string("Tensor: accessed ") + dtype_name(dtype_) +
                                                " data as " + dtype_name(expected));
}

int32_t dtype_qmin(DType dtype) {
  switch (dtype) {
    case DType::kInt4: return -8;
    case DType::kInt8: return -128;
    case DType::kUInt8: return 0;
    case DType::kInt16: return -32768;
    case DType::kUInt16: return 0;
    case DType::kInt32: return INT32_MIN;
    default: break;
  }
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("{} is not a quantized integer type", dtype_name(dtype)));
}

int32_t dtype_qmax(DType dtype) {
  switch (dtype) {
    case DType::kInt4: return 7;
    case DType::kInt8: return 127;
    case DType::kUInt8: return 255;
    case DType::kInt16: return 32767;
    case DType::kUInt16: return 65535;
    case DType::kInt32: return INT32_MAX;
    default: break;
  }
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("{} is not a quantized integer type", dtype_name(dtype)));
}

int64_t checked_nbytes(DType dtype, const Shape& shape) {
  int64_t bytes = static_cast<int64_t>(dtype_size(dtype));
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(bytes, d, &bytes)) return -1;
  }
  return bytes;
}

namespace {

std::atomic<int64_t> g_max_tensor_bytes{int64_t{8} << 30};
std::atomic<int64_t> g_max_model_bytes{int64_t{16} << 30};

}  // namespace

int64_t default_max_tensor_bytes() { return g_max_tensor_bytes.load(std::memory_order_relaxed); }
int64_t default_max_model_bytes() { return g_max_model_bytes.load(std::memory_order_relaxed); }

void set_default_resource_limits(const ResourceLimits& limits) {
  if (limits.max_tensor_bytes <= 0 || limits.max_model_bytes <= 0) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("resource limits must be > 0 bytes, got {} per tensor and {} per model",
                            limits.max_tensor_bytes, limits.max_model_bytes));
  }
  g_max_tensor_bytes.store(limits.max_tensor_bytes, std::memory_order_relaxed);
  g_max_model_bytes.store(limits.max_model_bytes, std::memory_order_relaxed);
}

void check_tensor_size(DType dtype, const Shape& shape, const ResourceLimits& limits,
                       const std::string& what) {
  Shape counted = shape;  // zeros count as 1: see the header
  for (int64_t& d : counted) d = d == 0 ? 1 : d;
  const int64_t bytes = checked_nbytes(dtype, counted);
  if (bytes >= 0 && bytes <= limits.max_tensor_bytes) return;
  const std::string asked = bytes < 0 ? "more bytes than 64 bits count" : fmt::format("{} bytes", bytes);
  throw Error(StatusCode::kResourceExhausted,
              fmt::format("{}: a {} tensor of shape {} needs {}, more than the limit of {} bytes "
                          "(ResourceLimits::max_tensor_bytes; raise it if the model really needs it)",
                          what, dtype_name(dtype), shape_str(shape), asked, limits.max_tensor_bytes));
}

void check_model_size(int64_t bytes, const ResourceLimits& limits, const std::string& what) {
  if (bytes >= 0 && bytes <= limits.max_model_bytes) return;
  const std::string asked = bytes < 0 ? "more bytes than 64 bits count" : fmt::format("{} bytes", bytes);
  throw Error(StatusCode::kResourceExhausted,
              fmt::format("{} need {}, more than the limit of {} bytes per model "
                          "(ResourceLimits::max_model_bytes; raise it if the model really needs it)",
                          what, asked, limits.max_model_bytes));
}

}  // namespace lq
