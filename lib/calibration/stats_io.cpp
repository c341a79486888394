// Mergeable calibration statistics: exact merging of shards, and their versioned file.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "libquant/calibrator.hpp"

namespace lq {

namespace {

constexpr const char* kFormat = "libquant-calibration-statistics";
constexpr int kVersion = 1;

[[noreturn]] void refuse(const std::string& what) { throw Error(StatusCode::kInvalidArgument, what); }

// An integer field in T's range. nlohmann's get<T>() casts whatever number it finds, and a
// float outside T's range (1e82 as a count) is undefined behaviour.
template <typename T>
T integer(const nlohmann::json& v, const char* what) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<int64_t>();
    if (i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
        (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
      return static_cast<T>(i);
    }
  }
  refuse(fmt::format("\"{}\" is {}, expected an integer in [{}, {}]", what, v.dump(),
                     std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
}

double number(const nlohmann::json& v, const char* what) {
  if (!v.is_number()) refuse(fmt::format("\"{}\" is {}, expected a number", what, v.dump()));
  return v.get<double>();
}

// FNV-1a, 64 bits: stable across machines and runs (std::hash is neither).
class Fingerprint {
 public:
  void add(const std::string& text) {
    for (unsigned char c : text) hash_ = (hash_ ^ c) * 0x100000001b3ull;
    hash_ = (hash_ ^ 0xff) * 0x100000001b3ull;  // a separator, so ("ab","c") != ("a","bc")
  }
  std::string hex() const { return fmt::format("{:016x}", hash_); }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

void merge_min_max(double& into, double from, bool smaller) {
  into = smaller ? std::min(into, from) : std::max(into, from);
}

// Whether any finite value has been counted (zeros sit in the middle bin).
bool has_data(const TensorStats& s) {
  const Histogram& h = s.histogram;
  return h.limit() > 0.0 || h.counts()[static_cast<size_t>(h.bins() / 2)] > 0;
}

// Per-channel extremes are +-inf for a channel that saw no finite value; JSON numbers
// cannot say so, strings can.
nlohmann::json doubles_json(const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (double v : values) {
    if (std::isfinite(v)) {
      out.push_back(v);
    } else {
      out.push_back(std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    }
  }
  return out;
}

std::vector<double> doubles_from_json(const nlohmann::json& j) {
  std::vector<double> out;
  for (const auto& v : j) {
    if (v.is_number()) {
      out.push_back(v.get<double>());
    } else {
      const std::string s = v.get<std::string>();
      if (s != "inf" && s != "-inf" && s != "nan") refuse(fmt::format("\"{}\" is not a number", s));
      out.push_back(s == "nan" ? NAN : s == "inf" ? INFINITY : -INFINITY);
    }
  }
  return out;
}

nlohmann::json stats_json(const TensorStats& s) {
  nlohmann::json j = {{"min", s.min},
                      {"max", s.max},
                      {"count", s.count},
                      {"constant", s.constant},
                      {"histogram_limit", s.histogram.limit()},
                      {"histogram", s.histogram.counts()}};
  if (s.channel_axis >= 0) {
    j["channel_axis"] = s.channel_axis;
    j["channel_min"] = doubles_json(s.channel_min);
    j["channel_max"] = doubles_json(s.channel_max);
  }
  return j;
}

TensorStats stats_from_json(const nlohmann::json& j) {
  TensorStats s;
  s.min = number(j.at("min"), "min");
  s.max = number(j.at("max"), "max");
  s.count = integer<uint64_t>(j.at("count"), "count");
  s.constant = j.at("constant").get<bool>();
  std::vector<uint64_t> counts;
  if (!j.at("histogram").is_array()) refuse("\"histogram\" is not an array of counts");
  for (const auto& c : j.at("histogram")) counts.push_back(integer<uint64_t>(c, "histogram"));
  s.histogram = Histogram::from_counts(number(j.at("histogram_limit"), "histogram_limit"), counts);
  if (j.contains("channel_axis")) {
    s.channel_axis = integer<int>(j.at("channel_axis"), "channel_axis");
    s.channel_min = doubles_from_json(j.at("channel_min"));
    s.channel_max = doubles_from_json(j.at("channel_max"));
    if (s.channel_min.size() != s.channel_max.size()) refuse("channel_min and channel_max differ in length");
  }
  return s;
}

// Tensors of kept samples travel as .npy bytes, hex-encoded (JSON has no bytes).
std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = digits[b >> 4];
    out[2 * i + 1] = digits[b & 15];
  }
  return out;
}

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) refuse("a kept sample's data has an odd number of hex digits");
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    refuse(fmt::format("a kept sample's data holds '{}', not a hex digit", c));
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(value(hex[2 * i]) * 16 + value(hex[2 * i + 1]));
  return out;
}

}  // namespace

