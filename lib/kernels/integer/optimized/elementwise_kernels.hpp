// The row primitives behind the optimized 8-bit Add, Sub, Mul and table lookups
// (elementwise.hpp), one set per instruction set, picked once per process from the CPU.
//
// A row is `count` outputs whose operands either advance by one element (step 1) or stay
// on one element (step 0). An 8-bit operand is read as signed: s = int8(byte ^ flip) with
// flip 0x80 for uint8 (so s = code − 128) and its zero point moved by the same −128; then
// s − z' equals code − z.
//
// Add: each operand's term round(((code − z) << left_shift) × M) is exact in 64-bit lanes
// (|code − z| << left_shift < 2^31, mantissa < 2^31), and the driver runs the rows only
// when the two terms' sum fits int32 (checked on the 256 codes), where the reference's
// requantize64 equals requantize. Mul: (a − za)(b − zb) of 8-bit codes fits int32
// (|p| <= 65025), requantized as the reference's int32 product. Both round once, ties
// away from zero (lq::requantize), and store codes already within the output's range.
//
// Plain pointers only: the AVX-512 file touches no std:: template (see int8_kernels.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/integer/optimized/int8_kernels.hpp"

namespace lq::integer::optimized {

// One 8-bit operand of a row.
struct ByteOperand {
  uint8_t flip = 0;        // 0x80 for uint8
  int32_t zero_point = 0;  // in the signed reading
};

// The constant parameters of an Add row (8-bit operands, any output dtype).
struct AddRow {
  ByteOperand a, b;
  int left_shift = 20;
  bool subtract = false;  // the b term enters negated
  Multiplier output_multiplier;
  LaneMultiplier a_lane, b_lane, output_lane;  // lane_multiplier of a's, b's, the output's
  const int32_t* a_terms = nullptr;            // 256 entries indexed by the raw byte: a's term
  const int32_t* b_terms = nullptr;            // the same for b, negated for subtract
  OutputCodes out;
};

// The constant parameters of a Mul row.
struct MulRow {
  ByteOperand a, b;
  Multiplier multiplier;
  LaneMultiplier lane;  // lane_multiplier(multiplier)
  OutputCodes out;
};

// y[i] for i < count from a[i × a_step] and b[i × b_step], steps 0 or 1, not both 0
// unless count is 1.
using AddRowFn = void (*)(const uint8_t* a, int64_t a_step, const uint8_t* b, int64_t b_step,
                          int64_t count, const AddRow& p, void* y);
using MulRowFn = void (*)(const uint8_t* a, int64_t a_step, const uint8_t* b, int64_t b_step,
                          int64_t count, const MulRow& p, void* y);

struct ElementwiseKernels {
  const char* name;
  AddRowFn add_row;
  MulRowFn mul_row;
  // y[i] = table[x[i]] for i < count: a 256-entry byte table indexed by the raw byte.
  void (*lookup_bytes)(const uint8_t* x, int64_t count, const uint8_t* table, uint8_t* y);
};

// Plain C++ (any CPU).
const ElementwiseKernels& portable_elementwise_kernels();
// AVX-512 F/BW/VL/DQ (and VNNI, which the AVX-512 files are compiled with); lookup_bytes
// also needs VBMI, else it is a plain loop. Call only when the CPU has them.
const ElementwiseKernels& avx512_elementwise_kernels(bool vbmi);
// Every kernel set this CPU runs, portable first (for tests that compare them).
std::vector<const ElementwiseKernels*> available_elementwise_kernels();
// The fastest kernel set this CPU runs.
const ElementwiseKernels& best_elementwise_kernels();

}  // namespace lq::integer::optimized
