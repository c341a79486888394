// Tensor: a dtype, a shape and a contiguous row-major buffer, either owned
// (shared between copies) or borrowed from the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/status.hpp"

namespace lq {

// Int4 is stored unpacked, one value in [-8, 7] per int8 byte; file formats pack it.
enum class DType : uint8_t {
  kUndefined = 0,
  kFloat32,
  kFloat16,
  kFloat64,
  kInt4,
  kInt8,
  kUInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kBool,
};

LQ_EXPORT size_t dtype_size(DType dtype);
LQ_EXPORT const char* dtype_name(DType dtype);
LQ_EXPORT bool dtype_is_float(DType dtype);
// The code range of an integer dtype a quantized value can have (int4 [-8, 7] ... int32);
// throws kInvalidArgument for other dtypes.
LQ_EXPORT int32_t dtype_qmin(DType dtype);
LQ_EXPORT int32_t dtype_qmax(DType dtype);

template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::kInt8; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUInt8; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::kInt16; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::kUInt16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<uint32_t> { static constexpr DType value = DType::kUInt32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kInt64; };
template <> struct DTypeOf<uint64_t> { static constexpr DType value = DType::kUInt64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };

using Shape = std::vector<int64_t>;

LQ_EXPORT int64_t shape_numel(const Shape& shape);

// What a file or a model may make libquant allocate, checked before the allocation: a
// hostile .npy header, initializer or ConstantOfShape gets an error naming it instead of
// std::bad_alloc. The defaults fit a 24 GiB machine.
//
// A ResourceLimits{} takes the process defaults: 8 GiB per tensor and 16 GiB per model,
// changed by set_default_resource_limits (lq_set_resource_limits in C) for every import,
// constant folding, shape propagation, Simulator, compile and .lqm load that follows.
LQ_EXPORT int64_t default_max_tensor_bytes();
LQ_EXPORT int64_t default_max_model_bytes();
struct ResourceLimits {
  // One tensor (data, weights, a kernel output, a model input's shape).
  int64_t max_tensor_bytes = default_max_tensor_bytes();
  // One model: all its initializers together, the compiled Program's activation arena.
  int64_t max_model_bytes = default_max_model_bytes();
};
// Throws kInvalidArgument unless both limits are > 0.
LQ_EXPORT void set_default_resource_limits(const ResourceLimits& limits);
// The bytes of a `dtype` tensor of `shape`, or -1 when the count overflows int64 (or a
// dimension is negative).
LQ_EXPORT int64_t checked_nbytes(DType dtype, const Shape& shape);
// Throws kResourceExhausted unless a `dtype` tensor of `shape` fits `limits`, naming `what`
// (`Conv node "x" output 0`, `'input.npy'`), the size asked for and the limit. A dimension
// of 0 counts as 1 here, so that [0, 10^15] (which the kernels' per-axis index tables would
// still allocate) is refused too.
LQ_EXPORT void check_tensor_size(DType dtype, const Shape& shape, const ResourceLimits& limits,
                                 const std::string& what);
// Throws kResourceExhausted unless `bytes` (-1: more than int64 counts) fit
// limits.max_model_bytes, naming `what` (`model 'x.onnx': its initializers`).
LQ_EXPORT void check_model_size(int64_t bytes, const ResourceLimits& limits, const std::string& what);
LQ_EXPORT std::string shape_str(const Shape& shape);  // "[1,3,48,320]"

LQ_EXPORT float half_to_float(uint16_t half);
LQ_EXPORT uint16_t float_to_half(float value);  // round to nearest even

class LQ_EXPORT Tensor {
 public:
  Tensor() = default;
  // Owned, zero-filled.
  Tensor(DType dtype, Shape shape);
  // Borrowed: the caller keeps `data` alive and unchanged while the tensor is used.
  static Tensor borrow(DType dtype, Shape shape, void* data);
  // Owned through `storage`, which holds at least nbytes() (e.g. a pooled buffer).
  static Tensor from_storage(DType dtype, Shape shape, std::shared_ptr<void> storage);
  template <typename T>
  static Tensor from_vector(Shape shape, const std::vector<T>& values);
  template <typename T>
  static Tensor scalar(T value) { return from_vector<T>({}, {value}); }

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t axis) const { return shape_.at(axis); }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool empty() const { return dtype_ == DType::kUndefined; }
  bool owns_data() const { return storage_ != nullptr; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T>
  T* data() {
    check_dtype(DTypeOf<T>::value);
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    check_dtype(DTypeOf<T>::value);
    return static_cast<const T*>(data_);
  }

  // Same buffer, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy that owns its data.
  Tensor clone() const;
  // Element values converted to double / int64 (for shape-like inputs and tests).
  std::vector<double> to_doubles() const;
  std::vector<int64_t> to_int64s() const;
  // Converted copy (float <-> int as ONNX Cast does: truncation toward zero).
  Tensor cast(DType to) const;

 private:
  void check_dtype(DType expected) const;

  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

template <typename T>
Tensor Tensor::from_vector(Shape shape, const std::vector<T>& values) {
  Tensor t(DTypeOf<T>::value, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.numel()) {
    throw Error(StatusCode::kInvalidArgument,
                "Tensor::from_vector: " + std::to_string(values.size()) +
                    " values do not fill shape " + shape_str(t.shape()));
  }
  T* out = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return t;
}

// NumPy .npy files (format versions 1-3, little endian, C order).
LQ_EXPORT Tensor load_npy(const std::string& path);
LQ_EXPORT Tensor parse_npy(const void* data, size_t size, const std::string& context = "npy buffer");
LQ_EXPORT void save_npy(const Tensor& tensor, const std::string& path);
LQ_EXPORT std::string serialize_npy(const Tensor& tensor);

}  // namespace lq
