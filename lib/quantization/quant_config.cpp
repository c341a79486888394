// QuantConfig: JSON reading with validation that names the path, the key and the choices.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <nlohmann/json.hpp>

#include "graph/nearest_name.hpp"
#include "quantization/config_check.hpp"
#include "quantization/json_check.hpp"
#include "libquant/quantizer.hpp"

namespace lq {

namespace {

using nlohmann::json;

const std::vector<std::string> kSpecKeys = {
    "quantize",     "activation",     "weight",       "symmetric_activations", "symmetric_weights",
    "per_channel",  "scale",          "method",       "percentile",            "search_range",
    "outlier_factor"};
const std::vector<std::string> kTopKeys = {"model", "op_types", "nodes",        "tensors",
                                           "input", "output",   "post_sigmoid", "auto_samples",
                                           "auto_evaluations", "int16_budget", "select_range",
                                           "min_snr", "bias_correction"};
const std::vector<std::string> kTensorKeys = {"scale", "zero_point", "min", "max"};

[[noreturn]] void config_error(const std::string& path, const std::string& what) {
  json_check::fail("quant config", path, what);
}

void check_keys(const json& object, const std::string& path, const std::vector<std::string>& allowed) {
  json_check::keys(object, "quant config", path, allowed);
}

using json_check::joined;

DType parse_dtype(const json& value, const std::string& path, const std::vector<DType>& allowed) {
  std::vector<std::string> names;
  for (DType d : allowed) names.emplace_back(dtype_name(d));
  if (value.is_string()) {
    for (DType d : allowed) {
      if (value.get<std::string>() == dtype_name(d)) return d;
    }
  }
  config_error(path, fmt::format("{} is not allowed; use one of {}", value.dump(), joined(names)));
}

bool parse_bool(const json& value, const std::string& path) {
  if (!value.is_boolean()) config_error(path, fmt::format("{} should be true or false", value.dump()));
  return value.get<bool>();
}

double parse_number(const json& value, const std::string& path, double lo, double hi) {
  if (!value.is_number() || value.get<double>() < lo || value.get<double>() > hi) {
    config_error(path, fmt::format("{} should be a number in [{}, {}]", value.dump(), lo, hi));
  }
  return value.get<double>();
}

QuantSpec parse_spec(const json& object, const std::string& path) {
  check_keys(object, path, kSpecKeys);
  QuantSpec spec;
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    const std::string at = path + "/" + key;
    const json& v = item.value();
    if (key == "quantize") spec.quantize = parse_bool(v, at);
    if (key == "activation") spec.activation_dtype = parse_dtype(v, at, {DType::kInt8, DType::kUInt8, DType::kInt16});
    if (key == "weight") spec.weight_dtype = parse_dtype(v, at, {DType::kInt4, DType::kInt8, DType::kInt16});
    if (key == "symmetric_activations") spec.symmetric_activations = parse_bool(v, at);
    if (key == "symmetric_weights") spec.symmetric_weights = parse_bool(v, at);
    if (key == "per_channel") spec.per_channel = parse_bool(v, at);
    if (key == "scale") {
      if (v == "float") spec.scale_kind = ScaleKind::kFloat;
      else if (v == "power_of_two") spec.scale_kind = ScaleKind::kPowerOfTwo;
      else config_error(at, fmt::format("{} is not allowed; use one of float, power_of_two", v.dump()));
    }
    if (key == "method") {
      if (!v.is_string()) config_error(at, "should be a method name");
      try {
        spec.method = parse_range_method(v.get<std::string>());
      } catch (const Error& e) {
        config_error(at, e.what());
      }
    }
    if (key == "percentile") spec.percentile = parse_number(v, at, 0.5, 1.0);
    if (key == "search_range") spec.search_range = parse_number(v, at, 0.0, 0.5);
    if (key == "outlier_factor") spec.outlier_factor = parse_number(v, at, 1.0, 100.0);
  }
  return spec;
}

TensorOverride parse_override(const json& object, const std::string& path) {
  check_keys(object, path, kTensorKeys);
  TensorOverride o;
  for (const auto& item : object.items()) {
    const std::string at = path + "/" + item.key();
    const json& v = item.value();
    if (!v.is_number()) config_error(at, fmt::format("{} should be a number", v.dump()));
    if (item.key() == "scale") {
      if (v.get<double>() <= 0) config_error(at, "a scale must be positive");
      o.scale = v.get<float>();
    }
    if (item.key() == "zero_point") {
      if (!v.is_number_integer()) config_error(at, "a zero point must be a whole number");
      o.zero_point = v.get<int32_t>();
    }
    if (item.key() == "min") o.min = v.get<double>();
    if (item.key() == "max") o.max = v.get<double>();
  }
  if (o.scale.has_value() == (o.min.has_value() || o.max.has_value())) {
    config_error(path, "give either a scale (with an optional zero_point) or both min and max");
  }
  if (!o.scale && (!o.min || !o.max || *o.min > *o.max)) {
    config_error(path, "min and max are both needed, with min <= max");
  }
  return o;
}

template <typename T>
void apply(std::optional<T>& target, const std::optional<T>& value) {
  if (value) target = value;
}

void overlay(QuantSpec& base, const QuantSpec& top) {
  apply(base.quantize, top.quantize);
  apply(base.activation_dtype, top.activation_dtype);
  apply(base.weight_dtype, top.weight_dtype);
  apply(base.symmetric_activations, top.symmetric_activations);
  apply(base.symmetric_weights, top.symmetric_weights);
  apply(base.per_channel, top.per_channel);
  apply(base.scale_kind, top.scale_kind);
  apply(base.method, top.method);
  apply(base.percentile, top.percentile);
  apply(base.search_range, top.search_range);
  apply(base.outlier_factor, top.outlier_factor);
}

json spec_to_json(const QuantSpec& s) {
  json j = json::object();
  if (s.quantize) j["quantize"] = *s.quantize;
  if (s.activation_dtype) j["activation"] = dtype_name(*s.activation_dtype);
  if (s.weight_dtype) j["weight"] = dtype_name(*s.weight_dtype);
  if (s.symmetric_activations) j["symmetric_activations"] = *s.symmetric_activations;
  if (s.symmetric_weights) j["symmetric_weights"] = *s.symmetric_weights;
  if (s.per_channel) j["per_channel"] = *s.per_channel;
  if (s.scale_kind) j["scale"] = *s.scale_kind == ScaleKind::kFloat ? "float" : "power_of_two";
  if (s.method) j["method"] = range_method_name(*s.method);
  if (s.percentile) j["percentile"] = *s.percentile;
  if (s.search_range) j["search_range"] = *s.search_range;
  if (s.outlier_factor) j["outlier_factor"] = *s.outlier_factor;
  return j;
}

}  // namespace

