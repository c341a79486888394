// Graph -> ONNX ModelProto. Round trip: load_onnx(save_onnx(g)) computes what g does.
#include <fmt/format.h>

#include <algorithm>

#include <cstdio>
#include <fstream>

#include "graph/onnx_tensor.hpp"
#include "libquant/graph.hpp"

namespace lq {

namespace {

constexpr int64_t kIrVersion = 8;

void type_to_proto(const TensorType& type, onnx::ValueInfoProto& info) {
  if (type.dtype == DType::kUndefined) return;
  auto* tt = info.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx_io::dtype_to_onnx(type.dtype));
  if (!type.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (const Dim& d : type.dims) {
    auto* dim = shape->add_dim();
    if (d.known()) {
      dim->set_dim_value(d.value);
    } else if (!d.param.empty()) {
      dim->set_dim_param(d.param);
    }
  }
}

void graph_to_proto(const Graph& graph, onnx::GraphProto& gp, size_t declared_inputs);

void attribute_to_proto(const std::string& name, const Attribute& a, onnx::AttributeProto& p) {
  p.set_name(name);
  switch (a.type) {
    case AttrType::kFloat: p.set_type(onnx::AttributeProto::FLOAT); p.set_f(a.f); break;
    case AttrType::kInt: p.set_type(onnx::AttributeProto::INT); p.set_i(a.i); break;
    case AttrType::kString: p.set_type(onnx::AttributeProto::STRING); p.set_s(a.s); break;
    case AttrType::kTensor:
      p.set_type(onnx::AttributeProto::TENSOR);
      *p.mutable_t() = onnx_io::tensor_to_proto(a.t, "");
      break;
    case AttrType::kFloats:
      p.set_type(onnx::AttributeProto::FLOATS);
      for (float f : a.floats) p.add_floats(f);
      break;
    case AttrType::kInts:
      p.set_type(onnx::AttributeProto::INTS);
      for (int64_t i : a.ints) p.add_ints(i);
      break;
    case AttrType::kStrings:
      p.set_type(onnx::AttributeProto::STRINGS);
      for (const auto& s : a.strings) p.add_strings(s);
      break;
    case AttrType::kGraph:
      if (!a.graph) throw Error(StatusCode::kInternal, fmt::format("attribute '{}' has no graph", name));
      p.set_type(onnx::AttributeProto::GRAPH);
      // Its captures go back to being names the subgraph reads from the enclosing scope.
      graph_to_proto(*a.graph, *p.mutable_g(), a.graph_declared_inputs);
      break;
  }
}

// How many of a node's inputs are its own: If and Loop carry their subgraphs' captures
// after them (the importer appends them; ONNX does not list them).
size_t own_inputs(const Node& n) {
  bool has_graph = false;
  for (const auto& [name, a] : n.attributes()) has_graph = has_graph || a.type == AttrType::kGraph;
  if (!has_graph || !n.domain().empty()) return n.inputs().size();
  if (n.op_type() == "If") return std::min<size_t>(1, n.inputs().size());
  if (n.op_type() == "Loop") {
    const Attribute* body = n.find_attr("body");
    return std::min(body ? body->graph_declared_inputs : n.inputs().size(), n.inputs().size());
  }
  throw Error(StatusCode::kUnsupported,
              fmt::format("{}: ONNX export writes subgraphs of If and Loop only", n.describe()));
}

void graph_to_proto(const Graph& graph, onnx::GraphProto& gp, size_t declared_inputs) {
  gp.set_name(graph.name().empty() ? "libquant" : graph.name());
  for (const Value* v : graph.initializers()) {
    *gp.add_initializer() = onnx_io::tensor_to_proto(*v->initializer(), v->name());
  }
  for (size_t i = 0; i < graph.inputs().size() && i < declared_inputs; ++i) {
    const Value* v = graph.inputs()[i];
    auto* info = gp.add_input();
    info->set_name(v->name());
    type_to_proto(v->type(), *info);
  }
  for (const Value* v : graph.outputs()) {
    auto* info = gp.add_output();
    info->set_name(v->name());
    type_to_proto(v->type(), *info);
  }
  for (const Node* n : graph.nodes()) {
    auto* np = gp.add_node();
    np->set_name(n->name());
    np->set_op_type(n->op_type());
    if (!n->domain().empty()) np->set_domain(n->domain());
    const size_t own = own_inputs(*n);
    for (size_t i = 0; i < own; ++i) np->add_input(n->input(i) ? n->input(i)->name() : std::string());
    for (const Value* out : n->outputs()) {
      np->add_output(out->name());
      if (!out->is_graph_output() && out->type().dtype != DType::kUndefined) {
        auto* info = gp.add_value_info();
        info->set_name(out->name());
        type_to_proto(out->type(), *info);
      }
    }
    for (const auto& [name, attr] : n->attributes()) attribute_to_proto(name, attr, *np->add_attribute());
  }
}

onnx::ModelProto to_proto(const Graph& graph) {
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("libquant");
  for (const auto& [domain, version] : graph.opsets()) {
    auto* op = model.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  graph_to_proto(graph, *model.mutable_graph(), graph.inputs().size());
  return model;
}

}  // namespace

std::string serialize_onnx(const Graph& graph) {
  std::string bytes;
  if (!to_proto(graph).SerializeToString(&bytes)) {
    throw Error(StatusCode::kInternal,
                "serializing the ONNX model failed (protobuf models are limited to 2 GiB)");
  }
  return bytes;
}

void save_onnx(const Graph& graph, const std::string& path) {
  const std::string bytes = serialize_onnx(graph);
  // Write beside the target and rename, so a crash never leaves half a file.
  const std::string temp = path + ".tmp";
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) throw Error(StatusCode::kIoError, fmt::format("cannot write '{}'", temp));
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!file) throw Error(StatusCode::kIoError, fmt::format("writing '{}' failed", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw Error(StatusCode::kIoError, fmt::format("cannot move '{}' to '{}'", temp, path));
  }
}

}  // namespace lq
