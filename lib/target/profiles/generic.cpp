// generic: every integer op libquant lowers, int8 and int16, any scale, per channel.
#include "target/profiles.hpp"

namespace lq::targets {

TargetProfile generic_target() {
  TargetProfile t;
  t.name = "generic";
  t.description = "every integer op libquant lowers, int8 and int16";
  return t;
}

}  // namespace lq::targets
