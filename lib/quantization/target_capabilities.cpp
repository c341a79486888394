#include "quantization/target_capabilities.hpp"

#include <fmt/format.h>

#include <cmath>

namespace lq {

QuantConfig apply_target_capabilities(const QuantConfig& config, const Target& target,
                                      std::vector<std::string>& log) {
  QuantConfig out = config;
  auto adapt = [&](QuantSpec& spec, const std::string& where, bool model_level) {
    if (target.power_of_two_scales()) {
      if (spec.scale_kind == ScaleKind::kFloat) {
        log.push_back(fmt::format("target \"{}\" has power-of-two scales only: {} float scales become "
                                  "power-of-two", target.name(), where));
      }
      if (model_level || spec.scale_kind) spec.scale_kind = ScaleKind::kPowerOfTwo;
    }
    if (!target.per_channel()) {
      if (spec.per_channel == true) {
        log.push_back(fmt::format("target \"{}\" has per-tensor weights only: {} per-channel weights "
                                  "become per-tensor", target.name(), where));
      }
      if (model_level || spec.per_channel) spec.per_channel = false;
    }
    if (spec.weight_dtype == DType::kInt4 && !target.allows_weight_bits(4)) {
      log.push_back(fmt::format("target \"{}\" has no int4 weights: {} int4 weights fall back to int8",
                                target.name(), where));
      spec.weight_dtype = DType::kInt8;
    }
  };
  adapt(out.model, "the model level's", true);
  for (auto& [op, spec] : out.op_types) adapt(spec, "op type " + op + "'s", false);
  for (auto& [node, spec] : out.nodes) adapt(spec, "node \"" + node + "\"'s", false);
  if (target.power_of_two_scales()) {
    for (auto& [name, o] : out.tensors) {
      if (!o.scale || *o.scale <= 0.0f) continue;
      const float pow2 = std::exp2(std::ceil(std::log2(*o.scale)));
      if (pow2 != *o.scale) {
        log.push_back(fmt::format("target \"{}\" has power-of-two scales only: tensor \"{}\"'s scale {} "
                                  "becomes {}", target.name(), name, *o.scale, pow2));
        o.scale = pow2;
      }
      if (o.zero_point.value_or(0) != 0) {
        log.push_back(fmt::format("target \"{}\" has power-of-two scales only: tensor \"{}\"'s zero "
                                  "point {} becomes 0", target.name(), name, *o.zero_point));
        o.zero_point = 0;
      }
    }
  }
  return out;
}

}  // namespace lq
