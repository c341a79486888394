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
#include <map>
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
  double macs_per_cycle = 1.0;   // int8 x int8, per core
  double bytes_per_cycle = 8.0;  // to and from DDR
  double clock_hz = 1e9;
  int64_t sram_bytes = 0;        // on-chip SRAM per core (0: unlimited, nothing is tiled)
  int cores = 1;
  // MACs per cycle per core by operand widths "aAwW" (e.g. "a16w8"); missing pairs scale
  // macs_per_cycle by 8 x 8 / (A x W).
  std::map<std::string, double> macs_per_cycle_by_bits;
  double macs_per_cycle_for(int activation_bits, int weight_bits) const;
};

// What a target requires of one op type's nodes (profile JSON "ops"); an empty list allows
// anything (docs/target-profile.md).
struct OpConstraints {
  std::vector<int64_t> kernel_sizes;  // every spatial kernel extent is one of these
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<std::string> groups;    // "normal" (group 1), "depthwise", "grouped"
  int64_t max_channels = 0;           // input and output channels (0: no limit)
  std::vector<int> activation_bits;   // operand dtypes the op runs with
  std::vector<int> weight_bits;
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
  // When `restrict_ops`, only the op types in `ops` run on the NPU, each within its
  // constraints; otherwise `ops` only adds constraints to the op types it names.
  bool restrict_ops = false;
  std::map<std::string, OpConstraints> ops;
  TargetCostModel cost;
};

// A profile from its JSON (docs/target-profile.md): every key checked, the nearest valid
// key suggested; throws kInvalidArgument naming `context` (the file) and the JSON path.
LQ_EXPORT TargetProfile parse_target_profile(const std::string& json, const std::string& context = "target profile");
LQ_EXPORT TargetProfile load_target_profile(const std::string& path);

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
  // A built-in name, or a path ending in .json (a profile file of one's own).
  static Target from_name_or_file(const std::string& name_or_path);
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
  // Why `node` cannot run on the NPU with these operand widths (its op's "activation_bits"
  // / "weight_bits" constraints), or "".
  std::string operand_reason(const Node& node, int activation_bits, int weight_bits) const;

  // ---- cost
  // Cycles a layer takes on the target (at least 1 for any work).
  int64_t cycles(const LayerWork& work) const;
  double seconds(const LayerWork& work) const;

 private:
  std::string constraint_reason(const Node& node) const;
  TargetProfile profile_;
};

// Target profiles by name, in registration order. The library's are in builtin(); a
// registry of one's own can add more (e.g. a test's, or profiles read from files).
class LQ_EXPORT TargetRegistry {
 public:
  // generic, int8, pow2-npu, small-npu: lib/target/profiles/*.json, compiled in.
  static const TargetRegistry& builtin();

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
