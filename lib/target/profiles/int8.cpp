// int8: the generic target without int16 (int16 requests fall back to int8, logged).
#include "target/profiles.hpp"

namespace lq::targets {

TargetProfile int8_target() {
  TargetProfile t = generic_target();
  t.name = "int8";
  t.description = "every integer op libquant lowers, int8 only";
  t.int16_activations = false;
  t.weight_bits = {8};
  return t;
}

}  // namespace lq::targets
