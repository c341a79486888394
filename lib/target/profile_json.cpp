// Target profiles from JSON (docs/target-profile.md): every key and value checked; errors
// name the file, the JSON path, what is allowed and the nearest valid key.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "graph/nearest_name.hpp"
#include "libquant/target.hpp"

namespace lq {

namespace {

using nlohmann::json;

class ProfileReader {
 public:
  explicit ProfileReader(std::string context) : context_(std::move(context)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw Error(StatusCode::kInvalidArgument, fmt::format("{} {}: {}", context_, path, message));
  }

  void keys(const json& object, const std::string& path, const std::vector<std::string>& allowed) const {
    if (!object.is_object()) fail(path, fmt::format("expected an object, got {}", object.dump()));
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const std::string nearest = nearest_name(key, allowed);
      fail(path, fmt::format("unknown key \"{}\"{}; allowed: {}", key,
                             nearest.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", nearest),
                             fmt::join(allowed, ", ")));
    }
  }

  std::string string(const json& v, const std::string& path) const {
    if (!v.is_string()) fail(path, fmt::format("expected a string, got {}", v.dump()));
    return v.get<std::string>();
  }

  double positive(const json& v, const std::string& path) const {
    if (!v.is_number() || !(v.get<double>() > 0.0)) {
      fail(path, fmt::format("expected a number more than 0, got {}", v.dump()));
    }
    return v.get<double>();
  }

  int64_t whole(const json& v, const std::string& path, int64_t min) const {
    if (!v.is_number_integer() || v.get<int64_t>() < min) {
      fail(path, fmt::format("expected a whole number of at least {}, got {}", min, v.dump()));
    }
    return v.get<int64_t>();
  }

  std::vector<int64_t> wholes(const json& v, const std::string& path, int64_t min) const {
    if (!v.is_array()) fail(path, fmt::format("expected a list of whole numbers, got {}", v.dump()));
    std::vector<int64_t> out;
    for (size_t i = 0; i < v.size(); ++i) out.push_back(whole(v[i], fmt::format("{}[{}]", path, i), min));
    return out;
  }

  std::vector<int> bits(const json& v, const std::string& path, const std::vector<int>& allowed) const {
    std::vector<int> out;
    for (int64_t b : wholes(v, path, 1)) {
      if (std::find(allowed.begin(), allowed.end(), b) == allowed.end()) {
        fail(path, fmt::format("bit width {} is not one of {}", b, fmt::join(allowed, ", ")));
      }
      out.push_back(static_cast<int>(b));
    }
    if (out.empty()) fail(path, "needs at least one bit width");
    return out;
  }

