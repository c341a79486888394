// PipelineOptions from a JSON or YAML config: one schema, validated key by key.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "libquant/pipeline.hpp"
#include "quantization/json_check.hpp"

namespace lq {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kWhat = "pipeline config";

const std::vector<std::string> kGroups = {"model", "input", "calibration", "quantization", "compiler",
                                          "output"};
const std::vector<std::string> kModelKeys = {"path", "outputs", "remove_output_nodes"};
const std::vector<std::string> kInputKeys = {"shape", "calibration", "images", "size", "resize",
                                             "color", "layout", "mean", "scale", "pad_value", "range"};
const std::vector<std::string> kCalibrationKeys = {"method",  "percentile",     "search_range", "outlier_factor",
                                                   "threads", "histogram_bins", "keep_samples", "stats",
                                                   "stats_out", "shard"};
const std::vector<std::string> kQuantizationKeys = {
    "activation", "weight", "symmetric_activations", "symmetric_weights", "per_channel", "scale",
    "input", "output", "post_sigmoid", "int16_budget", "config", "op_types", "nodes", "tensors"};
const std::vector<std::string> kCompilerKeys = {"target", "cpu_ops", "threads"};
const std::vector<std::string> kOutputKeys = {"dir", "artifacts"};

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  json_check::fail(kWhat, path, message);
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (path.empty() || base_dir.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

std::string string_at(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, fmt::format("{} should be a string", v.dump()));
  return v.get<std::string>();
}

std::vector<std::string> strings_at(const json& v, const std::string& path) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) fail(path, fmt::format("{} should be a string or a list of strings", v.dump()));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(string_at(v[i], fmt::format("{}/{}", path, i)));
  return out;
}

std::string choice_at(const json& v, const std::string& path, const std::vector<std::string>& allowed) {
  const std::string s = string_at(v, path);
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    fail(path, fmt::format("'{}' is not allowed; use one of {}", s, json_check::joined(allowed)));
  }
  return s;
}

double number_at(const json& v, const std::string& path) {
  if (!v.is_number()) fail(path, fmt::format("{} should be a number", v.dump()));
  return v.get<double>();
}

int64_t positive_at(const json& v, const std::string& path) {
  if (!v.is_number_integer() || v.get<int64_t>() <= 0) fail(path, fmt::format("{} should be a positive whole number", v.dump()));
  return v.get<int64_t>();
}

bool bool_at(const json& v, const std::string& path) {
  if (!v.is_boolean()) fail(path, fmt::format("{} should be true or false", v.dump()));
  return v.get<bool>();
}

std::array<float, 3> three_at(const json& v, const std::string& path) {
  if (v.is_number()) {
    const auto x = static_cast<float>(v.get<double>());
    return {x, x, x};
  }
  if (!v.is_array() || (v.size() != 1 && v.size() != 3)) fail(path, "should be a number or a list of 1 or 3 numbers");
  std::array<float, 3> out{};
  for (size_t c = 0; c < 3; ++c) out[c] = static_cast<float>(number_at(v[v.size() == 1 ? 0 : c], path));
  return out;
}

