// The C ABI of lq::Compiler and lq::Program: compiling a quantized graph, the .lqm file and
// what a program tells about itself.
#include <algorithm>

#include "capi_internal.hpp"

namespace {

using namespace lq::capi;

std::map<std::string, lq::Shape> input_shapes(const lq_input_shape* elements, size_t count) {
  std::map<std::string, lq::Shape> result;
  if (count == 0) return result;
  require(elements, "options->input_shapes");
  check_options(elements[0], LQ_FIRST_VERSION_SIZE(lq_input_shape, rank), "lq_input_shape",
                "options->input_shapes[0].struct_size");
  for (size_t i = 0; i < count; ++i) {
    const lq_input_shape& element = array_element(elements, i);
    const std::string at = fmt::format("options->input_shapes[{}]", i);
    if (element.struct_size != elements[0].struct_size) {
      invalid_argument(
          fmt::format("{}.struct_size is {} but options->input_shapes[0].struct_size is {}; "
                      "every element of an array has the same size",
                      at, element.struct_size, elements[0].struct_size));
    }
    require(element.name, (at + ".name").c_str());
    if (element.rank > 0) require(element.shape, (at + ".shape").c_str());
    lq::Shape shape(element.shape, element.shape + element.rank);
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] < 0) {
        invalid_argument(fmt::format("{}.shape[{}] (input \"{}\") is {}; give every dimension", at,
                                     d, element.name, shape[d]));
      }
    }
    if (!result.emplace(element.name, std::move(shape)).second) {
      invalid_argument(fmt::format("{}: input \"{}\" is given twice", at, element.name));
    }
  }
  return result;
}

struct CompileRequest {
  lq::CompileOptions options;
  lq_log_fn log = nullptr;
  void* log_user_data = nullptr;
};

CompileRequest compile_request(const lq_compile_options* given, const lq::Graph& graph) {
  lq_compile_options defaults;
  lq_compile_options_init(&defaults);  // NULL means the header's defaults
  const lq_compile_options* options = given ? given : &defaults;
  check_options(*options, LQ_FIRST_VERSION_SIZE(lq_compile_options, log_user_data),
                "lq_compile_options", "options->struct_size");
  CompileRequest request;
  request.options.target = lq::Target::from_name_or_file(options->target ? options->target : "generic");
  request.options.input_shapes = input_shapes(options->input_shapes, options->input_shape_count);
  // Said here in the C ABI's words; the compiler would name its C++ option.
  for (const lq::Value* input : graph.inputs()) {
    if (!input->type().is_static() && !request.options.input_shapes.count(input->name())) {
      invalid_argument(
          fmt::format("model input \"{}\" has dynamic shape {}: give its size in "
                      "options->input_shapes (a program has static shapes)",
                      input->name(), input->type().str()));
    }
  }
  request.log = options->log;
  request.log_user_data = options->log_user_data;
  return request;
}

using TensorList = std::vector<lq::ProgramTensorInfo> lq_program::*;

const lq::ProgramTensorInfo& tensor_at(const lq_program* program, size_t index, TensorList list,
                                       const char* kind) {
  const std::vector<lq::ProgramTensorInfo>& tensors = live(program, "program").*list;
  if (index >= tensors.size()) {
    invalid_argument(fmt::format("index {} is out of range: the program has {} {}s", index,
                                 tensors.size(), kind));
  }
  return tensors[index];
}

lq_status* count_tensors(const char* function, const lq_program* program, size_t* count,
                         TensorList list) {
  clear(count);
  return guard(function, [&] {
    const lq_program& p = live(program, "program");
    require(count, "count");
    *count = (p.*list).size();
  });
}

lq_status* tensor_name(const char* function, const lq_program* program, size_t index,
                       const char** name, TensorList list, const char* kind) {
  clear(name);
  return guard(function, [&] {
    require(name, "name");
    *name = tensor_at(program, index, list, kind).name.c_str();
  });
}

lq_status* tensor_dtype(const char* function, const lq_program* program, size_t index,
                        lq_dtype* dtype, TensorList list, const char* kind) {
  clear(dtype);
  return guard(function, [&] {
    require(dtype, "dtype");
    *dtype = to_c_dtype(tensor_at(program, index, list, kind).dtype);
  });
}

lq_status* tensor_shape(const char* function, const lq_program* program, size_t index,
                        int64_t* dims, size_t capacity, size_t* rank, TensorList list,
                        const char* kind) {
  clear(rank);
  return guard(function, [&] {
    require(rank, "rank");
    const lq::ProgramTensorInfo& tensor = tensor_at(program, index, list, kind);
    *rank = tensor.shape.size();
    if (!dims && capacity == 0) return;
    require(dims, "dims");
    if (capacity < tensor.shape.size()) {
      invalid_argument(fmt::format("\"{}\" has rank {} but capacity is {}", tensor.name,
                                   tensor.shape.size(), capacity));
    }
    std::copy(tensor.shape.begin(), tensor.shape.end(), dims);
  });
}