  std::vector<std::string> strings(const json& v, const std::string& path,
                                   const std::vector<std::string>& allowed = {}) const {
    if (!v.is_array()) fail(path, fmt::format("expected a list of strings, got {}", v.dump()));
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string s = string(v[i], fmt::format("{}[{}]", path, i));
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
        const std::string nearest = nearest_name(s, allowed);
        fail(fmt::format("{}[{}]", path, i),
             fmt::format("\"{}\" is not one of {}{}", s, fmt::join(allowed, ", "),
                         nearest.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", nearest)));
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  std::string choice(const json& v, const std::string& path, const std::vector<std::string>& allowed) const {
    const std::string s = string(v, path);
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      fail(path, fmt::format("\"{}\" is not one of {}", s, fmt::join(allowed, ", ")));
    }
    return s;
  }

  OpConstraints op(const json& j, const std::string& path) const {
    keys(j, path, {"kernel_sizes", "strides", "dilations", "groups", "max_channels", "activation_bits",
                   "weight_bits"});
    OpConstraints c;
    if (j.contains("kernel_sizes")) c.kernel_sizes = wholes(j["kernel_sizes"], path + ".kernel_sizes", 1);
    if (j.contains("strides")) c.strides = wholes(j["strides"], path + ".strides", 1);
    if (j.contains("dilations")) c.dilations = wholes(j["dilations"], path + ".dilations", 1);
    if (j.contains("groups")) c.groups = strings(j["groups"], path + ".groups", {"normal", "depthwise", "grouped"});
    if (j.contains("max_channels")) c.max_channels = whole(j["max_channels"], path + ".max_channels", 1);
    if (j.contains("activation_bits")) c.activation_bits = bits(j["activation_bits"], path + ".activation_bits", {8, 16});
    if (j.contains("weight_bits")) c.weight_bits = bits(j["weight_bits"], path + ".weight_bits", {4, 8, 16});
    return c;
  }

  TargetCostModel cost(const json& j, const std::string& path) const {
    keys(j, path, {"macs_per_cycle", "clock_hz", "sram_bytes", "ddr_bytes_per_second", "cores"});
    TargetCostModel c;
    if (j.contains("clock_hz")) c.clock_hz = positive(j["clock_hz"], path + ".clock_hz");
    if (j.contains("macs_per_cycle")) {
      const json& m = j["macs_per_cycle"];
      const std::string mpath = path + ".macs_per_cycle";
      if (m.is_number()) {
        c.macs_per_cycle = positive(m, mpath);
      } else {
        const std::vector<std::string> pairs = {"a8w4", "a8w8", "a8w16", "a16w4", "a16w8", "a16w16"};
        keys(m, mpath, pairs);
        for (const auto& [pair, rate] : m.items()) {
          c.macs_per_cycle_by_bits[pair] = positive(rate, mpath + "." + pair);
        }
        if (!m.contains("a8w8")) fail(mpath, "needs \"a8w8\" (the int8 x int8 rate)");
        c.macs_per_cycle = c.macs_per_cycle_by_bits.at("a8w8");
      }
    }
    if (j.contains("ddr_bytes_per_second")) {
      c.bytes_per_cycle = positive(j["ddr_bytes_per_second"], path + ".ddr_bytes_per_second") / c.clock_hz;
    }
    if (j.contains("sram_bytes")) c.sram_bytes = whole(j["sram_bytes"], path + ".sram_bytes", 0);
    if (j.contains("cores")) c.cores = static_cast<int>(whole(j["cores"], path + ".cores", 1));
    return c;
  }

  TargetProfile profile(const json& j) const {
    keys(j, "", {"name", "description", "activation_bits", "weight_bits", "scale", "weights", "cpu_ops",
                 "restrict_ops", "ops", "cost"});
    TargetProfile t;
    if (!j.contains("name")) fail("", "needs \"name\" (lower case: what --target and configs use)");
    t.name = string(j["name"], "name");
    if (j.contains("description")) t.description = string(j["description"], "description");
    if (j.contains("activation_bits")) {
      const std::vector<int> a = bits(j["activation_bits"], "activation_bits", {8, 16});
      if (std::find(a.begin(), a.end(), 8) == a.end()) fail("activation_bits", "must include 8");
      t.int16_activations = std::find(a.begin(), a.end(), 16) != a.end();
    }
    if (j.contains("weight_bits")) t.weight_bits = bits(j["weight_bits"], "weight_bits", {4, 8, 16});
    if (j.contains("scale")) t.power_of_two_scales = choice(j["scale"], "scale", {"float", "power_of_two"}) == "power_of_two";
    if (j.contains("weights")) t.per_channel = choice(j["weights"], "weights", {"per_channel", "per_tensor"}) == "per_channel";
    if (j.contains("cpu_ops")) {
      for (const std::string& op : strings(j["cpu_ops"], "cpu_ops")) t.cpu_ops.insert(op);
    }
    if (j.contains("restrict_ops")) {
      if (!j["restrict_ops"].is_boolean()) fail("restrict_ops", "expected true or false");
      t.restrict_ops = j["restrict_ops"].get<bool>();
    }
    if (j.contains("ops")) {
      if (!j["ops"].is_object()) fail("ops", "expected an object of op types");
      for (const auto& [op_type, c] : j["ops"].items()) t.ops[op_type] = op(c, "ops." + op_type);
    }
    if (t.restrict_ops && t.ops.empty()) fail("restrict_ops", "is true but \"ops\" lists no op type");
    if (j.contains("cost")) t.cost = cost(j["cost"], "cost");
    return t;
  }

 private:
  std::string context_;
};

}  // namespace

TargetProfile parse_target_profile(const std::string& text, const std::string& context) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("{}: not valid JSON: {}", context, e.what()));
  }
  return ProfileReader(context).profile(j);
}

TargetProfile load_target_profile(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error(StatusCode::kNotFound, fmt::format("cannot open target profile '{}'", path));
  std::stringstream buffer;
  buffer << file.rdbuf();
  return parse_target_profile(buffer.str(), path);
}

}  // namespace lq
