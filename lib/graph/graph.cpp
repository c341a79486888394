#include "libquant/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

namespace lq {

namespace {

[[noreturn]] void invalid_model(const std::string& message) {
  throw Error(StatusCode::kInvalidModel, message);
}

}  // namespace

// ---- TensorType ---------------------------------------------------------------------

bool TensorType::is_static() const {
  if (!has_shape) return false;
  return std::all_of(dims.begin(), dims.end(), [](const Dim& d) { return d.known(); });
}

Shape TensorType::static_shape() const {
  if (!is_static()) {
    throw Error(StatusCode::kFailedPrecondition, "shape " + str() + " is not fully known");
  }
  Shape shape;
  for (const auto& d : dims) shape.push_back(d.value);
  return shape;
}

std::string TensorType::str() const {
  std::string s = dtype_name(dtype);
  if (!has_shape) return s + "[?]";
  s += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i].known() ? std::to_string(dims[i].value) : (dims[i].param.empty() ? "?" : dims[i].param);
  }
  return s + "]";
}

// ---- Node ---------------------------------------------------------------------------

std::string Node::describe() const {
  return fmt::format("{} node \"{}\"", op_type_, name_);
}

const Attribute* Node::find_attr(const std::string& name) const {
  auto it = attributes_.find(name);
  return it == attributes_.end() ? nullptr : &it->second;
}

namespace {

const Attribute* typed_attr(const Node& node, const std::string& name, AttrType type,
                            const char* type_name) {
  const Attribute* a = node.find_attr(name);
  if (a && a->type != type) {
    throw Error(StatusCode::kInvalidModel,
                fmt::format("{}: attribute '{}' should be {}", node.describe(), name, type_name));
  }
  return a;
}

}  // namespace

int64_t Node::attr_int(const std::string& name, int64_t fallback) const {
  const Attribute* a = typed_attr(*this, name, AttrType::kInt, "an int");
  return a ? a->i : fallback;
}

float Node::attr_float(const std::string& name, float fallback) const {
  const Attribute* a = typed_attr(*this, name, AttrType::kFloat, "a float");
  return a ? a->f : fallback;
}

std::string Node::attr_string(const std::string& name, const std::string& fallback) const {
  const Attribute* a = typed_attr(*this, name, AttrType::kString, "a string");
  return a ? a->s : fallback;
}

std::vector<int64_t> Node::attr_ints(const std::string& name,
                                     const std::vector<int64_t>& fallback) const {
  const Attribute* a = typed_attr(*this, name, AttrType::kInts, "a list of ints");
  return a ? a->ints : fallback;
}

std::vector<float> Node::attr_floats(const std::string& name,
                                     const std::vector<float>& fallback) const {
  const Attribute* a = typed_attr(*this, name, AttrType::kFloats, "a list of floats");
  return a ? a->floats : fallback;
}

// ---- Graph --------------------------------------------------------------------------

Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::~Graph() = default;

Graph Graph::clone() const {
  Graph copy;
  copy.name_ = name_;
  copy.opsets_ = opsets_;
  for (const auto& v : values_) {
    Value* nv = copy.add_value(v->name());
    nv->type_ = v->type_;
    nv->initializer_ = v->initializer_;
  }
  auto map = [&](Value* v) { return v ? copy.value_by_name_.at(v->name()) : nullptr; };
  for (const auto& n : nodes_) {
    std::vector<Value*> ins, outs;
    for (Value* v : n->inputs_) ins.push_back(map(v));
    for (Value* v : n->outputs_) outs.push_back(map(v));
    Node* nn = copy.add_node(n->op_type_, ins, outs, n->name_, n->domain_);
    nn->attributes_ = n->attributes_;
  }
  for (Value* v : inputs_) copy.add_input(map(v));
  for (Value* v : outputs_) copy.add_output(map(v));
  return copy;
}

int64_t Graph::opset(const std::string& domain) const {
  auto it = opsets_.find(domain);
  return it == opsets_.end() ? 0 : it->second;
}

Value* Graph::find_value(const std::string& name) const {
  auto it = value_by_name_.find(name);
  return it == value_by_name_.end() ? nullptr : it->second;
}

Value& Graph::value(const std::string& name) const {
  Value* v = find_value(name);
  if (!v) throw Error(StatusCode::kNotFound, fmt::format("no value named \"{}\" in the graph", name));
  return *v;
}

