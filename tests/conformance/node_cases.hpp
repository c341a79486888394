// Reading the ONNX backend node test cases (DIR/node/test_*/model.onnx and
// test_data_set_*/{input,output}_N.pb), shared by the float and the fixed-point runners.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "graph/onnx_tensor.hpp"
#include "libquant/tensor.hpp"

namespace lq::conformance {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

inline Tensor read_tensor_pb(const fs::path& path) {
  onnx::TensorProto proto;
  if (!proto.ParseFromString(read_file(path))) {
    throw Error(StatusCode::kInvalidModel, "cannot parse " + path.string());
  }
  return onnx_io::tensor_from_proto(proto, path.string(), path.parent_path().string());
}

// Case name -> reason. Lines: "test_name  reason text"; '#' starts a comment.
inline std::map<std::string, std::string> read_excluded(const std::string& file) {
  std::map<std::string, std::string> excluded;
  if (file.empty()) return excluded;
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open excluded list " + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    std::string reason;
    std::getline(words, reason);
    excluded[name] = reason;
  }
  return excluded;
}

// Op types of the case's model ("domain.Op" outside the default domain); empty if the
// model cannot be read.
inline std::set<std::string> ops_of(const fs::path& model) {
  onnx::ModelProto proto;
  std::set<std::string> ops;
  if (!proto.ParseFromString(read_file(model))) return ops;
  for (const auto& node : proto.graph().node()) {
    ops.insert(node.domain().empty() || node.domain() == "ai.onnx"
                   ? node.op_type()
                   : node.domain() + "." + node.op_type());
  }
  return ops;
}

}  // namespace lq::conformance
