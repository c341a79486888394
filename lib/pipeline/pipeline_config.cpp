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
                                          "output", "analyze"};
const std::vector<std::string> kModelKeys = {"path", "outputs", "remove_output_nodes", "remove_node_types",
                                             "remove_node_names", "extra_outputs", "batch"};
const std::vector<std::string> kInputKeys = {"shape", "calibration", "images", "size", "resize",
                                             "color", "layout", "mean", "scale", "pad_value",
                                             "format", "format_layout", "yuv_range", "train_format",
                                             "train_layout", "range"};
const std::vector<std::string> kCalibrationKeys = {"method",  "percentile",     "search_range", "outlier_factor",
                                                   "threads", "histogram_bins", "keep_samples", "stats",
                                                   "stats_out", "shard"};
const std::vector<std::string> kQuantizationKeys = {
    "activation", "weight", "symmetric_activations", "symmetric_weights", "per_channel", "scale",
    "input", "output", "post_sigmoid", "int16_budget", "config", "op_types", "nodes", "tensors"};
const std::vector<std::string> kCompilerKeys = {"target", "cpu_ops", "threads", "mode", "cores", "balance_factor"};
const std::vector<std::string> kOutputKeys = {"dir", "artifacts"};
const std::vector<std::string> kAnalyzeKeys = {"enabled", "dir", "sensitivity", "sensitivity_samples",
                                               "integer_checks", "dump", "histogram_bins"};

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
  // A runtime input format folds the train format (color or train_format), mean and scale
  // into the program.
  if (object.contains("format")) {
    InputFormat f;
    f.runtime = parse_pixel_format(choice_at(object["format"], path + "/format",
                                             {"featuremap", "rgb", "bgr", "gray", "yuv444", "nv12"}));
    const ColorOrder color = in.preprocess.color;
    f.train = color == ColorOrder::kBGR ? PixelFormat::kBGR : color == ColorOrder::kGray ? PixelFormat::kGray : PixelFormat::kRGB;
    if (object.contains("train_format")) {
      f.train = parse_pixel_format(choice_at(object["train_format"], path + "/train_format", {"rgb", "bgr", "gray", "yuv444"}));
    }
    auto layout_of = [&](const char* key) {
      return choice_at(object[key], path + "/" + key, {"nchw", "nhwc"}) == "nchw" ? Layout::kNCHW : Layout::kNHWC;
    };
    if (object.contains("format_layout")) f.runtime_layout = layout_of("format_layout");
    if (object.contains("train_layout")) f.train_layout = layout_of("train_layout");
    if (object.contains("yuv_range")) {
      f.range = choice_at(object["yuv_range"], path + "/yuv_range", {"full", "bt601_video"}) == "full" ? YuvRange::kFull : YuvRange::kVideo;
    }
    const size_t channels = f.train == PixelFormat::kGray ? 1 : 3;
    f.mean.assign(in.preprocess.mean.begin(), in.preprocess.mean.begin() + channels);
    f.scale.assign(in.preprocess.scale.begin(), in.preprocess.scale.begin() + channels);
    if (f.runtime != PixelFormat::kFeatureMap) in.format = f;
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
  if (model.contains("remove_node_types")) {
    o.remove_nodes.op_types = strings_at(model["remove_node_types"], "/model/remove_node_types");
  }
  if (model.contains("remove_node_names")) {
    o.remove_nodes.node_names = strings_at(model["remove_node_names"], "/model/remove_node_names");
  }
  if (model.contains("extra_outputs")) o.extra_outputs = strings_at(model["extra_outputs"], "/model/extra_outputs");
  if (model.contains("batch")) o.batch = positive_at(model["batch"], "/model/batch");
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
  if (compiler.contains("mode")) {
    o.compile_mode = parse_compile_mode(choice_at(compiler["mode"], "/compiler/mode", {"latency", "bandwidth", "balance"}));
  }
  if (compiler.contains("balance_factor")) {
    o.balance_factor = number_at(compiler["balance_factor"], "/compiler/balance_factor");
    if (!(o.balance_factor >= 0.0)) fail("/compiler/balance_factor", "should be a share >= 0, e.g. 0.25");
  }
  if (compiler.contains("cores")) {
    TargetProfile profile = o.target.profile();
    profile.cost.cores = static_cast<int>(positive_at(compiler["cores"], "/compiler/cores"));
    const std::set<std::string> cpu_ops = o.target.cpu_ops();
    o.target = Target(profile);
    for (const std::string& op : cpu_ops) o.target.keep_on_cpu(op);
  }

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
  // The analyze stage: `analyze: true`, or a group (on unless `enabled: false`).
  if (root.contains("analyze")) {
    const json& a = root["analyze"];
    if (a.is_boolean()) {
      o.analyze = a.get<bool>();
    } else {
      if (!a.is_object()) fail("/analyze", fmt::format("{} should be true, false or a group of settings", a.dump()));
      json_check::keys(a, kWhat, "/analyze", kAnalyzeKeys);
      o.analyze = a.contains("enabled") ? bool_at(a["enabled"], "/analyze/enabled") : true;
      if (a.contains("dir")) o.analysis_dir = resolve_path(string_at(a["dir"], "/analyze/dir"), base_dir);
      if (a.contains("sensitivity")) o.analysis.sensitivity = bool_at(a["sensitivity"], "/analyze/sensitivity");
      if (a.contains("sensitivity_samples")) {
        o.analysis.sensitivity_samples =
            static_cast<size_t>(positive_at(a["sensitivity_samples"], "/analyze/sensitivity_samples"));
      }
      if (a.contains("integer_checks")) {
        const json& v = a["integer_checks"];
        if (!v.is_number_integer() || v.get<int64_t>() < 0) {
          fail("/analyze/integer_checks", fmt::format("{} should be a whole number >= 0", v.dump()));
        }
        o.analysis.integer_checks = static_cast<size_t>(v.get<int64_t>());
      }
      if (a.contains("dump")) {
        const json& v = a["dump"];
        if (!v.is_number_integer() || v.get<int64_t>() < 0) {
          fail("/analyze/dump", fmt::format("{} should be a sample number (0-based)", v.dump()));
        }
        o.analysis.dump_sample = static_cast<size_t>(v.get<int64_t>());
      }
      if (a.contains("histogram_bins")) {
        o.analysis.histogram_bins = static_cast<int>(positive_at(a["histogram_bins"], "/analyze/histogram_bins"));
      }
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
  root["model"]["remove_node_types"] = remove_nodes.op_types;
  root["model"]["remove_node_names"] = remove_nodes.node_names;
  root["model"]["extra_outputs"] = extra_outputs;
  if (batch) root["model"]["batch"] = *batch;
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
    if (in.format) {
      j["format"] = pixel_format_name(in.format->runtime);
      j["format_layout"] = in.format->runtime_layout == Layout::kNCHW ? "nchw" : "nhwc";
      j["yuv_range"] = in.format->range == YuvRange::kFull ? "full" : "bt601_video";
      j["train_format"] = pixel_format_name(in.format->train);
      if (in.format->train_layout) j["train_layout"] = *in.format->train_layout == Layout::kNCHW ? "nchw" : "nhwc";
    }
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
  root["compiler"]["mode"] = compile_mode_name(compile_mode);
  root["compiler"]["balance_factor"] = balance_factor;
  root["compiler"]["cores"] = target.profile().cost.cores;
  root["output"] = {{"dir", output_dir}, {"artifacts", artifacts}};
  root["analyze"] = {{"enabled", analyze},
                     {"dir", analysis_dir},
                     {"sensitivity", analysis.sensitivity},
                     {"sensitivity_samples", analysis.sensitivity_samples},
                     {"integer_checks", analysis.integer_checks},
                     {"histogram_bins", analysis.histogram_bins}};
  if (analysis.dump_sample) root["analyze"]["dump"] = *analysis.dump_sample;
  return root.dump(2);
}

}  // namespace lq
