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
  // Replaces the graph inputs (values without a producer).
  void set_inputs(std::vector<Value*> inputs);

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

// ---- Boundary surgery (hb_compile's remove_node_type / remove_node_name, output_nodes) ----
struct BoundaryRemoval {
  // Nodes of these op types are removed wherever they touch a graph input or output, again
  // and again until none does (a Transpose -> Softmax tail goes with both types given).
  std::vector<std::string> op_types;
  // These nodes are removed; each must be at a boundary (once the others are removed).
  std::vector<std::string> node_names;
};
// A node boundary surgery removed: what the application now runs itself, on the program's
// outputs (at_input false) or before feeding its inputs.
struct RemovedNode {
  std::string name;
  std::string op_type;
  bool at_input = false;
  std::vector<std::string> inputs;   // its value names ("" for an absent optional input)
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attributes;
};
// At an output: every output of the node is a graph output nothing else reads, and it has one
// non-constant input, which becomes the graph output in its place. At an input: its one
// non-constant input is a graph input only it reads, and it has one output, which becomes the
// graph input in its place. Throws naming the node that is not at a boundary, a name that
// does not exist (with the nearest node name) or an op type no node has (with the nearest).
LQ_EXPORT std::vector<RemovedNode> remove_boundary_nodes(Graph& graph, const BoundaryRemoval& removal);
// The removed nodes as JSON (name, op_type, boundary, inputs, outputs, attributes).
LQ_EXPORT std::string removed_nodes_json(const std::vector<RemovedNode>& removed);
// Makes these values graph outputs too, after the existing ones. Throws kNotFound naming a
// value that does not exist, with the nearest name.
LQ_EXPORT void add_outputs(Graph& graph, const std::vector<std::string>& value_names);

// ---- Input formats: preprocessing folded into the model (hb_compile's input_type_rt) ----
enum class Layout : uint8_t { kNCHW, kNHWC };
// What a program input holds at run time (raw pixels in [0, 255], any dtype that holds
// them: uint8 or float32), or what the float model was trained on.
enum class PixelFormat : uint8_t {
  kFeatureMap,  // the model's own tensor, unchanged
  kRGB,
  kBGR,
  kGray,
  kYUV444,  // planes Y, U (Cb), V (Cr) per pixel
  kNV12,    // YUV 4:2:0: [N, H*3/2, W], the Y plane then interleaved U,V at half resolution
};
// BT.601 YUV range: full (JPEG, Y and chroma in [0, 255]) or video (Y in [16, 235], chroma
// in [16, 240]).
enum class YuvRange : uint8_t { kFull, kVideo };
struct InputFormat {
  PixelFormat runtime = PixelFormat::kFeatureMap;  // what the program takes
  Layout runtime_layout = Layout::kNCHW;  // rgb, bgr, gray, yuv444 (nv12 is planar)
  YuvRange range = YuvRange::kFull;       // yuv444 and nv12 at run time
  PixelFormat train = PixelFormat::kRGB;  // the float model's channels: rgb, bgr, gray, yuv444
  // The float model's layout; unset: NCHW unless only the last axis has 1 or 3 channels.
  std::optional<Layout> train_layout;
  // train = (pixel - mean) * scale, per train channel (one value: every channel; empty:
  // mean 0, scale 1).
  std::vector<float> mean;
  std::vector<float> scale;
};
LQ_EXPORT const char* pixel_format_name(PixelFormat format);  // "nv12", "featuremap", ...
// Throws kInvalidArgument naming the allowed formats.
LQ_EXPORT PixelFormat parse_pixel_format(const std::string& name);
// The shape a program input of `format` takes for a float model input of `train_shape`
// (rank 4); throws naming the input and the rule for combinations the table forbids
// (e.g. gray from nv12, or nv12 with an odd height).
LQ_EXPORT Shape runtime_input_shape(const std::string& input, const InputFormat& format,
                                    const Shape& train_shape);
// Folds the conversion from `format.runtime` to the model's input (chroma upsampling, the
// YUV -> RGB matrix, channel order, layout, mean and scale) into the graph: the input
// `input` keeps its name and takes raw pixels in [0, 255] of runtime_input_shape(); the
// conversion is a Conv 1x1 (plus data movement) in front of the model. Needs a static shape.
// Returns the values that hold pixels (the input, then the data movement before the Conv),
// whose range is [0, 255] whatever the calibration data.
LQ_EXPORT std::vector<std::string> fuse_input_format(Graph& graph, const std::string& input,
                                                     const InputFormat& format);
// The RGB (full-range BT.601) of one YUV pixel as fuse_input_format computes it:
// rgb = matrix * yuv + offset.
LQ_EXPORT void yuv_to_rgb_matrix(YuvRange range, float matrix[9], float offset[3]);

// Runs the passes to a fixed point; returns the names of passes that changed something.
LQ_EXPORT std::vector<std::string> optimize(Graph& graph, const OptimizeOptions& options = {});

}  // namespace lq
