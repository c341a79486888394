#include <fmt/format.h>
// The C ABI of lq::QuantConfig, lq::Quantizer and lq::QuantizedGraph.
#include "capi_internal.hpp"

#include <cmath>

namespace {

using namespace lq::capi;

lq::DType activation_dtype(int bits) {
  if (bits == 8) return lq::DType::kInt8;
  if (bits == 16) return lq::DType::kInt16;
  invalid_argument(
      fmt::format("activation_bits is {}; use 8 or 16 (0 keeps the current setting)", bits));
}

lq::DType weight_dtype(int bits) {
  if (bits == 4) return lq::DType::kInt4;
  if (bits == 8) return lq::DType::kInt8;
  if (bits == 16) return lq::DType::kInt16;
  invalid_argument(
      fmt::format("weight_bits is {}; use 4, 8 or 16 (0 keeps the current setting)", bits));
}

// The default config with its model level spelled out: what every unset field resolves to.
lq::QuantConfig spelled_out_default_config() {
  lq::QuantConfig config;
  const lq::ResolvedSpec defaults = config.resolve_model();
  lq::QuantSpec& model = config.model;
  model.quantize = defaults.quantize;
  model.activation_dtype = defaults.activation_dtype;
  model.weight_dtype = defaults.weight_dtype;
  model.symmetric_activations = defaults.symmetric_activations;
  model.symmetric_weights = defaults.symmetric_weights;
  model.per_channel = defaults.per_channel;
  model.scale_kind = defaults.scale_kind;
  model.method = defaults.range.method;
  model.percentile = defaults.range.percentile;
  model.search_range = defaults.range.search_range;
  model.outlier_factor = defaults.range.outlier_factor;
  return config;
}

lq_quantizer* new_quantizer(lq::QuantConfig config) {
  auto* quantizer = new lq_quantizer;
  quantizer->config = std::move(config);
  return quantizer;
}

// The calibrator's statistics are those of the graph it was created from: quantizing any
// other graph would look up tensors by names it may not have.
void check_ready(const lq_graph& graph, const lq_calibrator& calibrator) {
  if (graph.graph != calibrator.graph) {
    failed_precondition(
        "the calibrator was created from another graph, or from this graph before it changed "
        "(lq_graph_optimize, lq_graph_propagate_shapes); create the calibrator from the graph "
        "as it is now");
  }
  if (calibrator.calibrator.table().samples == 0) {
    failed_precondition(
        "the calibrator has seen no samples; add some with lq_calibrator_add_sample or "
        "lq_calibrator_add_sources before quantizing");
  }
}

}  // namespace

extern "C" {

lq_status* lq_quantizer_create(lq_quantizer** out) {
  clear(out);
  return guard(__func__, [&] {
    require(out, "out");
    *out = new_quantizer(lq::QuantConfig{});
  });
}

lq_status* lq_quantizer_default_config_json(lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    require(out, "out");
    *out = new_buffer(spelled_out_default_config().to_json());
  });
}

lq_status* lq_quantizer_create_from_json(const char* json, lq_quantizer** out) {
  clear(out);
  return guard(__func__, [&] {
    require(json, "json");
    require(out, "out");
    *out = new_quantizer(lq::QuantConfig::from_json(json));
  });
}

lq_status* lq_quantizer_set_method(lq_quantizer* quantizer, const char* method) {
  return guard(__func__, [&] {
    lq_quantizer& q = live(quantizer, "quantizer");
    require(method, "method");
    q.config.model.method = lq::parse_range_method(method);
  });
}

lq_status* lq_quantizer_set_bits(lq_quantizer* quantizer, int activation_bits, int weight_bits) {
  return guard(__func__, [&] {
    lq_quantizer& q = live(quantizer, "quantizer");
    // Both are checked before either changes.
    const auto activation = activation_bits ? std::optional(activation_dtype(activation_bits))
                                            : q.config.model.activation_dtype;
    const auto weight =
        weight_bits ? std::optional(weight_dtype(weight_bits)) : q.config.model.weight_dtype;
    q.config.model.activation_dtype = activation;
    q.config.model.weight_dtype = weight;
  });
}

lq_status* lq_quantizer_set_per_channel(lq_quantizer* quantizer, int per_channel) {
  return guard(__func__,
               [&] { live(quantizer, "quantizer").config.model.per_channel = per_channel != 0; });
}

lq_status* lq_quantizer_config_json(const lq_quantizer* quantizer, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_quantizer& q = live(quantizer, "quantizer");
    require(out, "out");
    *out = new_buffer(q.config.to_json());
  });
}

lq_status* lq_quantizer_set_log_callback(lq_quantizer* quantizer, lq_log_fn log, void* user_data) {
  return guard(__func__, [&] {
    lq_quantizer& q = live(quantizer, "quantizer");
    q.log = log;
    q.log_user_data = user_data;
  });
}

lq_status* lq_quantizer_set_progress_callback(lq_quantizer* quantizer, lq_step_progress_fn progress,
                                              void* user_data) {
  return guard(__func__, [&] {
    lq_quantizer& q = live(quantizer, "quantizer");
    q.progress = progress;
    q.progress_user_data = user_data;
  });
}