PipelineInput parse_input(const json& object, const std::string& path, const std::string& base_dir) {
  json_check::keys(object, kWhat, path, kInputKeys);
  PipelineInput in;
  in.preprocess.resize = ResizeMode::kStretch;
  for (const auto& item : object.items()) {
    const std::string at = path + "/" + item.key();
    const json& v = item.value();
    const std::string& key = item.key();
    if (key == "shape") {
      if (!v.is_array()) fail(at, "should be a list of dimensions, e.g. [1, 3, 48, 192]");
      Shape shape;
      for (size_t i = 0; i < v.size(); ++i) shape.push_back(positive_at(v[i], fmt::format("{}/{}", at, i)));
      in.shape = shape;
    }
    if (key == "calibration") {
      for (const std::string& p : strings_at(v, at)) in.calibration.push_back(resolve_path(p, base_dir));
    }
    if (key == "images") in.images = bool_at(v, at);
    if (key == "size") {
      if (!v.is_array() || v.size() != 2) fail(at, "should be [height, width]");
      in.preprocess.height = positive_at(v[0], at + "/0");
      in.preprocess.width = positive_at(v[1], at + "/1");
    }
    if (key == "resize") {
      const std::string mode = choice_at(v, at, {"stretch", "fit-height-pad", "none"});
      in.preprocess.resize = mode == "stretch" ? ResizeMode::kStretch
                             : mode == "none" ? ResizeMode::kNone
                                              : ResizeMode::kFitHeightPad;
    }
    if (key == "color") {
      const std::string order = choice_at(v, at, {"rgb", "bgr", "gray"});
      in.preprocess.color = order == "rgb" ? ColorOrder::kRGB : order == "bgr" ? ColorOrder::kBGR : ColorOrder::kGray;
    }
    if (key == "layout") in.preprocess.layout = choice_at(v, at, {"nchw", "nhwc"}) == "nchw" ? Layout::kNCHW : Layout::kNHWC;
    if (key == "mean") in.preprocess.mean = three_at(v, at);
    if (key == "scale") in.preprocess.scale = three_at(v, at);
    if (key == "pad_value") in.preprocess.pad_value = static_cast<float>(number_at(v, at));
    if (key == "range") {
      if (!v.is_array() || v.size() != 2) fail(at, "should be [min, max], e.g. [0, 1]");
      const double lo = number_at(v[0], at + "/0");
      const double hi = number_at(v[1], at + "/1");
      if (!(lo < hi)) fail(at, fmt::format("[{}, {}] needs min < max", lo, hi));
      in.range = Range{lo, hi};
    }
  }
  return in;
}

