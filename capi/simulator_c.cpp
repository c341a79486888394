// The C ABI of lq::Simulator: runs on caller-owned inputs, outputs copied into caller memory
// or handed over as library-owned tensors.
#include <algorithm>
#include <cstring>

#include "capi_internal.hpp"

namespace {

using namespace lq::capi;

std::string quoted_output_names(const lq::Graph& graph) {
  std::string names;
  for (const lq::Value* v : graph.outputs()) {
    names += (names.empty() ? "\"" : ", \"") + v->name() + "\"";
  }
  return names;
}

// Checks the views' own fields and names before the (possibly long) run.
void check_output_views(const lq::Graph& graph, lq_output_view* views, size_t count) {
  if (count == 0) return;
  require(views, "outputs");
  check_options(views[0], LQ_FIRST_VERSION_SIZE(lq_output_view, bytes_needed), "lq_output_view",
                "outputs[0].struct_size");
  for (size_t i = 0; i < count; ++i) {
    const lq_output_view& view = array_element(views, i);
    const std::string at = fmt::format("outputs[{}]", i);
    if (view.struct_size != views[0].struct_size) {
      invalid_argument(
          fmt::format("{}.struct_size is {} but outputs[0].struct_size is {}; every "
                      "element of an array has the same size",
                      at, view.struct_size, views[0].struct_size));
    }
    require(view.name, (at + ".name").c_str());
    const lq::Value* value = graph.find_value(view.name);
    if (!value || !value->is_graph_output()) {
      invalid_argument(
          fmt::format("{}.name \"{}\" is not an output of the model; its outputs are {}", at,
                      view.name, quoted_output_names(graph)));
    }
    if (view.byte_size > 0) require(view.data, (at + ".data").c_str());
    if (view.shape_capacity > 0) require(view.shape, (at + ".shape").c_str());
  }
}

// Fills every view's out fields, then copies the data if every view is large enough.
void deliver_outputs(const lq::TensorMap& results, lq_output_view* views, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    lq_output_view& view = array_element(views, i);
    const lq::Tensor& tensor = results.at(view.name);
    view.dtype = to_c_dtype(tensor.dtype());
    view.rank = tensor.rank();
    view.bytes_needed = tensor.nbytes();
    if (view.shape_capacity >= tensor.rank()) {
      std::copy(tensor.shape().begin(), tensor.shape().end(), view.shape);
    }
  }
  for (size_t i = 0; i < count; ++i) {
    const lq_output_view& view = array_element(views, i);
    const lq::Tensor& tensor = results.at(view.name);
    const std::string described =
        std::string(lq::dtype_name(tensor.dtype())) + lq::shape_str(tensor.shape());
    if (view.shape_capacity < view.rank) {
      invalid_argument(
          fmt::format("outputs[{}] (\"{}\"): the output {} has rank {} but "
                      "shape_capacity is {}",
                      i, view.name, described, view.rank, view.shape_capacity));
    }
    if (view.byte_size < view.bytes_needed) {
      invalid_argument(
          fmt::format("outputs[{}] (\"{}\"): the output {} needs {} bytes but "
                      "byte_size is {}",
                      i, view.name, described, view.bytes_needed, view.byte_size));
    }
  }
  for (size_t i = 0; i < count; ++i) {
    lq_output_view& view = array_element(views, i);
    if (view.bytes_needed > 0)
      std::memcpy(view.data, results.at(view.name).raw(), view.bytes_needed);
  }
}

std::unique_ptr<lq_tensor> new_tensor(const std::string& name, const lq::Tensor& data) {
  auto tensor = std::make_unique<lq_tensor>();
  tensor->name = name;
  // An output may be a view of a caller's input buffer; the handle must outlive that.
  tensor->tensor = data.owns_data() ? data : data.clone();
  return tensor;
}

}  // namespace

extern "C" {

lq_status* lq_simulator_create(const lq_graph* graph, const lq_simulator_options* options,
                               lq_simulator** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_graph& g = live(graph, "graph");
    require(out, "out");
    *out = new lq_simulator(g.graph, simulator_options(options));
  });
}

lq_status* lq_simulator_run(lq_simulator* simulator, const lq_tensor_view* inputs,
                            size_t input_count, lq_output_view* outputs, size_t output_count) {
  return guard(__func__, [&] {
    const lq_simulator& s = live(simulator, "simulator");
    const lq::TensorMap tensors = tensors_from_views(inputs, input_count, "inputs");
    check_output_views(s.simulator.graph(), outputs, output_count);
    deliver_outputs(s.simulator.run(tensors), outputs, output_count);
  });
}

lq_status* lq_simulator_run_to_tensors(lq_simulator* simulator, const lq_tensor_view* inputs,
                                       size_t input_count, lq_tensor** outputs,
                                       size_t output_capacity, size_t* output_count) {
  clear(output_count);
  for (size_t i = 0; outputs && i < output_capacity; ++i) outputs[i] = nullptr;
  return guard(__func__, [&] {
    const lq_simulator& s = live(simulator, "simulator");
    require(output_count, "output_count");
    const lq::TensorMap tensors = tensors_from_views(inputs, input_count, "inputs");
    const std::vector<lq::Value*>& graph_outputs = s.simulator.graph().outputs();
    *output_count = graph_outputs.size();
    if (output_capacity < graph_outputs.size()) {
      invalid_argument(fmt::format("output_capacity is {} but the model has {} outputs",
                                   output_capacity, graph_outputs.size()));
    }
    if (!graph_outputs.empty()) require(outputs, "outputs");
    const lq::TensorMap results = s.simulator.run(tensors);
    std::vector<std::unique_ptr<lq_tensor>> made;
    for (const lq::Value* v : graph_outputs)
      made.push_back(new_tensor(v->name(), results.at(v->name())));
    for (size_t i = 0; i < made.size(); ++i) outputs[i] = made[i].release();
  });
}

void lq_simulator_release(lq_simulator* simulator) { release(simulator); }

}  // extern "C"
