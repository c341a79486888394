// The C ABI of lq::Simulator and lq::FixedSimulator: runs on caller-owned inputs, outputs
// copied into caller memory or handed over as library-owned tensors.
#include <algorithm>
#include <cstring>
#include <functional>

#include "capi_internal.hpp"

namespace {

using namespace lq::capi;

std::vector<std::string> output_names(const lq::Graph& graph) {
  std::vector<std::string> names;
  for (const lq::Value* v : graph.outputs()) names.push_back(v->name());
  return names;
}

std::string quoted(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "\"" : ", \"") + name + "\"";
  return list;
}

// Checks the views' own fields and names before the (possibly long) run. `outputs` are the
// names of the outputs of the `owner` ("model", "program").
void check_output_views(const std::vector<std::string>& outputs, const char* owner,
                        lq_output_view* views, size_t count) {
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
    if (std::find(outputs.begin(), outputs.end(), view.name) == outputs.end()) {
      invalid_argument(fmt::format("{}.name \"{}\" is not an output of the {}; its outputs are {}",
                                   at, view.name, owner, quoted(outputs)));
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

// Runs and hands the outputs named `names` (in that order) over as library-owned tensors.
void run_to_tensors(const std::vector<std::string>& names,
                    const std::function<lq::TensorMap()>& run, lq_tensor** outputs,
                    size_t output_capacity, size_t* output_count, const char* owner) {
  *output_count = names.size();
  if (output_capacity < names.size()) {
    invalid_argument(fmt::format("output_capacity is {} but the {} has {} outputs", output_capacity,
                                 owner, names.size()));
  }
  if (!names.empty()) require(outputs, "outputs");
  const lq::TensorMap results = run();
  std::vector<std::unique_ptr<lq_tensor>> made;
  for (const std::string& name : names) made.push_back(new_tensor(name, results.at(name)));
  for (size_t i = 0; i < made.size(); ++i) outputs[i] = made[i].release();
}

void clear_tensors(lq_tensor** outputs, size_t capacity, size_t* count) {
  clear(count);
  for (size_t i = 0; outputs && i < capacity; ++i) outputs[i] = nullptr;
}

lq::FixedSimulatorOptions fixed_simulator_options(const lq_fixed_simulator_options* given) {
  lq_fixed_simulator_options defaults;
  lq_fixed_simulator_options_init(&defaults);  // NULL means the header's defaults
  const lq_fixed_simulator_options* options = given ? given : &defaults;
  check_options(*options, LQ_FIRST_VERSION_SIZE(lq_fixed_simulator_options, threads),
                "lq_fixed_simulator_options", "options->struct_size");
  if (options->threads < 0) {
    invalid_argument(fmt::format("options->threads is {}; use 1 or more", options->threads));
  }
  lq::FixedSimulatorOptions result;
  result.threads = std::max(1, options->threads);
  return result;
}

void check_output_kind(lq_fixed_output output_kind) {
  if (output_kind != LQ_FIXED_OUTPUT_RAW && output_kind != LQ_FIXED_OUTPUT_DEQUANTIZED) {
    invalid_argument(
        fmt::format("output_kind is {}; use LQ_FIXED_OUTPUT_RAW or LQ_FIXED_OUTPUT_DEQUANTIZED",
                    static_cast<int>(output_kind)));
  }
}

lq::TensorMap run_fixed(const lq::FixedSimulator& simulator, lq_fixed_output output_kind,
                        const lq::TensorMap& inputs,
                        const lq::ProgramObserver& observer = nullptr) {
  return output_kind == LQ_FIXED_OUTPUT_DEQUANTIZED ? simulator.run_float(inputs, observer)
                                                    : simulator.run(inputs, observer);
}

// Hands each tensor to the C observer as library-owned tensors that live for the call.
lq::ProgramObserver tensor_observer(lq_tensor_observer_fn observer, void* user_data) {
  if (!observer) return nullptr;
  return [observer, user_data](const lq::ProgramTensorInfo& info, const lq::Tensor& data) {
    lq_tensor codes;
    codes.name = info.name;
    codes.tensor = data;
    if (!info.quantized) {
      observer(&codes, nullptr, user_data);
      return;
    }
    lq_tensor real;
    real.name = info.name;
    real.tensor = lq::dequantize_tensor(data, info.quant);
    observer(&codes, &real, user_data);
  };
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
    check_output_views(output_names(s.simulator.graph()), "model", outputs, output_count);
    deliver_outputs(s.simulator.run(tensors), outputs, output_count);
  });
}

