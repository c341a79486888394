// Graph IR: values with a producer and uses, nodes in topological order,
// initializers as constant values. Imported from and exported to ONNX.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/tensor.hpp"

namespace lq {

class Node;
class Graph;

// One dimension of a declared shape: a known size, or unknown (optionally named).
struct Dim {
  int64_t value = -1;
  std::string param;
  bool known() const { return value >= 0; }
};

struct LQ_EXPORT TensorType {
  DType dtype = DType::kUndefined;
  bool has_shape = false;  // false: even the rank is unknown
  std::vector<Dim> dims;

  bool is_static() const;
  Shape static_shape() const;  // throws unless is_static()
  std::string str() const;     // "float32[N,3,48,?]"
};

struct Use {
  Node* node;
  size_t input_index;
};

class LQ_EXPORT Value {
 public:
  const std::string& name() const { return name_; }
  TensorType& type() { return type_; }
  const TensorType& type() const { return type_; }
  Node* producer() const { return producer_; }
  size_t producer_output() const { return producer_output_; }
  const std::vector<Use>& uses() const { return uses_; }
  // Constant values (ONNX initializers) carry their data.
  bool is_constant() const { return initializer_ != nullptr; }
  const Tensor* initializer() const { return initializer_.get(); }
  bool is_graph_input() const { return is_graph_input_; }
  bool is_graph_output() const { return is_graph_output_; }

 private:
  friend class Graph;
  explicit Value(std::string name) : name_(std::move(name)) {}

  std::string name_;
  TensorType type_;
  Node* producer_ = nullptr;
  size_t producer_output_ = 0;
  std::vector<Use> uses_;
  std::shared_ptr<Tensor> initializer_;
  bool is_graph_input_ = false;
  bool is_graph_output_ = false;
};

enum class AttrType : uint8_t { kFloat, kInt, kString, kTensor, kFloats, kInts, kStrings, kGraph };

struct Attribute {
  AttrType type = AttrType::kInt;
  float f = 0.0f;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  // kGraph: a subgraph (If's branches, Loop's body). Its inputs are the declared ones
  // followed by the values it reads from the enclosing graph (captures, by their names);
  // the importer appends the captures to the node's inputs too, so that the enclosing
  // graph sees them used (the exporter drops them again).
  std::shared_ptr<const Graph> graph;
  size_t graph_declared_inputs = 0;
};

class LQ_EXPORT Node {
 public:
  const std::string& op_type() const { return op_type_; }
  const std::string& domain() const { return domain_; }
  const std::string& name() const { return name_; }
  // `Conv node "stem_conv"`: the prefix of every error about this node.
  std::string describe() const;

  // Absent optional inputs are nullptr.
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }

  const std::map<std::string, Attribute>& attributes() const { return attributes_; }
  bool has_attr(const std::string& name) const { return attributes_.count(name) != 0; }
  const Attribute* find_attr(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name, float fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name,
                                 const std::vector<int64_t>& fallback = {}) const;
  std::vector<float> attr_floats(const std::string& name,
                                 const std::vector<float>& fallback = {}) const;
  void set_attr(const std::string& name, Attribute attr) { attributes_[name] = std::move(attr); }
  void remove_attr(const std::string& name) { attributes_.erase(name); }

 private:
  friend class Graph;
  Node() = default;

  std::string op_type_;
  std::string domain_;
  std::string name_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::map<std::string, Attribute> attributes_;
};

