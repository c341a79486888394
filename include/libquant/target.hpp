// Target: what the integer program may use. The Quantizer reads it (int16 requests fall
// back to int8 on an int8-only target) and the Compiler reads it (which ops run in integer).
#pragma once

#include <set>
#include <string>

#include "libquant/export.hpp"

namespace lq {

// An op the target does not run in integer (or whose tensors are not quantized) becomes a
// CPU node in the Program: its inputs are dequantized, the float op runs, its outputs are
// quantized again.
struct LQ_EXPORT Target {
  std::string name = "generic";
  bool int16 = true;  // int16 activations and weights (false: the Quantizer uses int8)
  // Op types kept on the CPU even when they could run in integer (e.g. "Softmax").
  std::set<std::string> cpu_ops;

  // "generic" (every integer op libquant lowers, int8 and int16) or "int8" (no int16: the
  // Quantizer falls back to int8, logged). Throws kInvalidArgument listing the known names.
  static Target named(const std::string& name);
};

}  // namespace lq
