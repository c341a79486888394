// Target: capability, op-support and cost queries on a profile; the profile registry.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "target/profiles.hpp"

namespace lq {

Target::Target() : Target(TargetRegistry::builtin().named("generic")) {}

Target::Target(TargetProfile profile) : profile_(std::move(profile)) {}

Target Target::named(const std::string& name) { return TargetRegistry::builtin().named(name); }

Target Target::from_name_or_file(const std::string& name_or_path) {
  const bool file = name_or_path.size() > 5 && name_or_path.compare(name_or_path.size() - 5, 5, ".json") == 0;
  if (!file) return named(name_or_path);
  TargetRegistry one;
  TargetProfile profile = load_target_profile(name_or_path);
  const std::string name = profile.name;
  one.add(std::move(profile));  // the registry's checks
  return one.named(name);
}

double TargetCostModel::macs_per_cycle_for(int activation_bits, int weight_bits) const {
  auto it = macs_per_cycle_by_bits.find(fmt::format("a{}w{}", activation_bits, weight_bits));
  if (it != macs_per_cycle_by_bits.end()) return it->second;
  return macs_per_cycle * 64.0 / (std::max(8, activation_bits) * std::max(8, weight_bits));
}

std::vector<std::string> Target::names() { return TargetRegistry::builtin().names(); }

bool Target::allows_weight_bits(int bits) const {
  return std::count(profile_.weight_bits.begin(), profile_.weight_bits.end(), bits) > 0;
}

std::string Target::cpu_reason(const Node& node) const {
  if (profile_.cpu_ops.count(node.op_type())) {
    return fmt::format("target \"{}\" keeps {} on the CPU", name(), node.op_type());
  }
  if (std::string why = constraint_reason(node); !why.empty()) return why;
  return profile_.unsupported ? profile_.unsupported(node) : std::string();
}

namespace {

bool one_of(const std::vector<int64_t>& allowed, int64_t v) {
  return allowed.empty() || std::count(allowed.begin(), allowed.end(), v) > 0;
}

}  // namespace

// The profile's "ops": whether the op type runs on the NPU at all, and its kernel size,
// stride, dilation, group kind and channel limits (read from the attributes and the weight).
std::string Target::constraint_reason(const Node& node) const {
  auto it = profile_.ops.find(node.op_type());
  if (it == profile_.ops.end()) {
    return profile_.restrict_ops
               ? fmt::format("target \"{}\" has no {} on the NPU (not in its \"ops\")", name(), node.op_type())
               : std::string();
  }
  const OpConstraints& c = it->second;
  const Value* w = node.inputs().size() > 1 ? node.input(1) : nullptr;
  const Shape* weight = w && w->is_constant() && w->initializer()->shape().size() >= 2
                            ? &w->initializer()->shape() : nullptr;
  std::vector<int64_t> kernel = node.attr_ints("kernel_shape", {});
  if (kernel.empty() && weight && (node.op_type() == "Conv" || node.op_type() == "ConvTranspose")) {
    kernel.assign(weight->begin() + 2, weight->end());
  }
  auto check_all = [&](const std::vector<int64_t>& allowed, const std::vector<int64_t>& values,
                       const char* what) -> std::string {
    for (int64_t v : values) {
      if (!one_of(allowed, v)) {
        return fmt::format("target \"{}\" runs {} with {} in [{}], not [{}]", name(), node.op_type(), what,
                           fmt::join(allowed, ", "), fmt::join(values, ", "));
      }
    }
    return "";
  };
  if (std::string why = check_all(c.kernel_sizes, kernel, "kernel sizes"); !why.empty()) return why;
  if (std::string why = check_all(c.strides, node.attr_ints("strides", {}), "strides"); !why.empty()) return why;
  if (std::string why = check_all(c.dilations, node.attr_ints("dilations", {}), "dilations"); !why.empty()) return why;
  if (weight && (node.op_type() == "Conv" || node.op_type() == "ConvTranspose")) {
    const int64_t group = node.attr_int("group", 1);
    const bool transpose = node.op_type() == "ConvTranspose";
    const int64_t out_channels = transpose ? (*weight)[1] * group : (*weight)[0];
    const int64_t in_channels = transpose ? (*weight)[0] : (*weight)[1] * group;
    const std::string kind = group == 1 ? "normal" : group == in_channels && group == out_channels ? "depthwise" : "grouped";
    if (!c.groups.empty() && std::find(c.groups.begin(), c.groups.end(), kind) == c.groups.end()) {
      return fmt::format("target \"{}\" runs {} groups of kinds [{}], not {} (group {})", name(), node.op_type(),
                         fmt::join(c.groups, ", "), kind, group);
    }
    if (c.max_channels && std::max(in_channels, out_channels) > c.max_channels) {
      return fmt::format("target \"{}\" runs {} with up to {} channels, not {} in / {} out", name(),
                         node.op_type(), c.max_channels, in_channels, out_channels);
    }
  } else if (weight && c.max_channels && std::max((*weight)[0], (*weight)[1]) > c.max_channels) {
    return fmt::format("target \"{}\" runs {} with up to {} channels, not a [{}] weight", name(),
                       node.op_type(), c.max_channels, fmt::join(*weight, ", "));
  }
  return "";
}

std::string Target::operand_reason(const Node& node, int activation_bits, int weight_bits) const {
  auto it = profile_.ops.find(node.op_type());
  if (it == profile_.ops.end()) return "";
  const OpConstraints& c = it->second;
  auto has = [](const std::vector<int>& allowed, int b) {
    return allowed.empty() || std::count(allowed.begin(), allowed.end(), b) > 0;
  };
  if (activation_bits && !has(c.activation_bits, activation_bits)) {
    return fmt::format("target \"{}\" runs {} with {}-bit activations only, not {}-bit", name(), node.op_type(),
                       fmt::join(c.activation_bits, "/"), activation_bits);
  }
  if (weight_bits && !has(c.weight_bits, weight_bits)) {
    return fmt::format("target \"{}\" runs {} with {}-bit weights only, not {}-bit", name(), node.op_type(),
                       fmt::join(c.weight_bits, "/"), weight_bits);
  }
  return "";
}

int64_t Target::cycles(const LayerWork& work) const {
  const TargetCostModel& c = profile_.cost;
  const double compute = static_cast<double>(work.macs) / (c.macs_per_cycle * c.cores);
  const double memory = static_cast<double>(work.bytes_read + work.bytes_written) / c.bytes_per_cycle;
  const double slower = std::max(compute, memory);
  return slower > 0.0 ? std::max<int64_t>(1, static_cast<int64_t>(std::ceil(slower))) : 0;
}

double Target::seconds(const LayerWork& work) const {
  return static_cast<double>(cycles(work)) / profile_.cost.clock_hz;
}

const TargetRegistry& TargetRegistry::builtin() {
  static const TargetRegistry registry = [] {
    TargetRegistry r;
    for (const auto& [file, text] : targets::builtin_profile_json()) {
      r.add(parse_target_profile(text, "built-in target profile " + file));
    }
    return r;
  }();
  return registry;
}

void TargetRegistry::add(TargetProfile profile) {
  const std::string& name = profile.name;
  const bool lower = std::all_of(name.begin(), name.end(), [](unsigned char c) { return !std::isupper(c); });
  if (name.empty() || !lower) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("target profile \"{}\": names are non-empty and lower case", name));
  }
  if (find(name)) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("target \"{}\" is already registered", name));
  }
  auto positive = [&](double v, const char* what) {
    if (!(v > 0.0)) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("target \"{}\": cost.{} is {}, expected more than 0", name, what, v));
    }
  };
  positive(profile.cost.macs_per_cycle, "macs_per_cycle");
  positive(profile.cost.bytes_per_cycle, "bytes_per_cycle");
  positive(profile.cost.clock_hz, "clock_hz");
  positive(profile.cost.cores, "cores");
  profiles_.push_back(std::move(profile));
}

const TargetProfile* TargetRegistry::find(const std::string& name) const {
  for (const TargetProfile& p : profiles_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Target TargetRegistry::named(const std::string& name) const {
  if (const TargetProfile* p = find(name)) return Target(*p);
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("unknown target \"{}\": expected one of {}", name, fmt::join(names(), ", ")));
}

std::vector<std::string> TargetRegistry::names() const {
  std::vector<std::string> out;
  for (const TargetProfile& p : profiles_) out.push_back(p.name);
  return out;
}

}  // namespace lq