QuantConfig QuantConfig::from_json(const std::string& text) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
    throw Error(StatusCode::kInvalidArgument, fmt::format("quant config is not valid JSON: {}", e.what()));
  }
  check_keys(root, "", kTopKeys);
  QuantConfig config;
  const std::vector<DType> io_types = {DType::kInt8, DType::kUInt8, DType::kInt16};
  for (const auto& item : root.items()) {
    const std::string& key = item.key();
    const json& v = item.value();
    const std::string at = "/" + key;
    if (key == "model") config.model = parse_spec(v, at);
    if (key == "op_types" || key == "nodes") {
      if (!v.is_object()) config_error(at, "should be an object of name -> settings");
      auto& target = key == "op_types" ? config.op_types : config.nodes;
      for (const auto& entry : v.items()) target[entry.key()] = parse_spec(entry.value(), at + "/" + entry.key());
    }
    if (key == "tensors") {
      if (!v.is_object()) config_error(at, "should be an object of tensor name -> parameters");
      for (const auto& entry : v.items()) config.tensors[entry.key()] = parse_override(entry.value(), at + "/" + entry.key());
    }
    if (key == "input") config.input_dtype = parse_dtype(v, at, io_types);
    if (key == "output") config.output_dtype = parse_dtype(v, at, io_types);
    if (key == "post_sigmoid") config.post_sigmoid = parse_bool(v, at);
    if (key == "auto_samples") config.auto_samples = static_cast<int>(parse_number(v, at, 1, 1000));
    if (key == "auto_evaluations") config.auto_evaluations = static_cast<int>(parse_number(v, at, 0, 1e6));
    if (key == "int16_budget") config.int16_budget = parse_number(v, at, 0, 1);
    if (key == "select_range") config.select_range = parse_bool(v, at);
    if (key == "min_snr") config.min_snr_db = parse_number(v, at, 0, 200);
    if (key == "bias_correction") config.bias_correction = static_cast<int>(parse_number(v, at, 0, 2));
  }
  return config;
}

