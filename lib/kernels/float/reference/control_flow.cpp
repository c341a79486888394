// If and Loop whose condition or trip count is known only at run time (fold_if replaces an
// If with a constant condition before this): the chosen branch, or the body once per
// iteration, runs node by node with the reference kernels. The subgraph's inputs are its
// declared ones followed by its captures, which the importer also appended to the node's
// inputs (graph.hpp, Attribute::graph); they are bound by name.
#include <cstring>
#include <map>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

namespace {

const KernelRegistry& reference_registry() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_reference_kernels(r);
    return r;
  }();
  return registry;
}

const Graph& subgraph(const KernelContext& ctx, const char* name) {
  const Attribute* a = ctx.node.find_attr(name);
  if (!a || a->type != AttrType::kGraph || !a->graph) {
    ctx.fail(StatusCode::kInvalidModel, "attribute '{}' (a graph) is missing", name);
  }
  return *a->graph;
}

// The values a subgraph reads from the enclosing graph, by name: the node's inputs from
// `first` on.
std::map<std::string, Tensor> captures(const KernelContext& ctx, size_t first) {
  std::map<std::string, Tensor> bound;
  for (size_t i = first; i < ctx.num_inputs(); ++i) {
    const Value* v = ctx.node.input(i);
    if (v && ctx.has_input(i)) bound[v->name()] = ctx.input(i);
  }
  return bound;
}

// Runs `graph` with its inputs (declared and captured) bound by name; returns its outputs.
std::vector<Tensor> run_subgraph(const KernelContext& ctx, const Graph& graph, std::map<std::string, Tensor> values) {
  for (const Value* in : graph.inputs()) {
    if (!values.count(in->name())) {
      ctx.fail(StatusCode::kInvalidModel, "its subgraph \"{}\" reads \"{}\", which is not given", graph.name(),
               in->name());
    }
  }
  for (const Value* init : graph.initializers()) values[init->name()] = *init->initializer();
  const int64_t opset = graph.opset("") > 0 ? graph.opset("") : ctx.opset;
  for (const Node* node : graph.nodes()) {
    const KernelFn fn = node->domain().empty() || node->domain() == "ai.onnx" ? reference_registry().find(node->op_type())
                                                                                : nullptr;
    if (!fn) {
      ctx.fail(StatusCode::kUnsupported, "its subgraph's {} has no float kernel", node->describe());
    }
    KernelContext sub{*node, opset, {}, {}, ctx.pool, nullptr, ctx.limits};
    for (const Value* in : node->inputs()) {
      if (!in) {
        sub.inputs.push_back(nullptr);
        continue;
      }
      auto it = values.find(in->name());
      if (it == values.end()) {
        ctx.fail(StatusCode::kInvalidModel, "its subgraph's {} reads \"{}\", which nothing defines", node->describe(),
                 in->name());
      }
      sub.inputs.push_back(&it->second);
    }
    sub.outputs.resize(node->outputs().size());
    fn(sub);
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      if (node->output(i)) values[node->output(i)->name()] = sub.outputs[i];
    }
  }
  std::vector<Tensor> out;
  for (const Value* v : graph.outputs()) {
    auto it = values.find(v->name());
    if (it == values.end()) ctx.fail(StatusCode::kInvalidModel, "its subgraph's output \"{}\" is never computed", v->name());
    out.push_back(it->second);
  }
  return out;
}

bool truth(const KernelContext& ctx, const Tensor& t, const char* what) {
  if (t.numel() != 1) ctx.fail(StatusCode::kInvalidModel, "{} has {} elements, expected 1", what, t.numel());
  return t.to_doubles()[0] != 0.0;
}

size_t declared_inputs(const KernelContext& ctx, const char* name) {
  const Attribute* a = ctx.node.find_attr(name);
  return a ? a->graph_declared_inputs : 0;
}

}  // namespace

