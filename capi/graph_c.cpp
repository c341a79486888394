// The C ABI of lq::Graph: loading, rewriting, saving and describing inputs and outputs.
#include "capi_internal.hpp"

namespace {

using namespace lq::capi;

lq_graph* new_graph(lq::Graph graph) {
  auto* handle = new lq_graph;
  handle->graph = std::make_shared<const lq::Graph>(std::move(graph));
  return handle;
}

// Changes a copy and swaps it in on success: a failed change leaves the graph as it was, and
// what was built on the old graph keeps it.
template <typename Change>
void change(lq_graph& handle, Change&& apply) {
  lq::Graph copy = handle.graph->clone();
  apply(copy);
  handle.graph = std::make_shared<const lq::Graph>(std::move(copy));
}

std::vector<const lq::Value*> model_inputs(const lq::Graph& graph) {
  std::vector<const lq::Value*> inputs;
  for (const lq::Value* v : graph.inputs()) {
    if (!v->is_constant()) inputs.push_back(v);
  }
  return inputs;
}

std::vector<const lq::Value*> model_outputs(const lq::Graph& graph) {
  return {graph.outputs().begin(), graph.outputs().end()};
}

using ValueList = std::vector<const lq::Value*> (*)(const lq::Graph&);

const lq::Value& value_at(const lq_graph* graph, size_t index, ValueList list, const char* kind) {
  const std::vector<const lq::Value*> values = list(*live(graph, "graph").graph);
  if (index >= values.size()) {
    invalid_argument(
        fmt::format("index {} is out of range: the model has {} {}s", index, values.size(), kind));
  }
  return *values[index];
}

void describe_shape(const lq::Value& value, int64_t* dims, size_t capacity, size_t* rank) {
  const lq::TensorType& type = value.type();
  if (!type.has_shape) {
    throw lq::Error(lq::StatusCode::kNotFound,
                    fmt::format("\"{}\" has no declared shape (not even a rank); fix its shape "
                                "with lq_graph_propagate_shapes",
                                value.name()));
  }
  *rank = type.dims.size();
  if (!dims && capacity == 0) return;
  require(dims, "dims");
  if (capacity < type.dims.size()) {
    invalid_argument(fmt::format("\"{}\" has rank {} but capacity is {}", value.name(),
                                 type.dims.size(), capacity));
  }
  for (size_t i = 0; i < type.dims.size(); ++i)
    dims[i] = type.dims[i].known() ? type.dims[i].value : -1;
}

lq_status* count_values(const char* function, const lq_graph* graph, size_t* count,
                        ValueList list) {
  clear(count);
  return guard(function, [&] {
    const lq_graph& g = live(graph, "graph");
    require(count, "count");
    *count = list(*g.graph).size();
  });
}

lq_status* value_name(const char* function, const lq_graph* graph, size_t index, const char** name,
                      ValueList list, const char* kind) {
  clear(name);
  return guard(function, [&] {
    require(name, "name");
    *name = value_at(graph, index, list, kind).name().c_str();
  });
}

lq_status* value_dtype(const char* function, const lq_graph* graph, size_t index, lq_dtype* dtype,
                       ValueList list, const char* kind) {
  clear(dtype);
  return guard(function, [&] {
    require(dtype, "dtype");
    *dtype = to_c_dtype(value_at(graph, index, list, kind).type().dtype);
  });
}

lq_status* value_shape(const char* function, const lq_graph* graph, size_t index, int64_t* dims,
                       size_t capacity, size_t* rank, ValueList list, const char* kind) {
  clear(rank);
  return guard(function, [&] {
    require(rank, "rank");
    describe_shape(value_at(graph, index, list, kind), dims, capacity, rank);
  });
}

std::map<std::string, lq::Shape> shapes_by_name(const char* const* names,
                                                const int64_t* const* shapes, const size_t* ranks,
                                                size_t count) {
  std::map<std::string, lq::Shape> result;
  if (count == 0) return result;
  require(names, "input_names");
  require(shapes, "shapes");
  require(ranks, "ranks");
  for (size_t i = 0; i < count; ++i) {
    require(names[i], fmt::format("input_names[{}]", i).c_str());
    if (ranks[i] > 0) require(shapes[i], fmt::format("shapes[{}]", i).c_str());
    lq::Shape shape(shapes[i], shapes[i] + ranks[i]);
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] < 0) {
        invalid_argument(fmt::format("shapes[{}][{}] (input \"{}\") is {}; give every dimension", i,
                                     d, names[i], shape[d]));
      }
    }
    if (!result.emplace(names[i], std::move(shape)).second) {
      invalid_argument(fmt::format("input_names[{}]: input \"{}\" is given twice", i, names[i]));
    }
  }
  return result;
}

}  // namespace

