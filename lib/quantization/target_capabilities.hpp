// The QuantConfig a Target allows: what the Quantizer applies before assigning parameters.
#pragma once

#include <string>
#include <vector>

#include "libquant/quantizer.hpp"

namespace lq {

// Power-of-two scales on a radix target (explicit override scales rounded to one), per-tensor
// weights where the target has no per-channel scales, and weight widths it lacks (int4) at
// int8; each change the user asked otherwise for is a line in `log`. (int16 falls back in
// the Quantizer.)
QuantConfig apply_target_capabilities(const QuantConfig& config, const Target& target,
                                      std::vector<std::string>& log);

}  // namespace lq
