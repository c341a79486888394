// The kernel registry: the list LQ_INTEGER_KERNELS (integer_kernels.hpp), each descriptor defined beside its kernel
// (reference/<op>.cpp). Codes and .lqm fields are program.proto's (KERNEL_* and
// Instruction.params): frozen.
#include "kernels/integer/registry.hpp"

#include <fmt/format.h>

#include <algorithm>


namespace lq::integer {

namespace detail {

std::string GenericChecker::channel_label(size_t c) { return fmt::format("channel {} multiplier", c); }

std::string GenericChecker::element_label(const char* list, size_t i) {
  std::string_view singular(list);
  if (!singular.empty() && singular.back() == 's') singular.remove_suffix(1);
  return fmt::format("{} {} ", singular, i);
}

void GenericChecker::check(const Multiplier& m, const std::string& field) {
  const bool mantissa_ok = m.mantissa == 0 || m.mantissa >= (int32_t{1} << 30);
  if (!mantissa_ok || m.shift < kMultiplierMinShift || m.shift > kMultiplierMaxShift) {
    problem = fmt::format("{} (mantissa {}, shift {}) is outside mantissa [2^30, 2^31) or 0, shift [{}, {}]",
                          field, m.mantissa, m.shift, kMultiplierMinShift, kMultiplierMaxShift);
  }
}

void GenericChecker::check(const OutputSpec& spec) {
  if (!is_activation_dtype(spec.dtype)) {
    problem = fmt::format("output dtype {} is not int8, uint8 or int16", dtype_name(spec.dtype));
  }
}

}  // namespace detail

bool is_activation_dtype(DType d) { return d == DType::kInt8 || d == DType::kUInt8 || d == DType::kInt16; }

// Names and codes identify kernels in programs and files: a second use is a mistake.
KernelRegistry::KernelRegistry(std::vector<const IntegerKernel*> kernels) : kernels_(std::move(kernels)) {
  for (auto it = kernels_.begin(); it != kernels_.end(); ++it) {
    const IntegerKernel& k = **it;
    const bool taken = std::any_of(kernels_.begin(), it, [&k](const IntegerKernel* earlier) {
      return earlier->code() == k.code() || earlier->name() == k.name();
    });
    if (taken || k.code() <= 0 || k.code() == kCpuKernelCode) {
      throw Error(StatusCode::kInternal,
                  fmt::format("integer kernel {} (code {}): its name or code is taken or reserved", k.name(),
                              k.code()));
    }
  }
}

const IntegerKernel* KernelRegistry::find(std::string_view name) const {
  for (const IntegerKernel* k : kernels_) {
    if (k->name() == name) return k;
  }
  return nullptr;
}

const IntegerKernel* KernelRegistry::find(int code) const {
  for (const IntegerKernel* k : kernels_) {
    if (k->code() == code) return k;
  }
  return nullptr;
}

const IntegerKernel* KernelRegistry::find_by_field(std::string_view proto_field) const {
  for (const IntegerKernel* k : kernels_) {
    if (!k->proto_field().empty() && k->proto_field() == proto_field) return k;
  }
  return nullptr;
}

const IntegerKernel* KernelRegistry::find_by_params(std::type_index type) const {
  for (const IntegerKernel* k : kernels_) {
    if (k->params_type() == type) return k;
  }
  return nullptr;
}

std::vector<Tensor> single(Tensor t) {
  std::vector<Tensor> out;
  out.push_back(std::move(t));
  return out;
}

std::string check_table(DType input, size_t entries, const char* what) {
  if (input != DType::kInt8 && input != DType::kUInt8 && input != DType::kInt16) {
    return fmt::format("{} input dtype {} is not int8, uint8 or int16", what, dtype_name(input));
  }
  const size_t expected = input == DType::kInt16 ? 65536 : 256;
  if (entries != expected) return fmt::format("{} has {} entries, expected {}", what, entries, expected);
  return {};
}
















const KernelRegistry& kernel_registry() {
  // Order matters only where kernels share a message or params type: the first one names
  // it in errors (Mul before Div, AveragePool before GlobalAveragePool).
#define LQ_LIST_INTEGER_KERNEL(descriptor) &descriptor(),
  static const KernelRegistry registry({LQ_INTEGER_KERNELS(LQ_LIST_INTEGER_KERNEL)});
#undef LQ_LIST_INTEGER_KERNEL
  return registry;
}

}  // namespace lq::integer
