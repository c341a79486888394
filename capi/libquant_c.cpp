// The C ABI's foundation: status, version, dtypes, buffers, tensors and caller views.
#include <algorithm>
#include <limits>

#include "capi_internal.hpp"

#ifndef LQ_VERSION_STRING
#error "LQ_VERSION_STRING must be defined by the build (the project version)"
#endif

namespace lq::capi {

namespace {

// Returned when not even a status can be allocated. Never written to; its message fits
// std::string's inline storage, so building it allocates nothing.
const lq_status kOutOfMemory = [] {
  lq_status status;
  status.code = LQ_OUT_OF_MEMORY;
  status.message = "out of memory";
  return status;
}();

}  // namespace

lq_status* make_status(lq_code code, const char* function, const std::string& message) noexcept {
  try {
    auto* status = new lq_status;
    status->code = code;
    status->message = fmt::format("{}: {}", function, message);
    return status;
  } catch (...) {
    return out_of_memory_status();
  }
}

lq_status* out_of_memory_status() noexcept { return const_cast<lq_status*>(&kOutOfMemory); }

lq_code to_code(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk:
      return LQ_OK;
    case StatusCode::kInvalidArgument:
      return LQ_INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return LQ_NOT_FOUND;
    case StatusCode::kUnsupported:
      return LQ_UNSUPPORTED;
    case StatusCode::kInvalidModel:
      return LQ_INVALID_MODEL;
    case StatusCode::kIoError:
      return LQ_IO_ERROR;
    case StatusCode::kFailedPrecondition:
      return LQ_FAILED_PRECONDITION;
    case StatusCode::kInternal:
      return LQ_INTERNAL;
    case StatusCode::kResourceExhausted:
      return LQ_OUT_OF_MEMORY;
  }
  return LQ_INTERNAL;
}

void check_struct_size(size_t struct_size, size_t first_version_size, size_t known_size,
                       const char* type_name, const std::string& field) {
  if (struct_size < first_version_size) {
    invalid_argument(
        fmt::format("{} is {}, smaller than the first version of {} ({} bytes); set it to "
                    "sizeof({}) (the lq_*_init functions do)",
                    field, struct_size, type_name, first_version_size, type_name));
  }
  if (struct_size > known_size) {
    invalid_argument(
        fmt::format("{} is {}, larger than this library's {} ({} bytes): the caller was built "
                    "against a newer libquant.h than the library it runs with (API version {})",
                    field, struct_size, type_name, known_size, LQ_API_VERSION));
  }
}

namespace {

struct DTypePair {
  lq_dtype c;
  DType cpp;
};

// Spelled out so that the C numbering stays fixed whatever lq::DType becomes.
constexpr DTypePair kDTypes[] = {
    {LQ_FLOAT32, DType::kFloat32}, {LQ_FLOAT16, DType::kFloat16}, {LQ_FLOAT64, DType::kFloat64},
    {LQ_INT4, DType::kInt4},       {LQ_INT8, DType::kInt8},       {LQ_UINT8, DType::kUInt8},
    {LQ_INT16, DType::kInt16},     {LQ_UINT16, DType::kUInt16},   {LQ_INT32, DType::kInt32},
    {LQ_UINT32, DType::kUInt32},   {LQ_INT64, DType::kInt64},     {LQ_UINT64, DType::kUInt64},
    {LQ_BOOL, DType::kBool},
};

const DTypePair* find_dtype(lq_dtype dtype) {
  for (const DTypePair& pair : kDTypes) {
    if (pair.c == dtype) return &pair;
  }
  return nullptr;
}

}  // namespace

DType to_dtype(lq_dtype dtype, const std::string& param) {
  const DTypePair* pair = find_dtype(dtype);
  if (!pair) {
    invalid_argument(fmt::format("{} is {}, which is no lq_dtype (LQ_FLOAT32 ... LQ_BOOL)", param,
                                 static_cast<int>(dtype)));
  }
  return pair->cpp;
}

lq_dtype to_c_dtype(DType dtype) noexcept {
  for (const DTypePair& pair : kDTypes) {
    if (pair.cpp == dtype) return pair.c;
  }
  return LQ_DTYPE_UNDEFINED;
}

