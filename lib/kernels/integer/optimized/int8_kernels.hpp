// The primitives behind the optimized 8-bit linear kernels (Conv, MatMul, Gemm), one set
// per instruction set, picked once per process from the CPU.
//
// A product sum((u − zu)(v − zv)) over K terms is computed as the dot product of a u8
// operand U (data laid out along vector lanes) and an s8 operand V (broadcast), then
// corrected with the operands' sums:
//
//   sum (u − zu)(v − zv) = sum u v − zv sum u − zu sum v + K zu zv
//
// in wrapping int32 arithmetic, which is exact whenever the true sum fits int32 (the
// kernels run only when detail::linear_needs_int64 is false). Signed data becomes u8 by
// adding 128 (an XOR of the sign bit), uint8 weights become s8 by subtracting 128; the
// zero points move with them. Each sum is then requantized exactly as
// lq::requantize does (one rounding, ties away from zero).
//
// Plain pointers only: the AVX-512 file touches no std:: template, whose instantiations
// the linker could share with baseline code.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/integer/requantize.hpp"

namespace lq::integer::optimized {

// A Multiplier in the form a vector of 64-bit lanes evaluates:
//   round(acc × M̂) = (acc × mantissa + round − (product < 0 ? adjust : 0)) >> exponent
// (arithmetic shift), with exponent in [0, 62]; a multiplier whose exponent 31 − shift
// exceeds 62 maps every int32 to 0 and is stored as mantissa 0.
struct LaneMultiplier {
  int64_t mantissa = 0;
  int64_t exponent = 0;
  int64_t round = 0;   // 2^(exponent − 1), or 0 for exponent 0
  int64_t adjust = 0;  // 1, or 0 for exponent 0: ties of negative products round down
};
LaneMultiplier lane_multiplier(Multiplier m);

// Per-column multipliers as arrays (one entry per column), for vector loads.
struct ColumnMultipliers {
  const Multiplier* plain = nullptr;
  const int64_t* mantissa = nullptr;
  const int64_t* exponent = nullptr;
  const int64_t* round = nullptr;
  const int64_t* adjust = nullptr;
};

// Owns the arrays a ColumnMultipliers points into.
struct ColumnMultiplierTable {
  std::vector<Multiplier> plain;
  std::vector<int64_t> mantissa, exponent, round, adjust;

  explicit ColumnMultiplierTable(const std::vector<Multiplier>& multipliers);
  ColumnMultipliers at(int64_t column) const;
};

enum class OutputKind : int32_t { kInt8, kUInt8, kInt16 };

struct OutputCodes {
  OutputKind kind = OutputKind::kInt8;
  int32_t zero_point = 0;
  int32_t min = -128;
  int32_t max = 127;
};

// The terms of one output row's epilogue.
struct RowTerms {
  int32_t constant = 0;
  int32_t factor = 0;
  Multiplier multiplier;  // when the columns carry none
  LaneMultiplier lane;    // lane_multiplier(multiplier)
};

// Per-column terms, indexed like the row's sums; null pointers are absent terms.
struct ColumnTerms {
  const int32_t* constant = nullptr;
  const int32_t* factor = nullptr;  // multiplies RowTerms::factor
  ColumnMultipliers multipliers;    // plain == nullptr: the row's multiplier
};

// out[c] = clamp(round(S × M) + zero_point, min, max) for c < count, with
//   S = d[c] + row.constant + cols.constant[c] + row.factor × cols.factor[c]
// in wrapping int32 arithmetic and M the column's multiplier, or the row's.
using RequantizeRowFn = void (*)(const int32_t* d, int64_t count, const RowTerms& row,
                                 const ColumnTerms& cols, const OutputCodes& out, void* dst);

// requantize_row for sums that need int64 once a bias is added (a bias near the int32
// limits): S = d[c] + the terms above (exact in int32) + bias[c × bias_stride], requantized
// by requantize64. Plain C++: such rows are rare.
void requantize_row_wide(const int32_t* d, int64_t count, const RowTerms& row,
                         const ColumnTerms& cols, const int64_t* bias, int64_t bias_stride,
                         const OutputCodes& out, void* dst);

struct Int8Kernels {
  const char* name;
  int mr;  // rows of V per tile
  int nr;  // columns of U per tile

  // d[i * nr + j] = sum_{q < k4} sum_{t < 4} u[q * u_stride + 4 j + t] × v[(q * mr + i) * 4 + t]
  // for i < mr, j < nr: u is unsigned, v a packed panel of signed bytes.
  void (*dot_tile)(int64_t k4, const uint8_t* u, int64_t u_stride, const int8_t* v, int32_t* d);
  // dst[4 j + t] = rows[t][j] ^ flip for j < count, t < 4.
  void (*interleave4)(const uint8_t* const* rows, int64_t count, uint8_t flip, uint8_t* dst);
  // sums[j] = sum_{q < k4} sum_{t < 4} u[q * u_stride + 4 j + t] for j < count.
  void (*column_sums)(int64_t k4, const uint8_t* u, int64_t u_stride, int64_t count, int32_t* sums);
  RequantizeRowFn requantize_row;
  // acc[j] = init + sum_{t < taps} weights[t] × row[offsets[t] + j] for j < count (wrapping).
  void (*depthwise_row)(const uint8_t* row, const int64_t* offsets, const int32_t* weights,
                        int64_t taps, int64_t count, int32_t init, int32_t* acc);
};

// Plain C++ (any CPU).
const Int8Kernels& portable_int8_kernels();
// AVX-512 F/BW/VL with VNNI (vpdpbusd); call only when the CPU has them.
const Int8Kernels& avx512_int8_kernels();

// Every kernel set this CPU runs, portable first (for tests that compare them).
std::vector<const Int8Kernels*> available_int8_kernels();
// The fastest kernel set this CPU runs.
const Int8Kernels& best_int8_kernels();

}  // namespace lq::integer::optimized
