// Table ops (Sigmoid, Tanh, HardSigmoid, HardSwish, Exp, any unary function): the table is
// built once from the float function, then applied by indexing. 8-bit inputs have 256
// entries; int16 inputs a full 65536-entry table, exact like the 8-bit ones (an
// interpolated 513-entry table, TFLite's int16 method, errs by tens of LSBs at the kinks
// of HardSigmoid / HardSwish, which would break agreement with fake quantization). 8-bit
// to 8-bit lookups run optimized/elementwise.cpp's byte tables; lookup_reference widens
// and narrows through int32 vectors.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/elementwise.hpp"
#include <fmt/format.h>
#include "kernels/integer/registry.hpp"

namespace lq::integer {

namespace {

constexpr const char* kOp = "LookupTable";

size_t entries(DType input) { return size_t{1} << (input == DType::kInt16 ? 16 : 8); }

// The table's output: its dtype's full range, zero point 0 (the values are codes already).
OutputSpec table_output(const LookupTable& table) {
  return {table.output_dtype, 0, dtype_qmin(table.output_dtype), dtype_qmax(table.output_dtype)};
}

}  // namespace



namespace detail {

void check_lookup(const Tensor& x, const LookupTable& table) {
  require_dtype(kOp, "input", x, {table.input_dtype});
  if (table.values.size() != entries(table.input_dtype)) {
    fail(kOp, "table has {} entries, expected {}", table.values.size(), entries(table.input_dtype));
  }
  check_output_spec(kOp, table_output(table));
  for (int32_t v : table.values) {
    if (v < dtype_qmin(table.output_dtype) || v > dtype_qmax(table.output_dtype)) {
      fail(kOp, "table value {} is outside the {} range", v, dtype_name(table.output_dtype));
    }
  }
}

}  // namespace detail

Tensor lookup(const Tensor& x, const LookupTable& table) {
  detail::check_lookup(x, table);
  if (std::optional<Tensor> y = optimized::lookup(x, table)) return *y;
  // An int16 input or output: typed loads and stores, no intermediate vector.
  Tensor y(table.output_dtype, x.shape());
  detail::visit_codes(x.dtype(), x.raw(), [&](const auto* codes) {
    detail::visit_output(y.dtype(), y.raw(), [&](auto* out) {
      using T = std::remove_pointer_t<decltype(out)>;
      const int32_t* values = table.values.data() - dtype_qmin(table.input_dtype);
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = static_cast<T>(values[codes[i]]);
    });
  });
  return y;
}

Tensor lookup_reference(const Tensor& x, const LookupTable& table) {
  detail::check_lookup(x, table);
  const int32_t qmin = dtype_qmin(table.input_dtype);
  std::vector<int32_t> y = detail::widen(x, qmin);  // the table index of each element
  for (int32_t& v : y) v = table.values[static_cast<size_t>(v)];
  return detail::narrow(table_output(table), x.shape(), y);
}

const IntegerKernel& lookup_kernel() {
  static const IntegerKernel k = make_kernel<LookupTable>(
      {"Lookup", 12, "lookup", [](const KernelArgs& a, const LookupTable& p) { return single(lookup(a.in(0), p)); },
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

}  // namespace lq::integer
