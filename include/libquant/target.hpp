// Target: what the integer program may use on a device, and what its layers cost there.
//
// Where it lives: the Quantizer (lib/quantization) reads the Target (int16 requests fall
// back to int8 on an int8-only target), the Compiler (lib/compiler) reads it (which ops run
// in integer) and the analysis reads its cost model. A Target needs nothing but graph nodes,
// so it is its own stage, lib/target/, between the graph layer and the first stage that
// reads it: no lower stage calls into a higher one, and this header includes no
// quantization or compiler header.
//
// A Target is a value (copied into CompileOptions and PipelineOptions): a copy of its
// profile plus the op types a user keeps on the CPU. Profiles are registered by name in a
// TargetRegistry; the library's are one file each under lib/target/profiles/
// (docs/adding-a-target.md).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/graph.hpp"

namespace lq {

// The work of one layer, as the cost hook reads it.
struct LayerWork {
  int64_t macs = 0;           // multiply-accumulates
  int64_t bytes_read = 0;     // activations and weights read
  int64_t bytes_written = 0;  // outputs written
};

// A roofline: a layer takes as long as the slower of its arithmetic and its memory
// traffic. (Per-target profiles with on-chip SRAM and DDR bandwidth extend this.)
struct TargetCostModel {
  double macs_per_cycle = 1.0;
  double bytes_per_cycle = 8.0;  // to and from memory
  double clock_hz = 1e9;
};

// What a device supports and costs: the data a Target is made from.
struct TargetProfile {
  std::string name;         // lower case; what configs, the CLI and the C ABI use
  std::string description;  // one line, for listings
  bool int16_activations = true;
  std::vector<int> weight_bits = {8, 16};  // the weight bit widths it runs
  bool power_of_two_scales = false;        // scales must be 2^-radix (else any float)
  bool per_channel = true;                 // per-output-channel weight scales allowed
  // Op types it never runs in integer (they become CPU nodes of the Program).
  std::set<std::string> cpu_ops;
  // A finer op-support rule: why `node` cannot run in integer (e.g. a kernel size the
  // hardware lacks), or "" when it can. May be empty.
  std::function<std::string(const Node&)> unsupported;
  TargetCostModel cost;
};

// An op the target does not run in integer (or whose tensors are not quantized) becomes a
// CPU node in the Program: its inputs are dequantized, the float op runs, its outputs are
// quantized again.
class LQ_EXPORT Target {
 public:
  Target();  // "generic"
  explicit Target(TargetProfile profile);

  // A registered profile of TargetRegistry::builtin(): "generic" (every integer op
  // libquant lowers, int8 and int16) or "int8" (no int16: the Quantizer falls back to
  // int8, logged). Throws kInvalidArgument listing the known names.
  static Target named(const std::string& name);
  static std::vector<std::string> names();

  const std::string& name() const { return profile_.name; }
  const TargetProfile& profile() const { return profile_; }

  // ---- capabilities
  bool int16_activations() const { return profile_.int16_activations; }
  bool int16_weights() const { return allows_weight_bits(16); }
  // int16 activations and weights (false: the Quantizer uses int8 everywhere).
  bool int16() const { return int16_activations() && int16_weights(); }
  const std::vector<int>& weight_bits() const { return profile_.weight_bits; }
  bool allows_weight_bits(int bits) const;
  bool power_of_two_scales() const { return profile_.power_of_two_scales; }
  bool per_channel() const { return profile_.per_channel; }

  // ---- op support
  // The profile's CPU op types and those added by keep_on_cpu.
  const std::set<std::string>& cpu_ops() const { return profile_.cpu_ops; }
  void keep_on_cpu(const std::string& op_type) { profile_.cpu_ops.insert(op_type); }
  // Why `node` must run on the CPU, or "" when it may run in integer.
  std::string cpu_reason(const Node& node) const;

  // ---- cost
  // Cycles a layer takes on the target (at least 1 for any work).
  int64_t cycles(const LayerWork& work) const;
  double seconds(const LayerWork& work) const;

 private:
  TargetProfile profile_;
};

// Target profiles by name, in registration order. The library's are in builtin(); a
// registry of one's own can add more (e.g. a test's, or profiles read from files).
class LQ_EXPORT TargetRegistry {
 public:
  static const TargetRegistry& builtin();  // generic, int8

  // Throws kInvalidArgument when the name is empty, not lower case or already registered.
  void add(TargetProfile profile);
  const TargetProfile* find(const std::string& name) const;  // nullptr when unknown
  // Throws kInvalidArgument listing the known names.
  Target named(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<TargetProfile> profiles_;
};

}  // namespace lq
