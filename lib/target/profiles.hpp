// The target profiles libquant ships, one file each in profiles/. A file defines
// `TargetProfile <name>_target()`; the list below registers it, in this order (the order
// Target::names() lists them in).
#pragma once

#include "libquant/target.hpp"

// X(name): the function name_target() of profiles/name.cpp.
#define LQ_BUILTIN_TARGETS(X) X(generic) X(int8)

namespace lq::targets {

#define LQ_DECLARE_TARGET(name) TargetProfile name##_target();
LQ_BUILTIN_TARGETS(LQ_DECLARE_TARGET)
#undef LQ_DECLARE_TARGET

}  // namespace lq::targets
