// The portable elementwise row primitives (plain loops: Add through the two 256-entry term
// tables) and the choice of kernel set.
#include "kernels/integer/optimized/elementwise_kernels.hpp"
#include "kernels/simd.hpp"

#include <type_traits>

namespace lq::integer::optimized {

namespace {

// Calls store(typed y) with y cast to the output's element type.
template <typename Store>
void with_output(const OutputCodes& out, void* y, Store store) {
  switch (out.kind) {
    case OutputKind::kInt8:
      return store(static_cast<int8_t*>(y));
    case OutputKind::kUInt8:
      return store(static_cast<uint8_t*>(y));
    case OutputKind::kInt16:
      return store(static_cast<int16_t*>(y));
  }
}

int32_t offset_of(uint8_t byte, const ByteOperand& operand) {
  return int32_t{static_cast<int8_t>(byte ^ operand.flip)} - operand.zero_point;
}

void portable_add_row(const uint8_t* a, int64_t a_step, const uint8_t* b, int64_t b_step,
                      int64_t count, const AddRow& p, void* y) {
  with_output(p.out, y, [&](auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    for (int64_t i = 0; i < count; ++i) {
      const int32_t sum = p.a_terms[a[i * a_step]] + p.b_terms[b[i * b_step]];
      out[i] = static_cast<T>(
          requantize(sum, p.output_multiplier, p.out.zero_point, p.out.min, p.out.max));
    }
  });
}

void portable_mul_row(const uint8_t* a, int64_t a_step, const uint8_t* b, int64_t b_step,
                      int64_t count, const MulRow& p, void* y) {
  with_output(p.out, y, [&](auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    for (int64_t i = 0; i < count; ++i) {
      const int32_t product = offset_of(a[i * a_step], p.a) * offset_of(b[i * b_step], p.b);
      out[i] =
          static_cast<T>(requantize(product, p.multiplier, p.out.zero_point, p.out.min, p.out.max));
    }
  });
}

void portable_lookup_bytes(const uint8_t* x, int64_t count, const uint8_t* table, uint8_t* y) {
  for (int64_t i = 0; i < count; ++i) y[i] = table[x[i]];
}

const ElementwiseKernels kPortable{"portable", portable_add_row, portable_mul_row,
                                   portable_lookup_bytes};

bool has_avx512() {
  __builtin_cpu_init();
  // The AVX-512 files are compiled with VNNI enabled too: require what they may use.
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}

bool has_avx512_vbmi() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vbmi");
}

}  // namespace

const ElementwiseKernels& portable_elementwise_kernels() { return kPortable; }

std::vector<const ElementwiseKernels*> available_elementwise_kernels() {
  std::vector<const ElementwiseKernels*> kernels{&kPortable};
  if (has_avx512()) kernels.push_back(&avx512_elementwise_kernels(has_avx512_vbmi()));
  return kernels;
}

const ElementwiseKernels& best_elementwise_kernels() {
  static const std::vector<const ElementwiseKernels*> all = available_elementwise_kernels();
  return kernels::simd_limit() >= kernels::SimdLevel::kAvx512 ? *all.back() : *all.front();
}

}  // namespace lq::integer::optimized