std::string read_text(const std::string& path, const std::string& at) {
  std::ifstream file(path);
  if (!file) fail(at, fmt::format("cannot open '{}'", path));
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

// The quantization group becomes one QuantConfig JSON: an optional config file first, the
// group's own keys over it, and the calibration group's method settings at the model level.
QuantConfig parse_quantization(const json& quant, const json& calib, const std::string& base_dir) {
  json config = json::object();
  if (quant.contains("config")) {
    const std::string file = resolve_path(string_at(quant["config"], "/quantization/config"), base_dir);
    try {
      config = json::parse(read_text(file, "/quantization/config"));
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
      fail("/quantization/config", fmt::format("'{}' is not valid JSON: {}", file, e.what()));
    }
  }
  json& model = config["model"];
  if (model.is_null()) model = json::object();
  for (const char* key : {"activation", "weight", "symmetric_activations", "symmetric_weights", "per_channel", "scale"}) {
    if (quant.contains(key)) model[key] = quant[key];
  }
  for (const char* key : {"method", "percentile", "search_range", "outlier_factor"}) {
    if (calib.contains(key)) model[key] = calib[key];
  }
  for (const char* key : {"op_types", "nodes", "tensors"}) {
    if (quant.contains(key)) config[key].merge_patch(quant[key]);
  }
  for (const char* key : {"input", "output", "post_sigmoid", "int16_budget"}) {
    if (quant.contains(key)) config[key] = quant[key];
  }
  try {
    return QuantConfig::from_json(config.dump());
  } catch (const Error& e) {
    // The quant config's paths are relative to the quantization group.
    throw Error(e.code(), fmt::format("{} (in /quantization, or the file /quantization/config names)", e.what()));
  }
}

PipelineOptions parse(const json& root, const std::string& base_dir) {
  json_check::keys(root, kWhat, "", kGroups);
  for (const char* required : {"model", "output"}) {
    if (!root.contains(required)) fail("", fmt::format("the '{}' group is required", required));
  }
  PipelineOptions o;
  const json empty = json::object();
  const json& model = root["model"];
  json_check::keys(model, kWhat, "/model", kModelKeys);
  if (!model.contains("path")) fail("/model", "'path' (the float ONNX model) is required");
  o.model = resolve_path(string_at(model["path"], "/model/path"), base_dir);
  if (model.contains("outputs")) o.outputs = strings_at(model["outputs"], "/model/outputs");
  if (model.contains("remove_output_nodes")) {
    o.remove_output_nodes = strings_at(model["remove_output_nodes"], "/model/remove_output_nodes");
  }
  const json& input = root.contains("input") ? root["input"] : empty;
  if (!input.is_object()) fail("/input", "should map input names to their settings");
  for (const auto& item : input.items()) o.inputs[item.key()] = parse_input(item.value(), "/input/" + item.key(), base_dir);

  const json& calib = root.contains("calibration") ? root["calibration"] : empty;
  json_check::keys(calib, kWhat, "/calibration", kCalibrationKeys);
  if (calib.contains("threads")) o.calibration.threads = static_cast<int>(positive_at(calib["threads"], "/calibration/threads"));
  if (calib.contains("histogram_bins")) {
    o.calibration.histogram_bins = static_cast<int>(positive_at(calib["histogram_bins"], "/calibration/histogram_bins"));
  }
  o.calibration.keep_samples = 8;
  if (calib.contains("keep_samples")) {
    o.calibration.keep_samples = static_cast<size_t>(positive_at(calib["keep_samples"], "/calibration/keep_samples"));
  }
  if (calib.contains("stats")) {
    for (const std::string& p : strings_at(calib["stats"], "/calibration/stats")) o.stats.push_back(resolve_path(p, base_dir));
  }
  if (calib.contains("stats_out")) o.stats_out = resolve_path(string_at(calib["stats_out"], "/calibration/stats_out"), base_dir);
  if (calib.contains("shard")) {
    const std::string shard = string_at(calib["shard"], "/calibration/shard");
    parse_shard(shard, o.calibration, "pipeline config /calibration/shard");
  }
  const json& quant = root.contains("quantization") ? root["quantization"] : empty;
  json_check::keys(quant, kWhat, "/quantization", kQuantizationKeys);
  o.quantization = parse_quantization(quant, calib, base_dir);

  const json& compiler = root.contains("compiler") ? root["compiler"] : empty;
  json_check::keys(compiler, kWhat, "/compiler", kCompilerKeys);
  if (compiler.contains("target")) {
    // A built-in name, or a profile file (relative to the config) ending in .json.
    const json& t = compiler["target"];
    const bool file = t.is_string() && t.get<std::string>().size() > 5 &&
                      t.get<std::string>().rfind(".json") == t.get<std::string>().size() - 5;
    o.target = file ? Target::from_name_or_file(resolve_path(t.get<std::string>(), base_dir))
                    : Target::named(choice_at(t, "/compiler/target", Target::names()));
  }
  if (compiler.contains("cpu_ops")) {
    for (const std::string& op : strings_at(compiler["cpu_ops"], "/compiler/cpu_ops")) o.target.keep_on_cpu(op);
  }
  if (compiler.contains("threads")) o.threads = static_cast<int>(positive_at(compiler["threads"], "/compiler/threads"));

  const json& output = root["output"];
  json_check::keys(output, kWhat, "/output", kOutputKeys);
  if (!output.contains("dir")) fail("/output", "'dir' (where artifacts are written) is required");
  o.output_dir = resolve_path(string_at(output["dir"], "/output/dir"), base_dir);
  if (output.contains("artifacts")) {
    o.artifacts.clear();
    const auto names = strings_at(output["artifacts"], "/output/artifacts");
    for (size_t i = 0; i < names.size(); ++i) {
      o.artifacts.push_back(choice_at(json(names[i]), fmt::format("/output/artifacts/{}", i),
                                        PipelineOptions::artifact_names()));
    }
  }
  return o;
}

// JSON strings are UTF-8 (nlohmann's parser checks, its dump() throws on anything else);
// YAML scalars are checked here, so a config's text always writes back out.
const std::string& utf8_scalar(const YAML::Node& node) {
  try {
    (void)json(node.Scalar()).dump();
  } catch (const json::exception&) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("pipeline config: line {}: text that is not valid UTF-8", node.Mark().line + 1));
  }
  return node.Scalar();
}