namespace {

// The byte size of a view's shape and dtype, or an error naming the bad dimension.
size_t view_bytes(const lq_tensor_view& view, DType dtype, const std::string& param) {
  if (view.rank > 0) require(view.shape, (param + ".shape").c_str());
  size_t bytes = dtype_size(dtype);
  for (size_t i = 0; i < view.rank; ++i) {
    const int64_t dim = view.shape[i];
    if (dim < 0) {
      invalid_argument(fmt::format("{}.shape[{}] is {}; dimensions are >= 0", param, i, dim));
    }
    if (dim > 0 && bytes > std::numeric_limits<size_t>::max() / static_cast<uint64_t>(dim)) {
      invalid_argument(fmt::format("{}.shape overflows the address space", param));
    }
    bytes *= static_cast<size_t>(dim);
  }
  return bytes;
}

}  // namespace

Tensor tensor_from_view(const lq_tensor_view& view, const std::string& param) {
  const DType dtype = to_dtype(view.dtype, param + ".dtype");
  const size_t bytes = view_bytes(view, dtype, param);
  const Shape shape(view.shape, view.shape + view.rank);
  if (view.byte_size != bytes) {
    invalid_argument(fmt::format("{} (\"{}\"): byte_size is {}, but {}{} holds {} bytes", param,
                                 view.name, view.byte_size, dtype_name(dtype), shape_str(shape),
                                 bytes));
  }
  if (bytes > 0) require(view.data, (param + ".data").c_str());
  return Tensor::borrow(dtype, shape, view.data);
}

TensorMap tensors_from_views(const lq_tensor_view* views, size_t count, const char* param) {
  TensorMap tensors;
  if (count == 0) return tensors;
  require(views, param);
  check_options(views[0], LQ_FIRST_VERSION_SIZE(lq_tensor_view, byte_size), "lq_tensor_view",
                fmt::format("{}[0].struct_size", param));
  for (size_t i = 0; i < count; ++i) {
    const lq_tensor_view& view = array_element(views, i);
    const std::string at = fmt::format("{}[{}]", param, i);
    if (view.struct_size != views[0].struct_size) {
      invalid_argument(
          fmt::format("{}.struct_size is {} but {}[0].struct_size is {}; every "
                      "element of an array has the same size",
                      at, view.struct_size, param, views[0].struct_size));
    }
    require(view.name, (at + ".name").c_str());
    Tensor tensor = tensor_from_view(view, at);
    if (!tensors.emplace(view.name, std::move(tensor)).second) {
      invalid_argument(fmt::format("{}: input \"{}\" is given twice", at, view.name));
    }
  }
  return tensors;
}

SimulatorOptions simulator_options(const lq_simulator_options* given) {
  lq_simulator_options defaults;
  lq_simulator_options_init(&defaults);  // NULL means the header's defaults
  const lq_simulator_options* options = given ? given : &defaults;
  check_options(*options, LQ_FIRST_VERSION_SIZE(lq_simulator_options, reference_only),
                "lq_simulator_options", "options->struct_size");
  if (options->threads < 0) {
    invalid_argument(fmt::format("options->threads is {}; use 1 or more", options->threads));
  }
  SimulatorOptions result;
  result.threads = std::max(1, options->threads);
  result.reference_only = options->reference_only != 0;
  return result;
}

lq_buffer* new_buffer(std::string bytes) {
  auto* buffer = new lq_buffer;
  buffer->bytes = std::move(bytes);
  return buffer;
}

void send_log(lq_log_fn log, void* user_data, const std::vector<std::string>& lines) {
  if (!log) return;
  for (const std::string& line : lines) log(line.c_str(), user_data);
}

}  // namespace lq::capi

using namespace lq::capi;

// ---- Version and status ------------------------------------------------------------------

