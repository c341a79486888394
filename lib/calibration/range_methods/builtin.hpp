// The range methods libquant ships, one file each in this directory. A file defines
// `RangeMethodInfo <name>_range_method()`; the list below registers it, in this order
// (the order names are listed in, and auto tries candidates in).
#pragma once

#include "libquant/calibrator.hpp"

// X(name): the function name_range_method() of name.cpp.
#define LQ_BUILTIN_RANGE_METHODS(X) X(max) X(percentile) X(kl) X(mse) X(mmse)

namespace lq::range_methods {

#define LQ_DECLARE_RANGE_METHOD(name) RangeMethodInfo name##_range_method();
LQ_BUILTIN_RANGE_METHODS(LQ_DECLARE_RANGE_METHOD)
#undef LQ_DECLARE_RANGE_METHOD

}  // namespace lq::range_methods