void merge_stats(TensorStats& into, const TensorStats& from, const std::string& what) {
  if (into.histogram.bins() != from.histogram.bins()) {
    refuse(fmt::format("cannot merge statistics of \"{}\": histograms of {} and {} bins (calibrate every "
                       "shard with the same histogram_bins)", what, into.histogram.bins(), from.histogram.bins()));
  }
  if (into.channel_axis != from.channel_axis || into.channel_min.size() != from.channel_min.size()) {
    refuse(fmt::format("cannot merge statistics of \"{}\": channel axis {} with {} channels against axis {} "
                       "with {}", what, into.channel_axis, into.channel_min.size(), from.channel_axis,
                       from.channel_min.size()));
  }
  if (into.constant || from.constant) {
    if (into.constant != from.constant || into.count != from.count || into.min != from.min || into.max != from.max) {
      refuse(fmt::format("cannot merge statistics of \"{}\": a constant with different values in the two "
                         "tables (another model?)", what));
    }
    return;  // the same weights in every shard: counted once
  }
  if (has_data(from)) {
    const bool fresh = !has_data(into);
    into.min = fresh ? from.min : std::min(into.min, from.min);
    into.max = fresh ? from.max : std::max(into.max, from.max);
  }
  for (size_t c = 0; c < from.channel_min.size(); ++c) {
    merge_min_max(into.channel_min[c], from.channel_min[c], true);
    merge_min_max(into.channel_max[c], from.channel_max[c], false);
  }
  into.count += from.count;
  into.histogram.merge(from.histogram);
}

void CalibrationTable::merge(const CalibrationTable& other) {
  if (model_fingerprint != other.model_fingerprint) {
    refuse(fmt::format("cannot merge calibration statistics of different models (fingerprints {} and {}): "
                       "calibrate every shard on the same model with the same input shapes",
                       model_fingerprint.empty() ? "none" : model_fingerprint,
                       other.model_fingerprint.empty() ? "none" : other.model_fingerprint));
  }
  for (const auto& [name, theirs] : other.tensors) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      tensors.emplace(name, theirs);
    } else {
      merge_stats(it->second, theirs, name);
    }
  }
  samples += other.samples;
  keep_limit = std::max(keep_limit, other.keep_limit);
  kept.insert(kept.end(), other.kept.begin(), other.kept.end());
  std::stable_sort(kept.begin(), kept.end(),
                   [](const KeptSample& a, const KeptSample& b) { return a.order < b.order; });
  if (kept.size() > keep_limit) kept.resize(keep_limit);
}

std::string CalibrationTable::serialize() const {
  nlohmann::json root = {{"format", kFormat},
                         {"version", kVersion},
                         {"model_fingerprint", model_fingerprint},
                         {"samples", samples},
                         {"keep_limit", keep_limit}};
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [name, stats] : tensors) values[name] = stats_json(stats);
  root["tensors"] = std::move(values);
  nlohmann::json samples_json = nlohmann::json::array();
  for (const KeptSample& k : kept) {
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& [name, tensor] : k.inputs) inputs[name] = to_hex(serialize_npy(tensor));
    samples_json.push_back({{"order", k.order}, {"inputs", std::move(inputs)}});
  }
  root["kept"] = std::move(samples_json);
  return root.dump();
}