extern "C" {

const char* lq_version(void) { return LQ_VERSION_STRING; }

int lq_api_version(void) { return LQ_API_VERSION; }

lq_code lq_status_code(const lq_status* status) {
  if (!status) return LQ_OK;
  return status->tag == lq_status::kLiveTag ? status->code : LQ_INVALID_ARGUMENT;
}

const char* lq_status_message(const lq_status* status) {
  if (!status) return "";
  if (status->tag != lq_status::kLiveTag) return "lq_status_message: status was released";
  return status->message.c_str();
}

void lq_status_release(lq_status* status) {
  if (status != out_of_memory_status()) release(status);
}

// ---- Element types -----------------------------------------------------------------------

size_t lq_dtype_size(lq_dtype dtype) {
  const DTypePair* pair = find_dtype(dtype);
  return pair ? lq::dtype_size(pair->cpp) : 0;
}

const char* lq_dtype_name(lq_dtype dtype) {
  const DTypePair* pair = find_dtype(dtype);
  return pair ? lq::dtype_name(pair->cpp) : "unknown";
}

// ---- Buffers and tensors -----------------------------------------------------------------

const void* lq_buffer_data(const lq_buffer* buffer) {
  return buffer && buffer->tag == lq_buffer::kLiveTag ? buffer->bytes.data() : nullptr;
}

size_t lq_buffer_size(const lq_buffer* buffer) {
  return buffer && buffer->tag == lq_buffer::kLiveTag ? buffer->bytes.size() : 0;
}

void lq_buffer_release(lq_buffer* buffer) { release(buffer); }

}  // extern "C"

namespace {

const lq_tensor* live_tensor(const lq_tensor* tensor) {
  return tensor && tensor->tag == lq_tensor::kLiveTag ? tensor : nullptr;
}

}  // namespace

extern "C" {

const char* lq_tensor_name(const lq_tensor* tensor) {
  return live_tensor(tensor) ? tensor->name.c_str() : nullptr;
}

lq_dtype lq_tensor_dtype(const lq_tensor* tensor) {
  return live_tensor(tensor) ? to_c_dtype(tensor->tensor.dtype()) : LQ_DTYPE_UNDEFINED;
}

size_t lq_tensor_rank(const lq_tensor* tensor) {
  return live_tensor(tensor) ? tensor->tensor.rank() : 0;
}

const int64_t* lq_tensor_shape(const lq_tensor* tensor) {
  return live_tensor(tensor) ? tensor->tensor.shape().data() : nullptr;
}

const void* lq_tensor_data(const lq_tensor* tensor) {
  return live_tensor(tensor) ? tensor->tensor.raw() : nullptr;
}

size_t lq_tensor_byte_size(const lq_tensor* tensor) {
  return live_tensor(tensor) ? tensor->tensor.nbytes() : 0;
}

void lq_tensor_release(lq_tensor* tensor) { release(tensor); }

lq_status* lq_npy_load(const char* path, lq_tensor** out) {
  clear(out);
  return guard(__func__, [&] {
    require(path, "path");
    require(out, "out");
    auto tensor = std::make_unique<lq_tensor>();
    tensor->tensor = lq::load_npy(path);
    *out = tensor.release();
  });
}

lq_status* lq_npy_save(const lq_tensor_view* tensor, const char* path) {
  return guard(__func__, [&] {
    require(tensor, "tensor");
    require(path, "path");
    check_options(*tensor, LQ_FIRST_VERSION_SIZE(lq_tensor_view, byte_size), "lq_tensor_view",
                  "tensor->struct_size");
    lq::save_npy(tensor_from_view(*tensor, "tensor"), path);
  });
}

lq_status* lq_set_resource_limits(const lq_resource_limits* limits) {
  return guard(__func__, [&] {
    require(limits, "limits");
    check_options(*limits, LQ_FIRST_VERSION_SIZE(lq_resource_limits, max_model_bytes),
                  "lq_resource_limits", "limits->struct_size");
    lq::ResourceLimits set;
    set.max_tensor_bytes = limits->max_tensor_bytes;
    set.max_model_bytes = limits->max_model_bytes;
    lq::set_default_resource_limits(set);
  });
}

lq_status* lq_get_resource_limits(lq_resource_limits* limits) {
  return guard(__func__, [&] {
    require(limits, "limits");
    check_options(*limits, LQ_FIRST_VERSION_SIZE(lq_resource_limits, max_model_bytes),
                  "lq_resource_limits", "limits->struct_size");
    const lq::ResourceLimits now;
    limits->max_tensor_bytes = now.max_tensor_bytes;
    limits->max_model_bytes = now.max_model_bytes;
  });
}

}  // extern "C"
