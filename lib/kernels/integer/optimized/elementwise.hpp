// Optimized integer Add, Sub, Mul, table lookups and rescales for 8-bit operands (any
// output dtype for Add and Mul, 8-bit outputs for lookups): the broadcast is walked as rows of the
// primitives in elementwise_kernels.hpp, no operand is widened into a vector of int32.
// They return the codes of the reference loops (integer::add_reference, mul_reference,
// lookup_reference) bit for bit, and nothing for the cases they do not cover (int16
// operands or outputs, Add terms whose sum can leave int32), which the public kernels
// hand to other loops.
#pragma once

#include <optional>

#include "kernels/integer/common.hpp"
#include "kernels/integer/optimized/elementwise_kernels.hpp"

namespace lq::integer::optimized {

// On operands checked by detail::check_add / check_mul, with their broadcast shape.
std::optional<Tensor> add(const Tensor& a, const Tensor& b, const AddParams& params,
                          const Shape& out_shape,
                          const ElementwiseKernels& kernels = best_elementwise_kernels());
std::optional<Tensor> mul(const Tensor& a, const Tensor& b, const MulParams& params,
                          const Shape& out_shape,
                          const ElementwiseKernels& kernels = best_elementwise_kernels());
// On an input and table checked by detail::check_lookup (tests call it with valid ones).
std::optional<Tensor> lookup(const Tensor& x, const LookupTable& table,
                             const ElementwiseKernels& kernels = best_elementwise_kernels());

// Rescales runs of codes of one dtype to an output (integer::rescale, each Concat input):
// a copy when the rescale is the identity, a byte table through lookup_bytes from 8-bit
// to 8-bit codes, else a typed loop of lq::requantize.
class Rescaler {
 public:
  Rescaler(DType input, const Rescale& rescale, const OutputSpec& output,
           const ElementwiseKernels& kernels = best_elementwise_kernels());
  // y[i] = requantize(x[i] − zero point) for i < count; x of the input dtype, y of the output's.
  void run(const void* x, int64_t count, void* y) const;

 private:
  DType input_;
  Rescale rescale_;
  OutputSpec output_;
  const ElementwiseKernels& kernels_;
  bool identity_ = false;
  std::vector<uint8_t> bytes_;  // 8-bit to 8-bit: the output byte of each input byte
};

// The public kernels' signatures with a chosen kernel set, for tests: they check the
// operands as integer::add / mul do.
std::optional<Tensor> add(const Tensor& a, const Tensor& b, const AddParams& params,
                          const ElementwiseKernels& kernels);
std::optional<Tensor> mul(const Tensor& a, const Tensor& b, const MulParams& params,
                          const ElementwiseKernels& kernels);

}  // namespace lq::integer::optimized