lq_status* lq_quantizer_set_target(lq_quantizer* quantizer, const char* target) {
  return guard(__func__, [&] {
    lq_quantizer& q = live(quantizer, "quantizer");
    require(target, "target");
    q.target = lq::Target::from_name_or_file(target);
  });
}

lq_status* lq_quantizer_set_input_range(lq_quantizer* quantizer, const char* input, double min, double max) {
  return guard(__func__, [&] {
    lq_quantizer& q = live(quantizer, "quantizer");
    require(input, "input");
    if (!std::isfinite(min) || !std::isfinite(max) || !(min < max)) {
      invalid_argument(fmt::format("input \"{}\": range [{}, {}] must be finite with min < max", input, min, max));
    }
    q.input_ranges[input] = lq::Range{min, max};
  });
}

lq_status* lq_quantizer_quantize(const lq_quantizer* quantizer, const lq_graph* graph,
                                 const lq_calibrator* calibrator, lq_quantized_graph** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_quantizer& q = live(quantizer, "quantizer");
    const lq_graph& g = live(graph, "graph");
    require(out, "out");
    const lq::Quantizer engine(q.config, q.target);
    auto result = std::make_unique<lq_quantized_graph>();
    std::vector<std::string> log;
    if (calibrator == nullptr) {
      // No data: the range method skip, on random inputs (flagged not for accuracy).
      if (q.config.resolve_model().range.method != lq::RangeMethod::kSkip) {
        invalid_argument(
            "calibrator is NULL: quantizing without calibration data needs the range method "
            "\"skip\" (lq_quantizer_set_method); its ranges are not for accuracy");
      }
      lq::CalibrationOptions options;
      options.keep_samples = lq::kRandomCalibrationSamples;
      lq::Calibrator random(*g.graph, options);
      lq::add_random_samples(random, *g.graph, q.input_ranges);
      result->qgraph = std::make_shared<const lq::QuantizedGraph>(
          lq::quantize_model(engine, *g.graph, random.table(), random.kept_samples(),
                             step_progress(q.progress, q.progress_user_data)));
      log.push_back(
          "range method skip without calibration data: ranges from the weights and random inputs; "
          "the result runs but is not for accuracy");
    } else {
      const lq_calibrator& c = live(calibrator, "calibrator");
      check_ready(g, c);
      result->qgraph = std::make_shared<const lq::QuantizedGraph>(
          lq::quantize_model(engine, *g.graph, c.calibrator.table(), c.calibrator.kept_samples(),
                             step_progress(q.progress, q.progress_user_data)));
    }
    log.insert(log.end(), result->qgraph->log.begin(), result->qgraph->log.end());
    send_log(q.log, q.log_user_data, log);
    *out = result.release();
  });
}

void lq_quantizer_release(lq_quantizer* quantizer) { release(quantizer); }

lq_status* lq_quantizer_set_min_snr(lq_quantizer* quantizer, double min_snr_db, double int16_budget) {
  return guard(__func__, [&] {
    lq_quantizer& q = live(quantizer, "quantizer");
    if (!(min_snr_db >= 0.0 && min_snr_db <= 200.0)) {
      throw lq::Error(lq::StatusCode::kInvalidArgument,
                      fmt::format("min_snr_db is {}, expected 0 (off) to 200 dB", min_snr_db));
    }
    if (!(int16_budget >= 0.0 && int16_budget <= 1.0)) {
      throw lq::Error(lq::StatusCode::kInvalidArgument,
                      fmt::format("int16_budget is {}, expected a share in [0, 1]", int16_budget));
    }
    q.config.min_snr_db = min_snr_db;
    q.config.int16_budget = int16_budget;
  });
}

lq_status* lq_quantized_graph_save_qdq(const lq_quantized_graph* qgraph, const char* path) {
  return guard(__func__, [&] {
    const lq_quantized_graph& q = live(qgraph, "qgraph");
    require(path, "path");
    lq::save_onnx(q.qgraph->to_qdq(), path);
  });
}

lq_status* lq_quantized_graph_serialize_qdq(const lq_quantized_graph* qgraph, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_quantized_graph& q = live(qgraph, "qgraph");
    require(out, "out");
    *out = new_buffer(lq::serialize_onnx(q.qgraph->to_qdq()));
  });
}

lq_status* lq_quantized_graph_params_json(const lq_quantized_graph* qgraph, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_quantized_graph& q = live(qgraph, "qgraph");
    require(out, "out");
    *out = new_buffer(q.qgraph->params_json());
  });
}

lq_status* lq_simulator_create_fake_quant(const lq_quantized_graph* qgraph,
                                          const lq_simulator_options* options, lq_simulator** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_quantized_graph& q = live(qgraph, "qgraph");
    require(out, "out");
    *out = new lq_simulator(q.qgraph, simulator_options(options));
  });
}

void lq_quantized_graph_release(lq_quantized_graph* qgraph) { release(qgraph); }

}  // extern "C"