void if_op(KernelContext& ctx) {
  const bool cond = truth(ctx, ctx.input(0), "the condition");
  const Graph& branch = subgraph(ctx, cond ? "then_branch" : "else_branch");
  std::vector<Tensor> out = run_subgraph(ctx, branch, captures(ctx, 1));
  if (out.size() != ctx.num_outputs()) {
    ctx.fail(StatusCode::kInvalidModel, "its {} branch has {} outputs, the node {}", cond ? "then" : "else",
             out.size(), ctx.num_outputs());
  }
  for (size_t i = 0; i < out.size(); ++i) ctx.outputs[i] = out[i];
}

// Loop(M, cond, v_initial...): body(iteration_num, cond, v...) -> (cond, v..., scan...).
void loop(KernelContext& ctx) {
  const Graph& body = subgraph(ctx, "body");
  const size_t declared = declared_inputs(ctx, "body");
  if (declared < 2) ctx.fail(StatusCode::kInvalidModel, "its body declares {} inputs, at least 2 are needed", declared);
  const size_t carried = declared - 2;
  if (body.outputs().size() < 1 + carried) {
    ctx.fail(StatusCode::kInvalidModel, "its body has {} outputs for {} loop-carried values", body.outputs().size(),
             carried);
  }
  const size_t scans = body.outputs().size() - 1 - carried;
  const bool has_max = ctx.has_input(0) && ctx.input(0).numel() > 0;
  const int64_t max_trips = has_max ? ctx.input(0).to_int64s()[0] : 0;
  bool cond = ctx.has_input(1) && ctx.input(1).numel() > 0 ? truth(ctx, ctx.input(1), "the initial condition") : true;
  std::vector<Tensor> state;
  for (size_t i = 0; i < carried; ++i) state.push_back(ctx.input(2 + i));
  const std::map<std::string, Tensor> outer = captures(ctx, 2 + carried);
  std::vector<std::vector<Tensor>> scanned(scans);
  constexpr int64_t kMaxIterations = int64_t{1} << 20;
  int64_t trip = 0;
  for (; cond && (!has_max || trip < max_trips); ++trip) {
    if (trip >= kMaxIterations) {
      ctx.fail(StatusCode::kResourceExhausted, "more than {} iterations (no trip count, condition still true)",
               kMaxIterations);
    }
    std::map<std::string, Tensor> values = outer;
    values[body.inputs()[0]->name()] = Tensor::scalar<int64_t>(trip);
    Tensor cond_in(DType::kBool, {});
    cond_in.data<bool>()[0] = cond;
    values[body.inputs()[1]->name()] = cond_in;
    for (size_t i = 0; i < carried; ++i) values[body.inputs()[2 + i]->name()] = state[i];
    std::vector<Tensor> out = run_subgraph(ctx, body, std::move(values));
    cond = truth(ctx, out[0], "the body's condition");
    for (size_t i = 0; i < carried; ++i) state[i] = out[1 + i].owns_data() ? out[1 + i] : out[1 + i].clone();
    for (size_t k = 0; k < scans; ++k) scanned[k].push_back(out[1 + carried + k].clone());
  }
  for (size_t i = 0; i < carried; ++i) ctx.outputs[i] = state[i];
  for (size_t k = 0; k < scans; ++k) {
    if (scanned[k].empty()) {
      ctx.make_output(carried + k, DType::kFloat32, {0});
      continue;
    }
    const Tensor& first = scanned[k].front();
    Shape shape = first.shape();
    shape.insert(shape.begin(), static_cast<int64_t>(scanned[k].size()));
    Tensor& out = ctx.make_output(carried + k, first.dtype(), shape);
    char* dst = static_cast<char*>(out.raw());
    for (const Tensor& t : scanned[k]) {
      if (t.shape() != first.shape()) {
        ctx.fail(StatusCode::kInvalidModel, "scan output {} changes shape between iterations ({} then {})", k,
                 shape_str(first.shape()), shape_str(t.shape()));
      }
      std::memcpy(dst, t.raw(), t.nbytes());
      dst += t.nbytes();
    }
  }
}

}  // namespace lq::kernels
