// Integer requantization: the one definition of how an integer accumulator at scale
// s_in × s_w becomes a value at the output scale (DESIGN.md, "Numerics conventions").
//
// A real multiplier M = s_in × s_w / s_out is an int32 mantissa in [2^30, 2^31) and a
// signed power of two: M̂ = mantissa × 2^(shift − 31), TFLite's convention (shift > 0
// multiplies by 2^shift, shift < 0 divides). Requantization computes the exact product
// acc × mantissa (64 or 128 bits) and rounds it ONCE, to nearest with ties away from zero
// (RoundingDivideByPOT by 31 − shift), then adds the zero point and saturates:
//
//   requantize(acc) = clamp(RDBPOT(acc × mantissa, 31 − shift) + zero_point, qmin, qmax)
//
// Rounding once (as TOSA's RESCALE and TFLite's TFLITE_SINGLE_ROUNDING do) instead of
// gemmlowp's two roundings (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT) is
// what makes a power-of-two M a pure rounding shift and bounds the error by
// 0.5 LSB + |acc × M| × 2^−31: gemmlowp's path maps acc = 1, M = 1/4 to 1, and errs by up
// to 0.75 LSB. saturating_rounding_doubling_high_mul is gemmlowp's primitive, kept for
// kernels that must reproduce TFLite's double rounding bit for bit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace lq {

struct Multiplier {
  int32_t mantissa = 0;  // in [2^30, 2^31), or 0 for M == 0
  int shift = 0;         // in [-62, 31]: M̂ = mantissa × 2^(shift − 31)

  // M̂ is exactly 2^(shift − 1): requantize_power_of_two gives the same results faster.
  bool is_power_of_two() const { return mantissa == (int32_t{1} << 30); }
  double real() const;  // M̂ as a double (exact)

  // The fields, by their .lqm names (kernels/integer/registry.hpp).
  template <class V>
  void fields(V& v) {
    v("mantissa", mantissa);
    v("shift", shift);
  }
};

inline bool operator==(const Multiplier& a, const Multiplier& b) {
  return a.mantissa == b.mantissa && a.shift == b.shift;
}
inline bool operator!=(const Multiplier& a, const Multiplier& b) { return !(a == b); }

constexpr int kMultiplierMaxShift = 31;
constexpr int kMultiplierMinShift = -62;

// The nearest Multiplier to `real` (mantissa rounded to 31 bits, half away from zero).
// 0 and values below 2^−63 give the zero multiplier: |acc × M| < 2^−32 for any int32
// accumulator. Throws lq::Error for negative, NaN or infinite values and for M >= 2^31
// (scales that inconsistent are a bug upstream).
Multiplier make_multiplier(double real);

// Per output channel c: s_in × s_w[c] / s_out, computed in double from the float scales
// (their product is exact in double, so the result does not depend on the order).
std::vector<Multiplier> make_multipliers(float input_scale, const std::vector<float>& weight_scales,
                                         float output_scale);

// M̂ / divisor in integer arithmetic only (divisor >= 1): the mantissa of M̂ × 2^t is divided
// by `divisor` with rounding half up, so the result's mantissa is within 1 of
// make_multiplier(M̂ / divisor). Used where a divisor is only known at run time (pooling
// counts, softmax sums). Throws lq::Error for a divisor < 1.
Multiplier divide_multiplier(Multiplier m, int64_t divisor);

// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp's RoundingDivideByPOT),
// for exponent in [0, 63].
inline int64_t rounding_divide_by_pot(int64_t x, int exponent) {
  if (exponent == 0) return x;
  const auto mask = static_cast<int64_t>((uint64_t{1} << exponent) - 1);
  const int64_t remainder = x & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// The int32 form, exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  return static_cast<int32_t>(rounding_divide_by_pot(int64_t{x}, exponent));
}

// gemmlowp's SaturatingRoundingDoublingHighMul: round(a × b / 2^31), ties toward +inf;
// INT32_MIN × INT32_MIN (the one overflow) saturates to INT32_MAX.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == a) {
    return std::numeric_limits<int32_t>::max();
  }
  const int64_t product = int64_t{a} * b;
  const int64_t nudge = product >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  return static_cast<int32_t>((product + nudge) / (int64_t{1} << 31));
}

// round(x × M̂), ties away from zero, exact: |x × mantissa| < 2^62 fits int64, and a
// total shift beyond 62 leaves |x × M̂| < 1/2.
inline int64_t multiply_by_multiplier(int32_t x, Multiplier m) {
  const int64_t product = int64_t{x} * m.mantissa;
  const int exponent = 31 - m.shift;
  return exponent > 62 ? 0 : rounding_divide_by_pot(product, exponent);
}

// The same for an int64 x, exact through a 128-bit product; saturates to the int64 range.
int64_t multiply_by_multiplier64(int64_t x, Multiplier m);

// min(max(v, qmin), qmax): a fused Clip with min > max yields qmax, as ONNX Clip does.
inline int32_t clamp_to(int64_t v, int32_t qmin, int32_t qmax) {
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, qmin), qmax));
}

// clamp(round(acc × M̂) + zero_point, qmin, qmax): the requantization of an int32 accumulator.
inline int32_t requantize(int32_t acc, Multiplier m, int32_t zero_point, int32_t qmin,
                          int32_t qmax) {
  return clamp_to(multiply_by_multiplier(acc, m) + zero_point, qmin, qmax);
}

// The same for an int64 accumulator (int16 × int16 products, long sums); equal to
// requantize for every accumulator that fits int32.
inline int32_t requantize64(int64_t acc, Multiplier m, int32_t zero_point, int32_t qmin,
                            int32_t qmax) {
  const int64_t scaled = multiply_by_multiplier64(acc, m);
  // Saturation at the int64 bounds keeps `scaled + zero_point` from overflowing.
  const int64_t limit = int64_t{1} << 62;
  return clamp_to(std::clamp(scaled, -limit, limit) + zero_point, qmin, qmax);
}

// requantize for a power-of-two multiplier (m.is_power_of_two()): a left shift or one
// rounding right shift, bit-identical to requantize.
inline int32_t requantize_power_of_two(int32_t acc, Multiplier m, int32_t zero_point, int32_t qmin,
                                       int32_t qmax) {
  const int exponent = m.shift - 1;  // M̂ = 2^exponent, exponent in [-63, 30]
  const int64_t scaled = exponent >= 0 ? int64_t{acc} * (int64_t{1} << exponent)
                                       : rounding_divide_by_pot(int64_t{acc}, -exponent);
  return clamp_to(scaled + zero_point, qmin, qmax);
}

}  // namespace lq