CalibrationTable CalibrationTable::parse(const std::string& text, const std::string& context) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("{}: not a calibration statistics file (not JSON: {})", context, e.what()));
  }
  if (!root.is_object() || !root.contains("format") || !root.at("format").is_string() ||
      root.at("format").get<std::string>() != kFormat) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("{}: not a calibration statistics file (no \"format\": \"{}\"); write one with "
                            "lquant calibrate --stats-out", context, kFormat));
  }
  const int version = root.contains("version") ? integer<int>(root.at("version"), "version") : 0;
  if (version > kVersion) {
    throw Error(StatusCode::kUnsupported,
                fmt::format("{}: statistics format version {}; this libquant reads up to {}: upgrade libquant",
                            context, version, kVersion));
  }
  if (version != kVersion) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("{}: statistics format version {} does not exist", context, version));
  }
  CalibrationTable table;
  std::string current = "the header";
  try {
    table.model_fingerprint = root.at("model_fingerprint").get<std::string>();
    table.samples = integer<uint64_t>(root.at("samples"), "samples");
    table.keep_limit = integer<size_t>(root.at("keep_limit"), "keep_limit");
    for (const auto& [name, j] : root.at("tensors").items()) {
      current = "tensor \"" + name + "\"";
      table.tensors.emplace(name, stats_from_json(j));
    }
    for (const auto& k : root.at("kept")) {
      current = "a kept sample";
      KeptSample sample;
      sample.order = integer<uint64_t>(k.at("order"), "order");
      for (const auto& [name, hex] : k.at("inputs").items()) {
        const std::string bytes = from_hex(hex.get<std::string>());
        sample.inputs[name] = parse_npy(bytes.data(), bytes.size(), context + ": kept sample input " + name);
      }
      table.kept.push_back(std::move(sample));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("{}: {}: {}", context, current, e.what()));
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}: {}", context, current, e.what()));
  }
  return table;
}

void CalibrationTable::save(const std::string& path) const {
  const std::string temp = fmt::format("{}.tmp-{}", path, ::getpid());
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    file << serialize();
    file.flush();
    if (!file) {
      std::remove(temp.c_str());
      throw Error(StatusCode::kIoError, fmt::format("cannot write calibration statistics to '{}'", path));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw Error(StatusCode::kIoError, fmt::format("cannot rename '{}' over '{}'", temp, path));
  }
}

CalibrationTable CalibrationTable::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(StatusCode::kNotFound, fmt::format("cannot open calibration statistics '{}'", path));
  std::ostringstream buffer;
  buffer << file.rdbuf();
  return parse(buffer.str(), path);
}

CalibrationTable CalibrationTable::merge_files(const std::vector<std::string>& paths) {
  if (paths.empty()) throw Error(StatusCode::kInvalidArgument, "no calibration statistics files to merge");
  CalibrationTable table = load(paths.front());
  for (size_t i = 1; i < paths.size(); ++i) {
    try {
      table.merge(load(paths[i]));
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("merging '{}' into '{}': {}", paths[i], paths.front(), e.what()));
    }
  }
  return table;
}

std::string calibration_fingerprint(const Graph& graph) {
  Fingerprint f;
  f.add(graph.name());
  for (const Value* in : graph.inputs()) f.add("input " + in->name() + " " + in->type().str());
  for (const Value* out : graph.outputs()) f.add("output " + out->name());
  for (const Value* c : graph.initializers()) {
    f.add("constant " + c->name() + " " + dtype_name(c->initializer()->dtype()) + shape_str(c->initializer()->shape()));
  }
  for (const Node* n : graph.nodes()) {
    f.add("node " + n->domain() + "::" + n->op_type() + " " + n->name());
    for (const Value* v : n->inputs()) f.add(v ? v->name() : "-");
    for (const Value* v : n->outputs()) f.add(v->name());
  }
  return f.hex();
}

}  // namespace lq
