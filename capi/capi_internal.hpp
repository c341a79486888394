// Internals of the C ABI: the handles' layouts, the exception barrier every entry point runs
// its body behind, and the checks of caller arguments.
#pragma once

#include <fmt/format.h>
#include <libquant.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/pipeline.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace lq::capi {

// A C step-progress callback as a StepProgress (empty for NULL).
inline StepProgress step_progress(lq_step_progress_fn fn, void* user_data) {
  if (!fn) return nullptr;
  return [fn, user_data](const std::string& step, int64_t done, int64_t total) {
    fn(step.c_str(), done, total, user_data);
  };
}

// A handle's first field: a value derived from its type name while it lives, another once
// released. Freed memory is reused, so the check can only catch a release that is recent.
constexpr uint64_t tag_of(std::string_view type_name) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (char c : type_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

constexpr uint64_t kReleasedTag = tag_of("released");

}  // namespace lq::capi

// The handles the header declares opaque. Each names itself for error messages.
#define LQ_CAPI_HANDLE(type)                                    \
  static constexpr const char* kTypeName = #type;               \
  static constexpr uint64_t kLiveTag = lq::capi::tag_of(#type); \
  uint64_t tag = kLiveTag

struct lq_status {
  LQ_CAPI_HANDLE(lq_status);
  lq_code code = LQ_INTERNAL;
  std::string message;
};

struct lq_buffer {
  LQ_CAPI_HANDLE(lq_buffer);
  std::string bytes;
};

struct lq_tensor {
  LQ_CAPI_HANDLE(lq_tensor);
  std::string name;
  lq::Tensor tensor;  // owns its data
};

// Changes replace `graph` with a changed copy, so simulators and calibrators created from
// the handle keep the graph they were built on.
struct lq_graph {
  LQ_CAPI_HANDLE(lq_graph);
  std::shared_ptr<const lq::Graph> graph;
};

struct lq_simulator {
  LQ_CAPI_HANDLE(lq_simulator);
  lq_simulator(std::shared_ptr<const lq::Graph> g, lq::SimulatorOptions options)
      : graph(std::move(g)), simulator(*graph, std::move(options)) {}
  lq_simulator(std::shared_ptr<const lq::QuantizedGraph> q, lq::SimulatorOptions options)
      : qgraph(std::move(q)), simulator(lq::fake_quant_simulator(*qgraph, std::move(options))) {}

  // Declared before the simulator, which reads them until it is destroyed.
  std::shared_ptr<const lq::Graph> graph;
  std::shared_ptr<const lq::QuantizedGraph> qgraph;
  lq::Simulator simulator;
};

struct lq_calibrator {
  LQ_CAPI_HANDLE(lq_calibrator);
  lq_calibrator(std::shared_ptr<const lq::Graph> g, lq::CalibrationOptions options)
      : graph(std::move(g)), keep_samples(options.keep_samples), calibrator(*graph, options) {}

  std::shared_ptr<const lq::Graph> graph;
  size_t keep_samples;
  lq::Calibrator calibrator;
};

struct lq_calibration_sources {
  LQ_CAPI_HANDLE(lq_calibration_sources);
  std::map<std::string, lq::CalibrationSource> by_input;
};

struct lq_quantizer {
  LQ_CAPI_HANDLE(lq_quantizer);
  lq::QuantConfig config;
  lq::Target target;
  lq_log_fn log = nullptr;
  void* log_user_data = nullptr;
  lq_step_progress_fn progress = nullptr;
  void* progress_user_data = nullptr;
  std::map<std::string, lq::Range> input_ranges;  // skip without a calibrator: random inputs' values
};

struct lq_quantized_graph {
  LQ_CAPI_HANDLE(lq_quantized_graph);
  std::shared_ptr<const lq::QuantizedGraph> qgraph;
};

struct lq_program {
  LQ_CAPI_HANDLE(lq_program);
  explicit lq_program(lq::Program p)
      : program(std::move(p)), inputs(program.inputs()), outputs(program.outputs()) {}

  lq::Program program;
  // Kept, because the accessors hand out pointers to the names.
  std::vector<lq::ProgramTensorInfo> inputs;
  std::vector<lq::ProgramTensorInfo> outputs;
};

// The FixedSimulator holds the Program's (shared, immutable) data.
struct lq_fixed_simulator {
  LQ_CAPI_HANDLE(lq_fixed_simulator);
  lq_fixed_simulator(const lq_program& p, lq::FixedSimulatorOptions options)
      : simulator(p.program, options) {
    for (const lq::ProgramTensorInfo& output : p.outputs) output_names.push_back(output.name);
  }

  lq::FixedSimulator simulator;
  std::vector<std::string> output_names;  // in model order
};

struct lq_pipeline {
  LQ_CAPI_HANDLE(lq_pipeline);
  lq::PipelineOptions options;
};

// What the result's handles share: graphs and the program stay alive as long as any handle
// on them does.
struct lq_pipeline_result {
  LQ_CAPI_HANDLE(lq_pipeline_result);
  std::shared_ptr<const lq::Graph> float_graph;
  std::shared_ptr<const lq::QuantizedGraph> quantized;
  lq::Program program;
  uint64_t calibration_samples = 0;
  uint64_t evaluation_samples = 0;
  std::vector<std::string> output_names;  // the float32 outputs, in name order
  std::vector<double> fake_quant_snr_db;  // by output
  std::vector<double> fixed_snr_db;       // by output
  std::vector<std::string> artifacts;
  std::string report_json;
  std::vector<lq::TensorMap> evaluation_inputs;  // what lq_analyze reads without data folders
};

#undef LQ_CAPI_HANDLE

// The size of an options struct's first version: the end of its last field then. Fields
// appended later do not change it.
#define LQ_FIRST_VERSION_SIZE(type, last_field) \
  (offsetof(type, last_field) + sizeof(type::last_field))

namespace lq::capi {

lq_status* make_status(lq_code code, const char* function, const std::string& message) noexcept;
lq_status* out_of_memory_status() noexcept;
lq_code to_code(StatusCode code) noexcept;

[[noreturn]] inline void invalid_argument(const std::string& message) {
  throw Error(StatusCode::kInvalidArgument, message);
}

[[noreturn]] inline void failed_precondition(const std::string& message) {
  throw Error(StatusCode::kFailedPrecondition, message);
}

// Runs an entry point's body: no exception leaves it, each becomes a status naming `function`.
template <typename Body>
lq_status* guard(const char* function, Body&& body) noexcept {
  try {
    body();
    return nullptr;
  } catch (const Error& e) {
    return make_status(to_code(e.code()), function, e.what());
  } catch (const std::bad_alloc&) {
    return out_of_memory_status();
  } catch (const std::exception& e) {
    return make_status(LQ_INTERNAL, function, std::string("unexpected error: ") + e.what());
  } catch (...) {
    return make_status(LQ_INTERNAL, function, "unexpected error of unknown type");
  }
}

template <typename T>
void require(const T* pointer, const char* param) {
  if (!pointer) invalid_argument(fmt::format("{} is NULL", param));
}

// The handle behind `handle`, which must be live.
template <typename Handle>
Handle& live(Handle* handle, const char* param) {
  require(handle, param);
  if (handle->tag != Handle::kLiveTag) {
    invalid_argument(
        fmt::format("{} is not a live {} handle (it was released)", param, Handle::kTypeName));
  }
  return *handle;
}

// Output parameters are cleared before anything can fail.
template <typename T>
void clear(T* out) {
  if (out) *out = T{};
}

template <typename Handle>
void release(Handle* handle) noexcept {
  if (!handle || handle->tag != Handle::kLiveTag) return;  // NULL, or released already
  // Volatile, so the store is not dropped as dead before the delete.
  *static_cast<volatile uint64_t*>(&handle->tag) = kReleasedTag;
  delete handle;
}

// Rejects an options struct older than the first version or newer than this library.
// `field` names the struct_size field in messages, e.g. "options->struct_size".
void check_struct_size(size_t struct_size, size_t first_version_size, size_t known_size,
                       const char* type_name, const std::string& field);

template <typename Options>
void check_options(const Options& options, size_t first_version_size, const char* type_name,
                   const std::string& field) {
  check_struct_size(options.struct_size, first_version_size, sizeof(Options), type_name, field);
}

DType to_dtype(lq_dtype dtype, const std::string& param);
lq_dtype to_c_dtype(DType dtype) noexcept;

// Element `index` of a caller array of structs, stepped by its first element's struct_size
// (a caller built against an older header has smaller elements).
template <typename Struct>
const Struct& array_element(const Struct* array, size_t index) {
  const size_t stride = array[0].struct_size;
  return *reinterpret_cast<const Struct*>(reinterpret_cast<const char*>(array) + index * stride);
}
template <typename Struct>
Struct& array_element(Struct* array, size_t index) {
  return const_cast<Struct&>(array_element(static_cast<const Struct*>(array), index));
}

// A caller view as a tensor borrowing its data, checked against the view's own fields.
Tensor tensor_from_view(const lq_tensor_view& view, const std::string& param);

// Caller input views as tensors borrowing their data, checked against their own fields
// (dtype, shape, byte size, unique names); the simulator checks them against the model.
TensorMap tensors_from_views(const lq_tensor_view* views, size_t count, const char* param);

// Simulator options from the caller's struct (NULL: defaults).
SimulatorOptions simulator_options(const lq_simulator_options* options);

lq_buffer* new_buffer(std::string bytes);

// One line per node the program leaves on the CPU, with the reason (the compile log).
std::vector<std::string> cpu_node_lines(const Program& program);

// Sends each line to `log` (nothing when it is NULL).
void send_log(lq_log_fn log, void* user_data, const std::vector<std::string>& lines);

}  // namespace lq::capi
