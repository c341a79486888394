// Conversions between ONNX protobuf tensors/types and libquant's, shared by the
// importer, the exporter and the conformance runner.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "libquant/tensor.hpp"

namespace lq::onnx_io {

// kUndefined for ONNX element types libquant does not hold (string, complex, bfloat16).
DType dtype_from_onnx(int32_t elem_type);
int32_t dtype_to_onnx(DType dtype);  // throws kUnsupported for int4

// `context` names where the tensor comes from, for error messages; `base_dir` is
// where external data files are looked up.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& context,
                         const std::string& base_dir);
onnx::TensorProto tensor_to_proto(const Tensor& tensor, const std::string& name);

}  // namespace lq::onnx_io
