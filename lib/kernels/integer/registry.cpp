// The built-in integer kernels' descriptors and the registry listing them. Codes and
// .lqm fields are program.proto's (KERNEL_* and Instruction.params): frozen.
#include "kernels/integer/registry.hpp"

#include <fmt/format.h>

#include "kernels/integer/common.hpp"

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

KernelRegistry::KernelRegistry(std::vector<const IntegerKernel*> kernels) : kernels_(std::move(kernels)) {}

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

namespace {

std::vector<Tensor> one(Tensor t) {
  std::vector<Tensor> out;
  out.push_back(std::move(t));
  return out;
}

// Tables are indexed by an input code: one entry per code of the input dtype.
std::string check_table(DType input, size_t entries, const char* what) {
  if (input != DType::kInt8 && input != DType::kUInt8 && input != DType::kInt16) {
    return fmt::format("{} input dtype {} is not int8, uint8 or int16", what, dtype_name(input));
  }
  const size_t expected = input == DType::kInt16 ? 65536 : 256;
  if (entries != expected) return fmt::format("{} has {} entries, expected {}", what, entries, expected);
  return {};
}

}  // namespace

const IntegerKernel& conv_kernel() {
  static const IntegerKernel k = make_kernel<ConvParams>(
      {"Conv", 1, "conv", [](const KernelArgs& a, const ConvParams& p) {
         return one(conv(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

const IntegerKernel& gemm_kernel() {
  static const IntegerKernel k = make_kernel<GemmParams>(
      {"Gemm", 2, "gemm", [](const KernelArgs& a, const GemmParams& p) {
         return one(gemm(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

// Its parameters are a bare LinearQuant.
const IntegerKernel& mat_mul_kernel() {
  static const IntegerKernel k = make_kernel<LinearQuant>(
      {"MatMul", 3, "mat_mul", [](const KernelArgs& a, const LinearQuant& p) {
         return one(mat_mul(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

const IntegerKernel& add_kernel() {
  static const IntegerKernel k = make_kernel<AddParams>(
      {"Add", 4, "add", [](const KernelArgs& a, const AddParams& p) { return one(add(a.in(0), a.in(1), p)); },
       [](const AddParams& p) -> std::string {
         if (p.left_shift < 0 || p.left_shift > 30) {
           return fmt::format("left_shift {} is outside [0, 30]", p.left_shift);
         }
         return {};
       }});
  return k;
}

const IntegerKernel& mul_kernel() {
  static const IntegerKernel k = make_kernel<MulParams>(
      {"Mul", 5, "mul", [](const KernelArgs& a, const MulParams& p) { return one(mul(a.in(0), a.in(1), p)); }});
  return k;
}

const IntegerKernel& concat_kernel() {
  static const IntegerKernel k = make_kernel<ConcatParams>(
      {"Concat", 6, "concat", [](const KernelArgs& a, const ConcatParams& p) {
         std::vector<const Tensor*> parts;
         for (const Tensor& t : a.inputs) parts.push_back(&t);
         return one(concat(parts, p));
       }});
  return k;
}

const IntegerKernel& rescale_kernel() {
  static const IntegerKernel k = make_kernel<RescaleOp>(
      {"Rescale", 7, "rescale", [](const KernelArgs& a, const RescaleOp& p) {
         return one(rescale(a.in(0), p.rescale, p.output));
       }});
  return k;
}

// Its parameters are a bare PoolWindow.
const IntegerKernel& max_pool_kernel() {
  static const IntegerKernel k = make_kernel<PoolWindow>(
      {"MaxPool", 8, "max_pool", [](const KernelArgs& a, const PoolWindow& p) { return one(max_pool(a.in(0), p)); }});
  return k;
}

const IntegerKernel& average_pool_kernel() {
  static const IntegerKernel k = make_kernel<AveragePoolParams>(
      {"AveragePool", 9, "average_pool", [](const KernelArgs& a, const AveragePoolParams& p) {
         return one(average_pool(a.in(0), p));
       }});
  return k;
}

// Shares AveragePool's message; the window is unused.
const IntegerKernel& global_average_pool_kernel() {
  static const IntegerKernel k = make_kernel<AveragePoolParams>(
      {"GlobalAveragePool", 10, "average_pool", [](const KernelArgs& a, const AveragePoolParams& p) {
         return one(global_average_pool(a.in(0), p));
       }});
  return k;
}

const IntegerKernel& gather_kernel() {
  static const IntegerKernel k = make_kernel<GatherOp>(
      {"Gather", 11, "gather",
       [](const KernelArgs& a, const GatherOp& p) { return one(detail::gather_axes(a.in(0), p.offsets, p.fill)); },
       nullptr,
       [](const GatherOp& p) {
         int64_t bytes = 0;
         for (const auto& axis : p.offsets) bytes += static_cast<int64_t>(axis.size() * sizeof(int64_t));
         return bytes;
       }});
  return k;
}

const IntegerKernel& lookup_kernel() {
  static const IntegerKernel k = make_kernel<LookupTable>(
      {"Lookup", 12, "lookup", [](const KernelArgs& a, const LookupTable& p) { return one(lookup(a.in(0), p)); },
       [](const LookupTable& p) -> std::string {
         std::string problem = check_table(p.input_dtype, p.values.size(), "lookup table");
         if (problem.empty() && !is_activation_dtype(p.output_dtype)) {
           problem = fmt::format("lookup table output dtype {} is not int8, uint8 or int16",
                                 dtype_name(p.output_dtype));
         }
         return problem;
       },
       [](const LookupTable& p) {
         return static_cast<int64_t>(p.values.size() * dtype_size(p.output_dtype));
       }});
  return k;
}

const IntegerKernel& softmax_kernel() {
  static const IntegerKernel k = make_kernel<SoftmaxParams>(
      {"Softmax", 13, "softmax", [](const KernelArgs& a, const SoftmaxParams& p) { return one(softmax(a.in(0), p)); },
       [](const SoftmaxParams& p) { return check_table(p.input_dtype, p.exp_table.size(), "softmax exp table"); }});
  return k;
}

// Code 14 is the CPU instruction (compiler/program.hpp), not an integer kernel.

const IntegerKernel& conv_transpose_kernel() {
  static const IntegerKernel k = make_kernel<ConvTransposeParams>(
      {"ConvTranspose", 15, "conv_transpose", [](const KernelArgs& a, const ConvTransposeParams& p) {
         return one(conv_transpose(a.in(0), a.in(1), a.optional(2), p, a.pool));
       }});
  return k;
}

// Shares Mul's message: zero points, s_a / (s_b s_out), output.
const IntegerKernel& div_kernel() {
  static const IntegerKernel k = make_kernel<MulParams>(
      {"Div", 16, "mul", [](const KernelArgs& a, const MulParams& p) { return one(div(a.in(0), a.in(1), p)); }});
  return k;
}

const KernelRegistry& kernel_registry() {
  // Order matters only where kernels share a message or params type: the first one names
  // it in errors (Mul before Div, AveragePool before GlobalAveragePool).
  static const KernelRegistry registry({
      &conv_kernel(),
      &gemm_kernel(),
      &mat_mul_kernel(),
      &add_kernel(),
      &mul_kernel(),
      &concat_kernel(),
      &rescale_kernel(),
      &max_pool_kernel(),
      &average_pool_kernel(),
      &global_average_pool_kernel(),
      &gather_kernel(),
      &lookup_kernel(),
      &softmax_kernel(),
      &conv_transpose_kernel(),
      &div_kernel(),
  });
  return registry;
}

}  // namespace lq::integer