std::string QuantConfig::to_json() const {
  json root;
  root["model"] = spec_to_json(model);
  root["op_types"] = json::object();
  for (const auto& [name, spec] : op_types) root["op_types"][name] = spec_to_json(spec);
  root["nodes"] = json::object();
  for (const auto& [name, spec] : nodes) root["nodes"][name] = spec_to_json(spec);
  root["tensors"] = json::object();
  for (const auto& [name, o] : tensors) {
    json t = json::object();
    if (o.scale) t["scale"] = *o.scale;
    if (o.zero_point) t["zero_point"] = *o.zero_point;
    if (o.min) t["min"] = *o.min;
    if (o.max) t["max"] = *o.max;
    root["tensors"][name] = t;
  }
  if (input_dtype) root["input"] = dtype_name(*input_dtype);
  if (output_dtype) root["output"] = dtype_name(*output_dtype);
  root["post_sigmoid"] = post_sigmoid;
  root["auto_samples"] = auto_samples;
  root["auto_evaluations"] = auto_evaluations;
  root["int16_budget"] = int16_budget;
  if (!select_range) root["select_range"] = false;
  if (min_snr_db > 0.0) root["min_snr"] = min_snr_db;
  if (bias_correction != 0) root["bias_correction"] = bias_correction;
  return root.dump(2);
}

namespace {

ResolvedSpec resolved(const QuantSpec& spec) {
  ResolvedSpec r;
  r.quantize = spec.quantize.value_or(r.quantize);
  r.activation_dtype = spec.activation_dtype.value_or(r.activation_dtype);
  r.weight_dtype = spec.weight_dtype.value_or(r.weight_dtype);
  r.symmetric_activations = spec.symmetric_activations.value_or(r.symmetric_activations);
  r.symmetric_weights = spec.symmetric_weights.value_or(r.symmetric_weights);
  r.per_channel = spec.per_channel.value_or(r.per_channel);
  r.scale_kind = spec.scale_kind.value_or(r.scale_kind);
  r.method_explicit = spec.method.has_value();
  r.range.method = spec.method.value_or(r.activation_dtype == DType::kInt16 ? RangeMethod::kMax : r.range.method);
  r.range.percentile = spec.percentile.value_or(r.range.percentile);
  r.range.search_range = spec.search_range.value_or(r.range.search_range);
  r.range.outlier_factor = spec.outlier_factor.value_or(r.range.outlier_factor);
  // Power-of-two scales have no zero point: they are symmetric by construction.
  if (r.scale_kind == ScaleKind::kPowerOfTwo) r.symmetric_activations = true;
  r.range.symmetric = r.symmetric_activations;
  r.range.bits = r.activation_dtype == DType::kInt16 ? 16 : 8;
  return r;
}

}  // namespace

ResolvedSpec QuantConfig::resolve(const Node& node) const {
  QuantSpec spec = model;
  if (auto it = op_types.find(node.op_type()); it != op_types.end()) overlay(spec, it->second);
  if (auto it = nodes.find(node.name()); it != nodes.end()) overlay(spec, it->second);
  return resolved(spec);
}

ResolvedSpec QuantConfig::resolve_model() const { return resolved(model); }

void check_config_against(const QuantConfig& config, const Graph& graph) {
  std::set<std::string> node_names, model_op_types, value_names;
  for (const Node* node : graph.nodes()) {
    node_names.insert(node->name());
    model_op_types.insert(node->op_type());
    for (const Value* v : node->outputs()) {
      if (v) value_names.insert(v->name());
    }
    for (const Value* v : node->inputs()) {
      if (v) value_names.insert(v->name());
    }
  }
  for (const Value* v : graph.inputs()) value_names.insert(v->name());
  const auto check = [](const auto& entries, const std::set<std::string>& names, const char* key,
                        const char* what) {
    for (const auto& entry : entries) {
      if (names.count(entry.first)) continue;
      const std::string nearest =
          nearest_name(entry.first, std::vector<std::string>(names.begin(), names.end()));
      throw Error(StatusCode::kNotFound,
                  fmt::format("quant config /{}/{}: the model has no {} \"{}\"{} (names are those "
                              "of the optimized graph: folded or fused nodes are gone)",
                              key, entry.first, what, entry.first,
                              nearest.empty() ? "" : fmt::format("; did you mean \"{}\"?", nearest)));
    }
  };
  check(config.nodes, node_names, "nodes", "node");
  check(config.op_types, model_op_types, "op_types", "node of op type");
  check(config.tensors, value_names, "tensors", "tensor");
}

}  // namespace lq