Value* Graph::add_value(const std::string& name) {
  if (name.empty()) invalid_model("a value needs a non-empty name");
  if (value_by_name_.count(name)) {
    invalid_model(fmt::format("value \"{}\" is defined twice", name));
  }
  values_.push_back(std::unique_ptr<Value>(new Value(name)));
  value_by_name_[name] = values_.back().get();
  return values_.back().get();
}

void Graph::rename_value(Value* value, const std::string& name) {
  if (name.empty() || value_by_name_.count(name)) {
    invalid_model(fmt::format("cannot rename \"{}\" to \"{}\": the name is empty or taken",
                              value->name(), name));
  }
  value_by_name_.erase(value->name_);
  value->name_ = name;
  value_by_name_[name] = value;
}

std::string Graph::unique_name(const std::string& base) const {
  if (!find_value(base) && !find_node(base)) return base;
  for (int i = 1;; ++i) {
    std::string candidate = fmt::format("{}_{}", base, i);
    if (!find_value(candidate) && !find_node(candidate)) return candidate;
  }
}

void Graph::set_initializer(Value* value, Tensor data) {
  if (value->producer_) {
    invalid_model(fmt::format("value \"{}\" has a producer and cannot be a constant", value->name()));
  }
  value->type_.dtype = data.dtype();
  value->type_.has_shape = true;
  value->type_.dims.clear();
  for (int64_t d : data.shape()) value->type_.dims.push_back(Dim{d, {}});
  value->initializer_ = std::make_shared<Tensor>(std::move(data));
}

std::vector<Value*> Graph::initializers() const {
  std::vector<Value*> out;
  for (const auto& v : values_) {
    if (v->is_constant()) out.push_back(v.get());
  }
  return out;
}

void Graph::add_input(Value* value) {
  value->is_graph_input_ = true;
  inputs_.push_back(value);
}

void Graph::add_output(Value* value) {
  value->is_graph_output_ = true;
  outputs_.push_back(value);
}

void Graph::set_outputs(std::vector<Value*> outputs) {
  for (Value* v : outputs_) v->is_graph_output_ = false;
  outputs_.clear();
  for (Value* v : outputs) add_output(v);
}

void Graph::set_inputs(std::vector<Value*> inputs) {
  for (Value* v : inputs_) v->is_graph_input_ = false;
  inputs_.clear();
  for (Value* v : inputs) add_input(v);
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> out;
  out.reserve(nodes_.size());
  for (const auto& n : nodes_) out.push_back(n.get());
  return out;
}

Node* Graph::find_node(const std::string& name) const {
  if (name.empty()) return nullptr;
  for (const auto& n : nodes_) {
    if (n->name_ == name) return n.get();
  }
  return nullptr;
}

Node* Graph::add_node(const std::string& op_type, const std::vector<Value*>& inputs,
                      const std::vector<Value*>& outputs, const std::string& name,
                      const std::string& domain) {
  auto node = std::unique_ptr<Node>(new Node());
  node->op_type_ = op_type;
  node->domain_ = domain;
  node->name_ = name.empty() ? unique_name(op_type + "_" + std::to_string(nodes_.size())) : name;
  for (size_t i = 0; i < outputs.size(); ++i) {
    Value* out = outputs[i];
    if (out->producer_ || out->is_constant() || out->is_graph_input_) {
      invalid_model(fmt::format("{} node \"{}\": output \"{}\" is already defined elsewhere",
                                op_type, node->name_, out->name()));
    }
    out->producer_ = node.get();
    out->producer_output_ = i;
  }
  node->outputs_ = outputs;
  node->inputs_ = inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i]) inputs[i]->uses_.push_back(Use{node.get(), i});
  }
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

void Graph::set_input(Node* node, size_t index, Value* value) {
  if (index >= node->inputs_.size()) node->inputs_.resize(index + 1, nullptr);
  if (Value* old = node->inputs_[index]) {
    auto& uses = old->uses_;
    uses.erase(std::remove_if(uses.begin(), uses.end(),
                              [&](const Use& u) { return u.node == node && u.input_index == index; }),
               uses.end());
  }
  node->inputs_[index] = value;
  if (value) value->uses_.push_back(Use{node, index});
}