extern "C" {

lq_status* lq_graph_load(const char* path, lq_graph** out) {
  clear(out);
  return guard(__func__, [&] {
    require(path, "path");
    require(out, "out");
    *out = new_graph(lq::load_onnx(path));
  });
}

lq_status* lq_graph_load_from_memory(const void* data, size_t size, lq_graph** out) {
  clear(out);
  return guard(__func__, [&] {
    require(data, "data");
    require(out, "out");
    *out = new_graph(lq::parse_onnx(data, size));
  });
}

void lq_graph_release(lq_graph* graph) { release(graph); }

lq_status* lq_graph_optimize(lq_graph* graph) {
  return guard(__func__,
               [&] { change(live(graph, "graph"), [](lq::Graph& g) { lq::optimize(g); }); });
}

lq_status* lq_graph_save(const lq_graph* graph, const char* path) {
  return guard(__func__, [&] {
    const lq_graph& g = live(graph, "graph");
    require(path, "path");
    lq::save_onnx(*g.graph, path);
  });
}

lq_status* lq_graph_serialize(const lq_graph* graph, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_graph& g = live(graph, "graph");
    require(out, "out");
    *out = new_buffer(lq::serialize_onnx(*g.graph));
  });
}

lq_status* lq_graph_input_count(const lq_graph* graph, size_t* count) {
  return count_values(__func__, graph, count, model_inputs);
}

lq_status* lq_graph_input_name(const lq_graph* graph, size_t index, const char** name) {
  return value_name(__func__, graph, index, name, model_inputs, "input");
}

lq_status* lq_graph_input_dtype(const lq_graph* graph, size_t index, lq_dtype* dtype) {
  return value_dtype(__func__, graph, index, dtype, model_inputs, "input");
}

lq_status* lq_graph_input_shape(const lq_graph* graph, size_t index, int64_t* dims, size_t capacity,
                                size_t* rank) {
  return value_shape(__func__, graph, index, dims, capacity, rank, model_inputs, "input");
}

lq_status* lq_graph_output_count(const lq_graph* graph, size_t* count) {
  return count_values(__func__, graph, count, model_outputs);
}

lq_status* lq_graph_output_name(const lq_graph* graph, size_t index, const char** name) {
  return value_name(__func__, graph, index, name, model_outputs, "output");
}

lq_status* lq_graph_output_dtype(const lq_graph* graph, size_t index, lq_dtype* dtype) {
  return value_dtype(__func__, graph, index, dtype, model_outputs, "output");
}

lq_status* lq_graph_output_shape(const lq_graph* graph, size_t index, int64_t* dims,
                                 size_t capacity, size_t* rank) {
  return value_shape(__func__, graph, index, dims, capacity, rank, model_outputs, "output");
}

lq_status* lq_graph_propagate_shapes(lq_graph* graph, const char* const* input_names,
                                     const int64_t* const* shapes, const size_t* ranks,
                                     size_t count) {
  return guard(__func__, [&] {
    lq_graph& g = live(graph, "graph");
    const auto by_name = shapes_by_name(input_names, shapes, ranks, count);
    change(g, [&](lq::Graph& copy) { lq::propagate_shapes(copy, by_name); });
  });
}

}  // extern "C"