lq_status* tensor_quantization(const char* function, const lq_program* program, size_t index,
                               int* quantized, float* scale, int32_t* zero_point, TensorList list,
                               const char* kind) {
  clear(quantized);
  clear(scale);
  clear(zero_point);
  return guard(function, [&] {
    require(quantized, "quantized");
    require(scale, "scale");
    require(zero_point, "zero_point");
    const lq::ProgramTensorInfo& tensor = tensor_at(program, index, list, kind);
    if (!tensor.quantized) return;
    const lq::QuantParams& quant = tensor.quant;
    if (quant.scale.size() != 1 || quant.zero_point.size() != 1) {
      throw lq::Error(lq::StatusCode::kUnsupported,
                      fmt::format("{} \"{}\" is quantized per channel ({} scales along axis {}); "
                                  "lq_program_summary_json lists them",
                                  kind, tensor.name, quant.scale.size(), quant.axis));
    }
    *quantized = 1;
    *scale = quant.scale[0];
    *zero_point = quant.zero_point[0];
  });
}

}  // namespace

namespace lq::capi {

std::vector<std::string> cpu_node_lines(const lq::Program& program) {
  std::vector<std::string> lines;
  for (const lq::LayerInfo& layer : program.layers()) {
    if (layer.kernel != "CPU") continue;
    lines.push_back(
        fmt::format("CPU node {} \"{}\": {}", layer.op_type, layer.node, layer.cpu_reason));
  }
  return lines;
}

}  // namespace lq::capi

extern "C" {

lq_status* lq_compile(const lq_quantized_graph* qgraph, const lq_compile_options* options,
                      lq_program** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_quantized_graph& q = live(qgraph, "qgraph");
    require(out, "out");
    const CompileRequest request = compile_request(options, q.qgraph->graph);
    auto program = std::make_unique<lq_program>(lq::Compiler(request.options).compile(*q.qgraph));
    send_log(request.log, request.log_user_data, cpu_node_lines(program->program));
    *out = program.release();
  });
}

void lq_program_release(lq_program* program) { release(program); }

lq_status* lq_program_save(const lq_program* program, const char* path) {
  return guard(__func__, [&] {
    const lq_program& p = live(program, "program");
    require(path, "path");
    p.program.save(path);
  });
}

lq_status* lq_program_load(const char* path, lq_program** out) {
  clear(out);
  return guard(__func__, [&] {
    require(path, "path");
    require(out, "out");
    *out = new lq_program(lq::Program::load(path));
  });
}

lq_status* lq_program_serialize(const lq_program* program, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_program& p = live(program, "program");
    require(out, "out");
    *out = new_buffer(p.program.serialize());
  });
}

lq_status* lq_program_parse(const void* data, size_t size, lq_program** out) {
  clear(out);
  return guard(__func__, [&] {
    require(data, "data");
    require(out, "out");
    *out = new lq_program(lq::Program::parse(data, size));
  });
}

lq_status* lq_program_summary_json(const lq_program* program, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_program& p = live(program, "program");
    require(out, "out");
    *out = new_buffer(p.program.summary_json());
  });
}

lq_status* lq_program_peak_activation_bytes(const lq_program* program, uint64_t* bytes) {
  clear(bytes);
  return guard(__func__, [&] {
    const lq_program& p = live(program, "program");
    require(bytes, "bytes");
    *bytes = static_cast<uint64_t>(p.program.peak_activation_bytes());
  });
}

lq_status* lq_program_weight_bytes(const lq_program* program, uint64_t* bytes) {
  clear(bytes);
  return guard(__func__, [&] {
    const lq_program& p = live(program, "program");
    require(bytes, "bytes");
    *bytes = static_cast<uint64_t>(p.program.weight_bytes());
  });
}

lq_status* lq_program_input_count(const lq_program* program, size_t* count) {
  return count_tensors(__func__, program, count, &lq_program::inputs);
}

lq_status* lq_program_input_name(const lq_program* program, size_t index, const char** name) {
  return tensor_name(__func__, program, index, name, &lq_program::inputs, "input");
}

lq_status* lq_program_input_dtype(const lq_program* program, size_t index, lq_dtype* dtype) {
  return tensor_dtype(__func__, program, index, dtype, &lq_program::inputs, "input");
}

lq_status* lq_program_input_shape(const lq_program* program, size_t index, int64_t* dims,
                                  size_t capacity, size_t* rank) {
  return tensor_shape(__func__, program, index, dims, capacity, rank, &lq_program::inputs, "input");
}

lq_status* lq_program_input_quantization(const lq_program* program, size_t index, int* quantized,
                                         float* scale, int32_t* zero_point) {
  return tensor_quantization(__func__, program, index, quantized, scale, zero_point,
                             &lq_program::inputs, "input");
}