lq_status* lq_simulator_run_to_tensors(lq_simulator* simulator, const lq_tensor_view* inputs,
                                       size_t input_count, lq_tensor** outputs,
                                       size_t output_capacity, size_t* output_count) {
  clear_tensors(outputs, output_capacity, output_count);
  return guard(__func__, [&] {
    const lq_simulator& s = live(simulator, "simulator");
    require(output_count, "output_count");
    const lq::TensorMap tensors = tensors_from_views(inputs, input_count, "inputs");
    run_to_tensors(
        output_names(s.simulator.graph()), [&] { return s.simulator.run(tensors); }, outputs,
        output_capacity, output_count, "model");
  });
}

void lq_simulator_release(lq_simulator* simulator) { release(simulator); }

lq_status* lq_fixed_simulator_create(const lq_program* program,
                                     const lq_fixed_simulator_options* options,
                                     lq_fixed_simulator** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_program& p = live(program, "program");
    require(out, "out");
    *out = new lq_fixed_simulator(p, fixed_simulator_options(options));
  });
}

lq_status* lq_fixed_simulator_run(lq_fixed_simulator* simulator, lq_fixed_output output_kind,
                                  const lq_tensor_view* inputs, size_t input_count,
                                  lq_output_view* outputs, size_t output_count) {
  return guard(__func__, [&] {
    const lq_fixed_simulator& s = live(simulator, "simulator");
    check_output_kind(output_kind);
    const lq::TensorMap tensors = tensors_from_views(inputs, input_count, "inputs");
    check_output_views(s.output_names, "program", outputs, output_count);
    deliver_outputs(run_fixed(s.simulator, output_kind, tensors), outputs, output_count);
  });
}

lq_status* lq_fixed_simulator_run_to_tensors(lq_fixed_simulator* simulator,
                                             lq_fixed_output output_kind,
                                             const lq_tensor_view* inputs, size_t input_count,
                                             lq_tensor** outputs, size_t output_capacity,
                                             size_t* output_count) {
  clear_tensors(outputs, output_capacity, output_count);
  return guard(__func__, [&] {
    const lq_fixed_simulator& s = live(simulator, "simulator");
    require(output_count, "output_count");
    check_output_kind(output_kind);
    const lq::TensorMap tensors = tensors_from_views(inputs, input_count, "inputs");
    run_to_tensors(
        s.output_names, [&] { return run_fixed(s.simulator, output_kind, tensors); }, outputs,
        output_capacity, output_count, "program");
  });
}

lq_status* lq_fixed_simulator_run_observed(lq_fixed_simulator* simulator,
                                           lq_fixed_output output_kind,
                                           const lq_tensor_view* inputs, size_t input_count,
                                           lq_tensor_observer_fn observer,
                                           void* observer_user_data, lq_tensor** outputs,
                                           size_t output_capacity, size_t* output_count) {
  clear_tensors(outputs, output_capacity, output_count);
  return guard(__func__, [&] {
    const lq_fixed_simulator& s = live(simulator, "simulator");
    require(output_count, "output_count");
    check_output_kind(output_kind);
    const lq::TensorMap tensors = tensors_from_views(inputs, input_count, "inputs");
    const lq::ProgramObserver observe = tensor_observer(observer, observer_user_data);
    run_to_tensors(
        s.output_names, [&] { return run_fixed(s.simulator, output_kind, tensors, observe); },
        outputs, output_capacity, output_count, "program");
  });
}

void lq_fixed_simulator_release(lq_fixed_simulator* simulator) { release(simulator); }

}  // extern "C"
