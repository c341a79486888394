// On a target with power-of-two scales every requantization must be a pure rounding shift:
// each Multiplier in an instruction's parameters has the mantissa 2^30 (or is zero). The
// Compiler checks it after lowering, so a scale the Quantizer did not round (a hand-made
// QuantizedGraph, an override) is an error naming the node, not a silent float multiplier.
#include <fmt/format.h>

#include "compiler/program.hpp"

namespace lq::compiler {

namespace {

// Collects (path, mantissa) of every "mantissa" field (Multiplier::fields).
class MultiplierCollector : public integer::FieldVisitor {
 public:
  std::vector<std::pair<std::string, int32_t>> mantissas;

  void field(const char* name, int32_t& value) override {
    if (std::string(name) == "mantissa") mantissas.emplace_back(path(), value);
  }
  void field(const char*, int64_t&) override {}
  void field(const char*, bool&) override {}
  void field(const char*, DType&) override {}
  void field(const char*, std::vector<int32_t>&) override {}
  void field(const char*, std::vector<int64_t>&) override {}
  void field(const char*, const char*, std::vector<std::vector<int64_t>>&) override {}
  size_t begin_structs(const char* name, size_t count, bool) override {
    stack_.push_back(name);
    return count;
  }
  void begin_struct(size_t) override {}
  void end_struct() override {}
  void end_structs() override { stack_.pop_back(); }

 private:
  std::vector<std::string> stack_;
  std::string path() const {
    std::string p;
    for (const std::string& s : stack_) p += (p.empty() ? "" : ".") + s;
    return p;
  }
};

}  // namespace

void require_power_of_two_requantization(const ProgramData& data, const Target& target) {
  for (const Instruction& ins : data.instructions) {
    if (ins.is_cpu()) continue;
    MultiplierCollector collector;
    ins.kernel->write_fields(ins.params, collector);
    for (const auto& [path, mantissa] : collector.mantissas) {
      if (mantissa == 0 || mantissa == (int32_t{1} << 30)) continue;
      throw Error(StatusCode::kFailedPrecondition,
                  fmt::format("{} node \"{}\" ({} kernel): requantization {} has mantissa {}, not a power "
                              "of two; target \"{}\" requantizes by rounding shifts only (quantize with "
                              "the Quantizer on this target, or give power-of-two scales)",
                              ins.op_type, ins.node, ins.kernel_name(), path.empty() ? "multiplier" : path,
                              mantissa, target.name()));
    }
  }
}

}  // namespace lq::compiler