lq_status* lq_program_output_count(const lq_program* program, size_t* count) {
  return count_tensors(__func__, program, count, &lq_program::outputs);
}

lq_status* lq_program_output_name(const lq_program* program, size_t index, const char** name) {
  return tensor_name(__func__, program, index, name, &lq_program::outputs, "output");
}

lq_status* lq_program_output_dtype(const lq_program* program, size_t index, lq_dtype* dtype) {
  return tensor_dtype(__func__, program, index, dtype, &lq_program::outputs, "output");
}

lq_status* lq_program_output_shape(const lq_program* program, size_t index, int64_t* dims,
                                   size_t capacity, size_t* rank) {
  return tensor_shape(__func__, program, index, dims, capacity, rank, &lq_program::outputs,
                      "output");
}

lq_status* lq_program_output_quantization(const lq_program* program, size_t index, int* quantized,
                                          float* scale, int32_t* zero_point) {
  return tensor_quantization(__func__, program, index, quantized, scale, zero_point,
                             &lq_program::outputs, "output");
}

}  // extern "C"

namespace {

struct TargetQuery {
  lq::CompileOptions options;
  lq::QuantConfig config;
};

TargetQuery target_query(const lq_target_query* query) {
  TargetQuery q;
  lq_target_query defaults;
  lq_target_query_init(&defaults);
  const lq_target_query& in = query ? *query : defaults;
  if (in.struct_size < sizeof(lq_target_query)) {
    invalid_argument(fmt::format("query->struct_size is {}, expected {} (call lq_target_query_init)",
                                 in.struct_size, sizeof(lq_target_query)));
  }
  lq::Target target = lq::Target::from_name_or_file(in.target ? in.target : "generic");
  if (in.cores < 0) invalid_argument(fmt::format("query->cores is {}; use 0 (the target's) or more", in.cores));
  if (in.cores > 0) {
    lq::TargetProfile profile = target.profile();
    profile.cost.cores = in.cores;
    target = lq::Target(profile);
  }
  q.options.target = target;
  if (in.mode) q.options.mode = lq::parse_compile_mode(in.mode);
  if (!(in.balance_factor >= 0.0)) {
    invalid_argument(fmt::format("query->balance_factor is {}; use a share >= 0 (0.25: 25 %)", in.balance_factor));
  }
  q.options.balance_factor = in.balance_factor;
  if (in.activation_bits != 0 && in.activation_bits != 8 && in.activation_bits != 16) {
    invalid_argument(fmt::format("query->activation_bits is {}; use 8 or 16 (0: 8)", in.activation_bits));
  }
  if (in.weight_bits != 0 && in.weight_bits != 4 && in.weight_bits != 8 && in.weight_bits != 16) {
    invalid_argument(fmt::format("query->weight_bits is {}; use 4, 8 or 16 (0: 8)", in.weight_bits));
  }
  if (in.activation_bits == 16) q.config.model.activation_dtype = lq::DType::kInt16;
  if (in.weight_bits == 16) q.config.model.weight_dtype = lq::DType::kInt16;
  if (in.weight_bits == 4) q.config.model.weight_dtype = lq::DType::kInt4;
  return q;
}

lq::Graph optimized(const lq_graph& handle) {
  lq::Graph graph = handle.graph->clone();
  lq::optimize(graph);
  return graph;
}

}  // namespace

lq_status* lq_check_deployment(const lq_graph* graph, const lq_target_query* query, lq_buffer** json,
                               int64_t* npu, int64_t* cpu, int64_t* unsupported) {
  clear(json);
  clear(npu);
  clear(cpu);
  clear(unsupported);
  return guard(__func__, [&] {
    const lq_graph& g = live(graph, "graph");
    const TargetQuery q = target_query(query);
    const lq::DeploymentCheck check = lq::check_deployment(optimized(g), q.options, q.config);
    if (json) *json = new_buffer(check.to_json());
    if (npu) *npu = check.npu;
    if (cpu) *cpu = check.cpu;
    if (unsupported) *unsupported = check.unsupported;
  });
}

lq_status* lq_estimate(const lq_graph* graph, const lq_target_query* query, lq_buffer** json, int64_t* macs,
                       double* latency_seconds) {
  clear(json);
  clear(macs);
  clear(latency_seconds);
  return guard(__func__, [&] {
    const lq_graph& g = live(graph, "graph");
    const TargetQuery q = target_query(query);
    const lq::Program program = lq::compile_nominal(optimized(g), q.options, q.config);
    const lq::ProgramEstimate e = lq::estimate_program(program, q.options.target, q.options.mode, q.options.balance_factor);
    if (json) *json = new_buffer(e.to_json());
    if (macs) *macs = e.macs;
    if (latency_seconds) *latency_seconds = e.latency_seconds;
  });
}
