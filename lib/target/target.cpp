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

std::vector<std::string> Target::names() { return TargetRegistry::builtin().names(); }

bool Target::allows_weight_bits(int bits) const {
  return std::count(profile_.weight_bits.begin(), profile_.weight_bits.end(), bits) > 0;
}

std::string Target::cpu_reason(const Node& node) const {
  if (profile_.cpu_ops.count(node.op_type())) {
    return fmt::format("target \"{}\" keeps {} on the CPU", name(), node.op_type());
  }
  return profile_.unsupported ? profile_.unsupported(node) : std::string();
}

int64_t Target::cycles(const LayerWork& work) const {
  const TargetCostModel& c = profile_.cost;
  const double compute = static_cast<double>(work.macs) / c.macs_per_cycle;
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
#define LQ_ADD_TARGET(name) r.add(targets::name##_target());
    LQ_BUILTIN_TARGETS(LQ_ADD_TARGET)
#undef LQ_ADD_TARGET
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
