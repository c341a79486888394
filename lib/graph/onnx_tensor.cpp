#include "graph/onnx_tensor.hpp"

#include <fmt/format.h>

#include <cstring>
#include <fstream>

namespace lq::onnx_io {

namespace {

using onnx::TensorProto_DataType;

[[noreturn]] void bad_tensor(const std::string& context, const std::string& what) {
  throw Error(StatusCode::kInvalidModel, fmt::format("{}: {}", context, what));
}

std::string read_external(const onnx::TensorProto& proto, const std::string& context,
                          const std::string& base_dir, size_t expected_bytes) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    if (entry.key() == "offset") offset = std::stoll(entry.value());
    if (entry.key() == "length") length = std::stoll(entry.value());
  }
  if (location.empty()) bad_tensor(context, "external data without a 'location'");
  if (location.find("..") != std::string::npos || (!location.empty() && location[0] == '/')) {
    bad_tensor(context, fmt::format("external data location '{}' leaves the model's folder", location));
  }
  const std::string path = base_dir.empty() ? location : base_dir + "/" + location;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw Error(StatusCode::kNotFound,
                fmt::format("{}: external data file '{}' not found (it must sit beside the model)",
                            context, path));
  }
  if (length < 0) length = static_cast<int64_t>(expected_bytes);
  if (static_cast<size_t>(length) != expected_bytes) {
    bad_tensor(context, fmt::format("external data length {} does not match the {} bytes of its shape",
                                    length, expected_bytes));
  }
  std::string bytes(static_cast<size_t>(length), '\0');
  file.seekg(offset);
  file.read(bytes.data(), length);
  if (file.gcount() != length) {
    bad_tensor(context, fmt::format("external data file '{}' is shorter than offset {} + length {}",
                                    path, offset, length));
  }
  return bytes;
}

// Typed repeated fields: narrow types (int8..uint16, bool, float16) live in int32_data.
template <typename T, typename Field>
void copy_field(const Field& field, Tensor& t, const std::string& context) {
  if (static_cast<int64_t>(field.size()) != t.numel()) {
    bad_tensor(context, fmt::format("holds {} values but its shape {} needs {}", field.size(),
                                    shape_str(t.shape()), t.numel()));
  }
  auto* out = static_cast<T*>(t.raw());
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
}

}  // namespace

DType dtype_from_onnx(int32_t elem_type) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT: return DType::kFloat32;
    case onnx::TensorProto::FLOAT16: return DType::kFloat16;
    case onnx::TensorProto::DOUBLE: return DType::kFloat64;
    case onnx::TensorProto::INT8: return DType::kInt8;
    case onnx::TensorProto::UINT8: return DType::kUInt8;
    case onnx::TensorProto::INT16: return DType::kInt16;
    case onnx::TensorProto::UINT16: return DType::kUInt16;
    case onnx::TensorProto::INT32: return DType::kInt32;
    case onnx::TensorProto::UINT32: return DType::kUInt32;
    case onnx::TensorProto::INT64: return DType::kInt64;
    case onnx::TensorProto::UINT64: return DType::kUInt64;
    case onnx::TensorProto::BOOL: return DType::kBool;
    default: return DType::kUndefined;
  }
}

int32_t dtype_to_onnx(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return onnx::TensorProto::FLOAT;
    case DType::kFloat16: return onnx::TensorProto::FLOAT16;
    case DType::kFloat64: return onnx::TensorProto::DOUBLE;
    case DType::kInt8: return onnx::TensorProto::INT8;
    case DType::kUInt8: return onnx::TensorProto::UINT8;
    case DType::kInt16: return onnx::TensorProto::INT16;
    case DType::kUInt16: return onnx::TensorProto::UINT16;
    case DType::kInt32: return onnx::TensorProto::INT32;
    case DType::kUInt32: return onnx::TensorProto::UINT32;
    case DType::kInt64: return onnx::TensorProto::INT64;
    case DType::kUInt64: return onnx::TensorProto::UINT64;
    case DType::kBool: return onnx::TensorProto::BOOL;
    case DType::kUndefined: return onnx::TensorProto::UNDEFINED;
    case DType::kInt4: break;
  }
  throw Error(StatusCode::kUnsupported,
              "int4 tensors have no ONNX type in opsets <= 18; store them as int8 in [-8, 7]");
}

