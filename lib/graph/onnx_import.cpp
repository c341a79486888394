// ONNX ModelProto -> Graph.
#include <algorithm>
#include <fmt/format.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <set>
#include <map>

#include <fstream>
#include <sstream>
#include <unordered_set>

#include "graph/onnx_tensor.hpp"
#include "libquant/graph.hpp"

namespace lq {

namespace {

constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 18;

[[noreturn]] void invalid_model(const std::string& message) {
  throw Error(StatusCode::kInvalidModel, message);
}

TensorType type_from_proto(const onnx::TypeProto& proto) {
  TensorType type;
  if (!proto.has_tensor_type()) return type;
  const auto& tt = proto.tensor_type();
  type.dtype = onnx_io::dtype_from_onnx(tt.elem_type());
  if (!tt.has_shape()) return type;
  type.has_shape = true;
  for (const auto& d : tt.shape().dim()) {
    Dim dim;
    if (d.has_dim_value() && d.dim_value() >= 0) dim.value = d.dim_value();
    if (d.has_dim_param()) dim.param = d.dim_param();
    type.dims.push_back(dim);
  }
  return type;
}

// Adds what `incoming` knows that `known` does not (never loses information).
void merge_type(TensorType& known, const TensorType& incoming) {
  if (known.dtype == DType::kUndefined) known.dtype = incoming.dtype;
  if (!incoming.has_shape) return;
  if (!known.has_shape || known.dims.size() != incoming.dims.size()) {
    if (!known.has_shape) known = TensorType{known.dtype, true, incoming.dims};
    return;
  }
  for (size_t i = 0; i < known.dims.size(); ++i) {
    if (!known.dims[i].known() && incoming.dims[i].known()) known.dims[i] = incoming.dims[i];
  }
}

Attribute attribute_from_proto(const onnx::AttributeProto& proto, const std::string& node_desc,
                               const std::string& base_dir) {
  Attribute a;
  const std::string context = fmt::format("{} attribute '{}'", node_desc, proto.name());
  switch (proto.type()) {
    case onnx::AttributeProto::FLOAT: a.type = AttrType::kFloat; a.f = proto.f(); break;
    case onnx::AttributeProto::INT: a.type = AttrType::kInt; a.i = proto.i(); break;
    case onnx::AttributeProto::STRING: a.type = AttrType::kString; a.s = proto.s(); break;
    case onnx::AttributeProto::TENSOR:
      a.type = AttrType::kTensor;
      a.t = onnx_io::tensor_from_proto(proto.t(), context, base_dir);
      break;
    case onnx::AttributeProto::FLOATS:
      a.type = AttrType::kFloats;
      a.floats.assign(proto.floats().begin(), proto.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      a.type = AttrType::kInts;
      a.ints.assign(proto.ints().begin(), proto.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      a.type = AttrType::kStrings;
      a.strings.assign(proto.strings().begin(), proto.strings().end());
      break;
    default:
      throw Error(StatusCode::kUnsupported,
                  fmt::format("{}: attributes of type {} (sparse tensors, type protos) "
                              "are not supported; cut the graph before this node",
                              context, onnx::AttributeProto_AttributeType_Name(proto.type())));
  }
  return a;
}

class Importer {
 public:
  Importer(onnx::ModelProto& model, const OnnxImportOptions& options)
      : model_(model), options_(options) {}

  Graph run() {
    read_opsets();
    return build(model_.graph());
  }

  // A subgraph (If's branches, Loop's body) in the opsets of `outer`: the values it reads
  // from the enclosing scope become inputs after its declared ones (Attribute::graph).
  static Graph subgraph(onnx::ModelProto& model, const onnx::GraphProto& gp, const Graph& outer,
                        const OnnxImportOptions& options) {
    Importer sub(model, options);
    for (const auto& [domain, version] : outer.opsets()) sub.graph_.set_opset(domain, version);
    sub.subgraph_ = true;
    return sub.build(gp);
  }

  Graph build(const onnx::GraphProto& gp) {
    graph_.set_name(gp.name());
    // Initializers are checked (data size against dims and type) before ONNX's inference,
    // which reads constant inputs such as Range's limits without checking (fuzz regression).
    for (const auto& init : gp.initializer()) add_initializer(init);
    if (options_.infer_shapes && !subgraph_) infer_shapes();  // the model's, subgraphs included
    for (const auto& in : gp.input()) {
      if (graph_.find_value(in.name())) continue;  // IR < 4 lists initializers as inputs too
      Value* v = graph_.add_value(in.name());
      v->type() = type_from_proto(in.type());
      if (v->type().dtype == DType::kUndefined && !subgraph_) {
        throw Error(StatusCode::kUnsupported,
                    fmt::format("graph input \"{}\" is not a tensor of a supported element type",
                                in.name()));
      }
      graph_.add_input(v);
    }
    for (const auto& node : gp.node()) add_node(node);
    if (subgraph_) {
      for (const std::string& name : pending_) graph_.add_input(&graph_.value(name));  // captures
      pending_.clear();
    }
    check_all_defined();
    for (const auto& out : gp.output()) {
      Value* v = graph_.find_value(out.name());
      if (!v) invalid_model(fmt::format("graph output \"{}\" is produced by no node", out.name()));
      merge_type(v->type(), type_from_proto(out.type()));
      graph_.add_output(v);
    }
    for (const auto& info : gp.value_info()) {
      if (Value* v = graph_.find_value(info.name())) merge_type(v->type(), type_from_proto(info.type()));
    }
    graph_.topological_sort();
    graph_.verify();
    return std::move(graph_);
  }

 private:
  void read_opsets() {
    for (const auto& op : model_.opset_import()) {
      const std::string& domain = op.domain() == "ai.onnx" ? std::string() : op.domain();
      graph_.set_opset(domain, op.version());
    }
    const int64_t opset = graph_.opset("");
    if (opset == 0) invalid_model("the model imports no opset of the default ONNX domain");
    if (opset < kMinOpset && ops_unchanged_since(opset)) {
      // Every op means at opset 7 what it means here, so kernels read it as opset 7.
      graph_.set_opset("", kMinOpset);
      return;
    }
    if (opset < kMinOpset || opset > kMaxOpset) {
      throw Error(StatusCode::kUnsupported,
                  fmt::format("the model uses ONNX opset {}; libquant reads opsets {}..{} "
                              "(convert it with onnx.version_converter)",
                              opset, kMinOpset, kMaxOpset));
    }
  }

  // True when no default-domain op of the model changed between `opset` and opset 7.
  bool ops_unchanged_since(int64_t opset) const {
    const auto* registry = onnx::OpSchemaRegistry::Instance();
    for (const auto& node : model_.graph().node()) {
      if (!node.domain().empty() && node.domain() != "ai.onnx") continue;
      const auto* old_schema = registry->GetSchema(node.op_type(), static_cast<int>(opset));
      const auto* new_schema = registry->GetSchema(node.op_type(), static_cast<int>(kMinOpset));
      if (!old_schema || !new_schema || old_schema->since_version() != new_schema->since_version()) {
        return false;
      }
    }
    return true;
  }

  // libquant reads dense tensors only, and ONNX's inference functions dereference a tensor
  // type they assume (a sparse-tensor graph input crashed Conv's), so other kinds of values
  // are refused before inference, naming the value.
  static void reject_other_types(const onnx::GraphProto& g) {
    const auto check = [](const onnx::ValueInfoProto& v, const char* what) {
      if (!v.has_type() || v.type().has_tensor_type()) return;
      const onnx::TypeProto& t = v.type();
      const char* kind = t.has_sparse_tensor_type() ? "a sparse tensor"
                         : t.has_sequence_type()    ? "a sequence"
                         : t.has_map_type()         ? "a map"
                         : t.has_optional_type()    ? "an optional"
                                                    : "no tensor";
      invalid_model(fmt::format("{} \"{}\" has {} type; libquant reads dense tensors only", what, v.name(), kind));
    };
    for (const auto& v : g.input()) check(v, "graph input");
    for (const auto& v : g.output()) check(v, "graph output");
    for (const auto& v : g.value_info()) check(v, "value");
    check_conv_ranks(g);
    check_inputs_defined(g);
  }

  // A node reading a value nothing defines is refused before inference: ONNX's data
  // propagation (Shape's, libonnx 1.14) dereferences the missing input's type (fuzz regression).
  static void check_inputs_defined(const onnx::GraphProto& g) {
    std::unordered_set<std::string> defined;
    for (const auto& v : g.input()) defined.insert(v.name());
    for (const auto& t : g.initializer()) defined.insert(t.name());
    for (const auto& t : g.sparse_initializer()) defined.insert(t.values().name());
    for (const auto& node : g.node()) {
      for (const auto& out : node.output()) defined.insert(out);
    }
    for (const auto& node : g.node()) {
      for (int i = 0; i < node.input_size(); ++i) {
        if (node.input(i).empty() || defined.count(node.input(i))) continue;
        invalid_model(fmt::format("{} node \"{}\" (input {}): no graph input, initializer or node defines \"{}\"",
                                  node.op_type(), node.name(), i, node.input(i)));
      }
    }
  }

  // ONNX's convolution and pooling inference (convPoolShapeInference, libonnx 1.14) indexes
  // its per-axis arrays by the weight's or kernel_shape's axes and reads past them when the
  // data input has fewer axes. Where the declared ranks already disagree, say so first.
  static void check_conv_ranks(const onnx::GraphProto& g) {
    std::map<std::string, int> ranks;
    const auto note = [&](const onnx::ValueInfoProto& v) {
      if (v.type().has_tensor_type() && v.type().tensor_type().has_shape()) {
        ranks[v.name()] = v.type().tensor_type().shape().dim_size();
      }
    };
    for (const auto& v : g.input()) note(v);
    for (const auto& v : g.value_info()) note(v);
    for (const auto& t : g.initializer()) ranks[t.name()] = t.dims_size();
    static const std::set<std::string> kConvPool = {"Conv", "ConvInteger", "QLinearConv", "ConvTranspose",
                                                    "MaxPool", "AveragePool", "LpPool"};
    for (const auto& node : g.node()) {
      if (!node.domain().empty() || !kConvPool.count(node.op_type()) || node.input_size() == 0) continue;
      const auto data = ranks.find(node.input(0));
      if (data == ranks.end()) continue;
      const std::string where = fmt::format("{} node \"{}\"", node.op_type(), node.name());
      if (data->second < 3) {
        invalid_model(fmt::format("{}: input \"{}\" has rank {}, expected at least 3 (N, C and a spatial axis)",
                                  where, node.input(0), data->second));
      }
      const int weight_input = node.op_type() == "QLinearConv" ? 3 : 1;
      const bool has_weight = node.op_type().find("Conv") != std::string::npos && node.input_size() > weight_input;
      if (has_weight) {
        const auto weight = ranks.find(node.input(weight_input));
        if (weight != ranks.end() && weight->second != data->second) {
          invalid_model(fmt::format("{}: weight \"{}\" has rank {} but input \"{}\" has rank {}", where,
                                    node.input(weight_input), weight->second, node.input(0), data->second));
        }
      }
      for (const auto& a : node.attribute()) {
        const bool per_axis = a.name() == "kernel_shape" || a.name() == "strides" || a.name() == "dilations" ||
                              a.name() == "output_padding";
        const int want = a.name() == "pads" ? 2 * (data->second - 2) : data->second - 2;
        if ((per_axis || a.name() == "pads") && a.ints_size() != want) {
          invalid_model(fmt::format("{}: attribute {} has {} values, expected {} for an input of rank {}",
                                    where, a.name(), a.ints_size(), want, data->second));
        }
      }
    }
  }

  // ONNX's inference knows every standard op; ours (infer_shapes_by_execution) fills
  // in what it leaves unknown once input shapes are fixed. A model ONNX's inference
  // rejects may still be valid for us, so its errors are not fatal.
  void infer_shapes() {
    reject_other_types(model_.graph());
    try {
      onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*strict_mode=*/0,
                                       /*data_prop=*/true);
      onnx::shape_inference::InferShapes(model_, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception&) {
      // Keep the declared types; run-time shapes still come from the kernels.
    }
  }

  void add_initializer(const onnx::TensorProto& init) {
    if (init.name().empty()) invalid_model("an initializer has no name");
    // The model's initializers together, before this one's data is read (external data
    // files can declare any size); each one is checked on its own by tensor_from_proto.
    const DType dtype = onnx_io::dtype_from_onnx(init.data_type());
    const bool negative = std::any_of(init.dims().begin(), init.dims().end(), [](int64_t d) { return d < 0; });
    if (dtype != DType::kUndefined && !negative) {  // else tensor_from_proto says what is wrong
      const Shape dims(init.dims().begin(), init.dims().end());
      check_tensor_size(dtype, dims, ResourceLimits{}, fmt::format("initializer \"{}\"", init.name()));
      const int64_t bytes = checked_nbytes(dtype, dims);
      if (bytes < 0 || __builtin_add_overflow(initializer_bytes_, bytes, &initializer_bytes_)) initializer_bytes_ = -1;
      check_model_size(initializer_bytes_, ResourceLimits{},
                       fmt::format("the model's initializers (up to \"{}\")", init.name()));
    }
    Value* v = graph_.add_value(init.name());
    graph_.set_initializer(
        v, onnx_io::tensor_from_proto(init, fmt::format("initializer \"{}\"", init.name()),
                                      options_.base_dir));
  }

  Value* value_for_input(const std::string& name) {
    if (name.empty()) return nullptr;  // an absent optional input
    Value* v = graph_.find_value(name);
    if (!v) {
      // May be produced by a later node: ONNX files are not always sorted.
      v = graph_.add_value(name);
      pending_.insert(name);
    }
    return v;
  }

  void check_all_defined() const {
    for (const std::string& name : pending_) {
      const Use& use = graph_.value(name).uses().front();
      invalid_model(fmt::format("{} (input {}): value \"{}\" is no graph input, initializer or "
                                "node output", use.node->describe(), use.input_index, name));
    }
  }

  void add_node(const onnx::NodeProto& np) {
    std::string name = np.name();
    if (name.empty() || graph_.find_node(name)) {
      name = graph_.unique_name(np.name().empty() ? np.op_type() : np.name());
    }
    const std::string desc = fmt::format("{} node \"{}\"", np.op_type(), name);
    std::vector<Value*> inputs;
    for (int i = 0; i < np.input_size(); ++i) inputs.push_back(value_for_input(np.input(i)));
    std::vector<Value*> outputs;
    for (int i = 0; i < np.output_size(); ++i) {
      std::string out_name = np.output(i);
      if (out_name.empty()) out_name = graph_.unique_name(fmt::format("{}_unused_output_{}", name, i));
      Value* v = graph_.find_value(out_name);
      if (v && pending_.erase(out_name)) {
        outputs.push_back(v);
        continue;
      }
      if (v) invalid_model(fmt::format("{} (output {}): value \"{}\" is already defined", desc, i, out_name));
      outputs.push_back(graph_.add_value(out_name));
    }
    Node* node = graph_.add_node(np.op_type(), inputs, outputs, name,
                                 np.domain() == "ai.onnx" ? std::string() : np.domain());
    for (const auto& attr : np.attribute()) {
      if (attr.type() == onnx::AttributeProto::GRAPH) {
        node->set_attr(attr.name(), subgraph_attribute(*node, attr));
        continue;
      }
      node->set_attr(attr.name(), attribute_from_proto(attr, desc, options_.base_dir));
    }
  }

  Attribute subgraph_attribute(Node& node, const onnx::AttributeProto& attr) {
    Attribute a;
    a.type = AttrType::kGraph;
    a.graph_declared_inputs = static_cast<size_t>(attr.g().input_size());
    auto sub = std::make_shared<Graph>(subgraph(model_, attr.g(), graph_, options_));
    for (size_t i = a.graph_declared_inputs; i < sub->inputs().size(); ++i) {
      Value* captured = value_for_input(sub->inputs()[i]->name());
      const auto& in = node.inputs();
      if (std::find(in.begin(), in.end(), captured) == in.end()) graph_.set_input(&node, in.size(), captured);
    }
    a.graph = std::move(sub);
    return a;
  }

  onnx::ModelProto& model_;
  const OnnxImportOptions& options_;
  Graph graph_;
  std::unordered_set<std::string> pending_;
  bool subgraph_ = false;
  int64_t initializer_bytes_ = 0;  // read so far (-1: more than int64 counts)
};

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}  // namespace

Graph parse_onnx(const void* data, size_t size, const OnnxImportOptions& options) {
  onnx::ModelProto model;
  if (size > static_cast<size_t>(INT32_MAX) ||
      !model.ParseFromArray(data, static_cast<int>(size))) {
    invalid_model(fmt::format(
        "the {}-byte buffer is not a valid ONNX model (corrupt or truncated protobuf)", size));
  }
  if (!model.has_graph()) invalid_model("the ONNX model has no graph");
  return Importer(model, options).run();
}

Graph load_onnx(const std::string& path, const OnnxImportOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw Error(StatusCode::kNotFound, fmt::format("cannot open model file '{}'", path));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string bytes = buffer.str();
  OnnxImportOptions opts = options;
  if (opts.base_dir.empty()) opts.base_dir = directory_of(path);
  try {
    return parse_onnx(bytes.data(), bytes.size(), opts);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace lq