// YAML scalars become JSON booleans, numbers or strings by their spelling. Keys must be
// scalars (the schema's names); nesting deeper than any config needs is refused.
json yaml_to_json(const YAML::Node& node, int depth = 0) {
  constexpr int kMaxDepth = 32;
  if (depth > kMaxDepth) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("pipeline config: YAML nested deeper than {} levels (line {})", kMaxDepth,
                            node.Mark().line + 1));
  }
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json object = json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          throw Error(StatusCode::kInvalidArgument,
                      fmt::format("pipeline config: line {}: a key must be a name, not a list or a map",
                                  entry.first.Mark().line + 1));
        }
        object[utf8_scalar(entry.first)] = yaml_to_json(entry.second, depth + 1);
      }
      return object;
    }
    case YAML::NodeType::Sequence: {
      json array = json::array();
      for (const auto& item : node) array.push_back(yaml_to_json(item, depth + 1));
      return array;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = utf8_scalar(node);
      if (node.Tag() == "!") return text;  // quoted: always a string
      if (text == "true" || text == "True") return true;
      if (text == "false" || text == "False") return false;
      try {
        size_t used = 0;
        const long long i = std::stoll(text, &used);
        if (used == text.size()) return i;
        const double d = std::stod(text, &used);
        if (used == text.size()) return d;
      } catch (const std::exception&) {
      }
      return text;
    }
    default:
      return nullptr;
  }
}

}  // namespace

PipelineOptions PipelineOptions::from_json(const std::string& text, const std::string& base_dir) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
    throw Error(StatusCode::kInvalidArgument, fmt::format("pipeline config is not valid JSON: {}", e.what()));
  }
  return parse(root, base_dir);
}

PipelineOptions PipelineOptions::from_yaml(const std::string& text, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("pipeline config is not valid YAML: {}", e.what()));
  }
  return parse(yaml_to_json(root), base_dir);
}

std::string PipelineOptions::to_json() const {
  json root;
  root["model"] = {{"path", model}, {"outputs", outputs}, {"remove_output_nodes", remove_output_nodes}};
  root["input"] = json::object();
  const char* resize_names[] = {"none", "stretch", "fit-height-pad"};
  const char* color_names[] = {"rgb", "bgr", "gray"};
  for (const auto& [name, in] : inputs) {
    json j;
    if (in.shape) j["shape"] = *in.shape;
    j["calibration"] = in.calibration;
    j["images"] = in.images;
    if (in.preprocess.height > 0 || in.preprocess.width > 0) j["size"] = {in.preprocess.height, in.preprocess.width};
    j["resize"] = resize_names[static_cast<int>(in.preprocess.resize)];
    j["color"] = color_names[static_cast<int>(in.preprocess.color)];
    j["layout"] = in.preprocess.layout == Layout::kNCHW ? "nchw" : "nhwc";
    j["mean"] = in.preprocess.mean;
    j["scale"] = in.preprocess.scale;
    j["pad_value"] = in.preprocess.pad_value;
    if (in.range) j["range"] = {in.range->min, in.range->max};
    root["input"][name] = j;
  }
  const ResolvedSpec spec = quantization.resolve_model();
  root["calibration"] = {{"method", range_method_name(spec.range.method)},
                         {"percentile", spec.range.percentile},
                         {"search_range", spec.range.search_range},
                         {"outlier_factor", spec.range.outlier_factor},
                         {"threads", calibration.threads},
                         {"histogram_bins", calibration.histogram_bins},
                         {"keep_samples", calibration.keep_samples},
                         {"stats", stats},
                         {"stats_out", stats_out},
                         {"shard", fmt::format("{}/{}", calibration.shard_index, calibration.shard_count)}};
  json quant = json::parse(quantization.to_json());
  root["quantization"] = {{"activation", dtype_name(spec.activation_dtype)},
                          {"weight", dtype_name(spec.weight_dtype)},
                          {"symmetric_activations", spec.symmetric_activations},
                          {"symmetric_weights", spec.symmetric_weights},
                          {"per_channel", spec.per_channel},
                          {"scale", spec.scale_kind == ScaleKind::kFloat ? "float" : "power_of_two"},
                          {"post_sigmoid", quantization.post_sigmoid},
                          {"int16_budget", quantization.int16_budget},
                          {"op_types", quant["op_types"]},
                          {"nodes", quant["nodes"]},
                          {"tensors", quant["tensors"]}};
  if (quantization.input_dtype) root["quantization"]["input"] = dtype_name(*quantization.input_dtype);
  if (quantization.output_dtype) root["quantization"]["output"] = dtype_name(*quantization.output_dtype);
  root["compiler"] = {{"target", target.name()}, {"cpu_ops", target.cpu_ops()}, {"threads", threads}};
  root["output"] = {{"dir", output_dir}, {"artifacts", artifacts}};
  return root.dump(2);
}

}  // namespace lq