void Graph::remove_node(Node* node) {
  for (size_t i = 0; i < node->inputs_.size(); ++i) set_input(node, i, nullptr);
  for (Value* out : node->outputs_) {
    out->producer_ = nullptr;
    out->producer_output_ = 0;
  }
  nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(),
                              [&](const std::unique_ptr<Node>& n) { return n.get() == node; }),
               nodes_.end());
}

void Graph::replace_all_uses(Value* from, Value* to) {
  const std::vector<Use> uses = from->uses_;
  for (const Use& u : uses) set_input(u.node, u.input_index, to);
  for (Value*& out : outputs_) {
    if (out == from) {
      from->is_graph_output_ = false;
      out = to;
      to->is_graph_output_ = true;
    }
  }
}

void Graph::remove_unused_values() {
  std::vector<std::unique_ptr<Value>> kept;
  for (auto& v : values_) {
    const bool used = v->producer_ || !v->uses_.empty() || v->is_graph_input_ || v->is_graph_output_;
    if (used) {
      kept.push_back(std::move(v));
    } else {
      value_by_name_.erase(v->name());
    }
  }
  values_ = std::move(kept);
}

void Graph::topological_sort() {
  // Kahn's algorithm; ready nodes keep their original relative order.
  std::unordered_map<const Node*, size_t> pending;
  std::vector<Node*> ready;
  for (auto& n : nodes_) {
    size_t count = 0;
    for (Value* in : n->inputs_) {
      if (in && in->producer_) ++count;
    }
    pending[n.get()] = count;
    if (count == 0) ready.push_back(n.get());
  }
  std::vector<std::unique_ptr<Node>> sorted;
  std::unordered_map<Node*, std::unique_ptr<Node>> owned;
  for (auto& n : nodes_) owned[n.get()] = std::move(n);
  size_t next = 0;
  while (next < ready.size()) {
    Node* n = ready[next++];
    sorted.push_back(std::move(owned[n]));
    for (Value* out : n->outputs_) {
      for (const Use& u : out->uses_) {
        if (--pending[u.node] == 0) ready.push_back(u.node);
      }
    }
  }
  if (sorted.size() != pending.size()) {
    for (auto& entry : owned) {
      if (entry.second) sorted.push_back(std::move(entry.second));
    }
    nodes_ = std::move(sorted);
    invalid_model("the graph has a cycle; nodes cannot be ordered");
  }
  nodes_ = std::move(sorted);
}

void Graph::verify() const {
  std::unordered_set<const Value*> defined;
  for (Value* v : inputs_) defined.insert(v);
  for (const auto& v : values_) {
    if (v->is_constant()) defined.insert(v.get());
    if (value_by_name_.at(v->name()) != v.get()) {
      invalid_model(fmt::format("value \"{}\" is registered under another entry", v->name()));
    }
    for (const Use& u : v->uses_) {
      if (u.input_index >= u.node->inputs_.size() || u.node->inputs_[u.input_index] != v.get()) {
        invalid_model(fmt::format("value \"{}\" lists a use by {} that the node does not have",
                                  v->name(), u.node->describe()));
      }
    }
  }
  std::unordered_set<std::string> node_names;
  for (const auto& n : nodes_) {
    if (!node_names.insert(n->name_).second) {
      invalid_model(fmt::format("two nodes are named \"{}\"", n->name_));
    }
    for (size_t i = 0; i < n->inputs_.size(); ++i) {
      const Value* in = n->inputs_[i];
      if (!in) continue;
      if (!defined.count(in)) {
        invalid_model(fmt::format("{} (input {}): value \"{}\" is used before it is defined",
                                  n->describe(), i, in->name()));
      }
      const auto& uses = in->uses_;
      const bool listed = std::any_of(uses.begin(), uses.end(), [&](const Use& u) {
        return u.node == n.get() && u.input_index == i;
      });
      if (!listed) {
        invalid_model(fmt::format("{} (input {}): value \"{}\" does not list this use",
                                  n->describe(), i, in->name()));
      }
    }
    for (size_t i = 0; i < n->outputs_.size(); ++i) {
      const Value* out = n->outputs_[i];
      if (out->producer_ != n.get() || out->producer_output_ != i) {
        invalid_model(fmt::format("{} (output {}): value \"{}\" names another producer",
                                  n->describe(), i, out->name()));
      }
      defined.insert(out);
    }
  }
  for (const Value* out : outputs_) {
    if (!defined.count(out)) {
      invalid_model(fmt::format("graph output \"{}\" is never produced", out->name()));
    }
  }
}

}  // namespace lq