namespace {

// The number of values in the typed field that holds a `dtype` tensor's data.
int64_t typed_data_count(const onnx::TensorProto& proto, DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return proto.float_data_size();
    case DType::kFloat64: return proto.double_data_size();
    case DType::kInt64: return proto.int64_data_size();
    case DType::kUInt64:
    case DType::kUInt32: return proto.uint64_data_size();
    default: return proto.int32_data_size();
  }
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& context,
                         const std::string& base_dir) {
  const DType dtype = dtype_from_onnx(proto.data_type());
  if (dtype == DType::kUndefined) {
    throw Error(StatusCode::kUnsupported,
                fmt::format("{}: tensor element type {} ({}) is not supported", context,
                            proto.data_type(),
                            TensorProto_DataType_Name(static_cast<TensorProto_DataType>(proto.data_type()))));
  }
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape) {
    if (d < 0) bad_tensor(context, fmt::format("negative dimension in {}", shape_str(shape)));
  }
  // Every size the file declares is checked against the data it holds before allocating.
  check_tensor_size(dtype, shape, ResourceLimits{}, context);
  const int64_t numel = shape_numel(shape);
  if (proto.data_location() != onnx::TensorProto::EXTERNAL && !proto.has_raw_data() && numel > 0) {
    const int64_t stored = typed_data_count(proto, dtype);
    if (stored != numel) {
      bad_tensor(context, fmt::format("holds {} values but its shape {} needs {}", stored, shape_str(shape), numel));
    }
  } else if (proto.has_raw_data() &&
             static_cast<int64_t>(proto.raw_data().size()) != checked_nbytes(dtype, shape)) {
    bad_tensor(context, fmt::format("raw data has {} bytes but shape {} of {} needs {}",
                                    proto.raw_data().size(), shape_str(shape), dtype_name(dtype),
                                    checked_nbytes(dtype, shape)));
  }
  Tensor t(dtype, shape);
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    const std::string bytes = read_external(proto, context, base_dir, t.nbytes());
    std::memcpy(t.raw(), bytes.data(), bytes.size());
    return t;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != t.nbytes()) {
      bad_tensor(context, fmt::format("raw data has {} bytes but shape {} of {} needs {}",
                                      proto.raw_data().size(), shape_str(shape), dtype_name(dtype),
                                      t.nbytes()));
    }
    std::memcpy(t.raw(), proto.raw_data().data(), t.nbytes());  // ONNX raw data is little endian
    return t;
  }
  if (t.numel() == 0) return t;
  switch (dtype) {
    case DType::kFloat32: copy_field<float>(proto.float_data(), t, context); break;
    case DType::kFloat64: copy_field<double>(proto.double_data(), t, context); break;
    case DType::kInt64: copy_field<int64_t>(proto.int64_data(), t, context); break;
    case DType::kUInt64: copy_field<uint64_t>(proto.uint64_data(), t, context); break;
    case DType::kUInt32: copy_field<uint32_t>(proto.uint64_data(), t, context); break;
    case DType::kInt32: copy_field<int32_t>(proto.int32_data(), t, context); break;
    case DType::kInt16: copy_field<int16_t>(proto.int32_data(), t, context); break;
    case DType::kUInt16:
    case DType::kFloat16: copy_field<uint16_t>(proto.int32_data(), t, context); break;
    case DType::kInt8: copy_field<int8_t>(proto.int32_data(), t, context); break;
    case DType::kUInt8: copy_field<uint8_t>(proto.int32_data(), t, context); break;
    case DType::kBool: copy_field<bool>(proto.int32_data(), t, context); break;
    default: bad_tensor(context, "has no data");
  }
  return t;
}

onnx::TensorProto tensor_to_proto(const Tensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(dtype_to_onnx(tensor.dtype()));
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  proto.set_raw_data(tensor.raw(), tensor.nbytes());
  return proto;
}

}  // namespace lq::onnx_io
