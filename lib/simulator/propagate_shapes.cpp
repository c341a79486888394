#include <fmt/format.h>

#include "libquant/simulator.hpp"

namespace lq {

namespace {

TensorType static_type(DType dtype, const Shape& shape) {
  TensorType type{dtype, true, {}};
  for (int64_t d : shape) type.dims.push_back(Dim{d, {}});
  return type;
}

}  // namespace

void propagate_shapes(Graph& graph, const std::map<std::string, Shape>& input_shapes, int threads) {
  for (const auto& entry : input_shapes) {
    const Value* v = graph.find_value(entry.first);
    if (!v || !v->is_graph_input()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("propagate_shapes: \"{}\" is not an input of the model", entry.first));
    }
  }
  TensorMap zeros;
  for (Value* in : graph.inputs()) {
    auto given = input_shapes.find(in->name());
    Shape shape;
    if (given != input_shapes.end()) {
      shape = given->second;
    } else if (in->type().is_static()) {
      shape = in->type().static_shape();
    } else {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input \"{}\" has dynamic shape {}; give its shape", in->name(),
                              in->type().str()));
    }
    TensorType& declared = in->type();
    const TensorType fixed = static_type(declared.dtype, shape);
    // The given shape must agree with what the model declares.
    if (declared.has_shape) {
      bool agrees = declared.dims.size() == shape.size();
      for (size_t i = 0; agrees && i < shape.size(); ++i) {
        agrees = !declared.dims[i].known() || declared.dims[i].value == shape[i];
      }
      if (!agrees) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("input \"{}\": shape {} does not fit the declared {}", in->name(),
                                shape_str(shape), declared.str()));
      }
    }
    check_tensor_size(declared.dtype, shape, ResourceLimits{}, fmt::format("model input \"{}\"", in->name()));
    zeros[in->name()] = Tensor(declared.dtype, shape);
    declared = fixed;
  }
  SimulatorOptions options;
  options.threads = threads;
  Simulator simulator(graph, options);
  std::map<const Value*, TensorType> seen;
  simulator.run(zeros, [&](const Value& value, const Tensor& data) {
    seen[&value] = static_type(data.dtype(), data.shape());
  });
  for (const auto& [value, type] : seen) graph.value(value->name()).type() = type;
}

}  // namespace lq
