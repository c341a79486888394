// The target profiles libquant ships: one JSON file each in profiles/ (the schema is
// docs/target-profile.md), compiled into the library by CMake (LQ_TARGET_PROFILES in
// CMakeLists.txt lists them, in the order Target::names() lists them).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "libquant/target.hpp"

namespace lq::targets {

// {file name, JSON text} of every built-in profile, in registration order (generated).
const std::vector<std::pair<std::string, std::string>>& builtin_profile_json();

}  // namespace lq::targets