class LQ_EXPORT Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  ~Graph();

  // A deep copy (values, nodes and initializer buffers shared read-only).
  Graph clone() const;

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // Opset imported for a domain ("" is the default ONNX domain); 0 if absent.
  int64_t opset(const std::string& domain = "") const;
  void set_opset(const std::string& domain, int64_t version) { opsets_[domain] = version; }
  const std::map<std::string, int64_t>& opsets() const { return opsets_; }

  // Values. Names are unique.
  Value* find_value(const std::string& name) const;
  Value& value(const std::string& name) const;  // throws kNotFound
  Value* add_value(const std::string& name);     // throws if the name exists
  void rename_value(Value* value, const std::string& name);  // throws if the name exists
  std::string unique_name(const std::string& base) const;
  void set_initializer(Value* value, Tensor data);
  std::vector<Value*> initializers() const;

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  void add_input(Value* value);
  void add_output(Value* value);
  void set_outputs(std::vector<Value*> outputs);

  // Nodes, kept in topological order by the mutators below.
  std::vector<Node*> nodes() const;
  size_t num_nodes() const { return nodes_.size(); }
  Node* find_node(const std::string& name) const;
  // Appends a node; inputs may be nullptr for absent optional inputs.
  Node* add_node(const std::string& op_type, const std::vector<Value*>& inputs,
                 const std::vector<Value*>& outputs, const std::string& name = "",
                 const std::string& domain = "");
  void set_input(Node* node, size_t index, Value* value);
  void remove_node(Node* node);
  // Points every use of `from` at `to` (graph outputs too).
  void replace_all_uses(Value* from, Value* to);
  // Drops values that are no graph input/output, have no producer and no use.
  void remove_unused_values();
  // Restores topological order after edits; throws kInvalidModel on a cycle.
  void topological_sort();
  // Checks every invariant (unique names, producers and uses agree, order,
  // every used value defined); throws kInvalidModel naming the first violation.
  void verify() const;

 private:
  std::string name_;
  std::map<std::string, int64_t> opsets_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::unordered_map<std::string, Value*> value_by_name_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
};

struct OnnxImportOptions {
  // Run ONNX shape inference (plus libquant's own where it leaves shapes unknown).
  bool infer_shapes = true;
  // Where external data files are looked up when loading from memory.
  std::string base_dir;
};

LQ_EXPORT Graph load_onnx(const std::string& path, const OnnxImportOptions& options = {});
LQ_EXPORT Graph parse_onnx(const void* data, size_t size, const OnnxImportOptions& options = {});
LQ_EXPORT std::string serialize_onnx(const Graph& graph);
LQ_EXPORT void save_onnx(const Graph& graph, const std::string& path);

// The rewrites of lib/passes, each returning whether it changed the graph.
struct OptimizeOptions {
  bool fold_constants = true;
  bool fold_if = true;  // an If with a constant condition -> the nodes of its branch
  bool fuse_batchnorm = true;
  bool fuse_conv_affine = true;  // Conv -> Mul/Add by per-channel constants -> Conv
  bool fuse_hardswish = true;  // x * Clip(x + 3, 0, 6) / 6 -> x * HardSigmoid(x)
  bool fuse_pad_pool = true;   // Pad(-FLT_MAX) -> MaxPool: the MaxPool's padding
  bool eliminate_identity = true;
  bool remove_dead_nodes = true;
  bool verify_each_pass = false;  // always on in debug builds
};
// Rewrites the graph for a newer default-domain opset, computing the same function
// (attributes that became inputs, Upsample -> Resize, Softmax's axis semantics, ...).
// Throws kUnsupported naming a node whose op changed in a way it does not rewrite.
// Returns whether it changed the graph.
LQ_EXPORT bool upgrade_opset(Graph& graph, int64_t target);

// Makes `value_names` the graph outputs (in that order) and removes what no longer feeds
// them. Throws kNotFound naming a value that does not exist.
LQ_EXPORT void cut_outputs(Graph& graph, const std::vector<std::string>& value_names);
// Removes nodes at the output boundary (e.g. a final Softmax or Sigmoid the application
// applies itself): each node's outputs must all be graph outputs; its first input becomes
// a graph output in their place. Throws naming a node that is not at the boundary.
LQ_EXPORT void remove_output_nodes(Graph& graph, const std::vector<std::string>& node_names);

// Runs the passes to a fixed point; returns the names of passes that changed something.
LQ_EXPORT std::vector<std::string> optimize(Graph& graph, const OptimizeOptions& options = {});

}  // namespace lq
