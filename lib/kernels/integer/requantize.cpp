#include "kernels/integer/requantize.hpp"

#include <fmt/format.h>

#include <cmath>

#include "libquant/status.hpp"

namespace lq {

namespace {

__extension__ using Int128 = __int128;

// x / 2^exponent, ties away from zero, for exponent in [0, 126].
Int128 rounding_divide_by_pot128(Int128 x, int exponent) {
  if (exponent == 0) return x;
  const Int128 mask = (Int128{1} << exponent) - 1;
  const Int128 remainder = x & mask;
  const Int128 threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// Bit length of a positive value: 2^(b-1) <= v < 2^b.
int bit_length(uint64_t v) {
  int bits = 0;
  for (; v != 0; v >>= 1) ++bits;
  return bits;
}

}  // namespace

double Multiplier::real() const { return std::ldexp(static_cast<double>(mantissa), shift - 31); }

Multiplier make_multiplier(double real) {
  if (!std::isfinite(real) || real < 0) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("requantization multiplier {} is not a finite non-negative number "
                            "(check the scales it was computed from)",
                            real));
  }
  if (real == 0) return {};
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);  // real = fraction × 2^exponent
  int64_t mantissa = std::llround(std::ldexp(fraction, 31));
  if (mantissa == (int64_t{1} << 31)) {  // fraction rounded up to 1
    mantissa >>= 1;
    ++exponent;
  }
  if (exponent > kMultiplierMaxShift) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("requantization multiplier {} is >= 2^31: the input, weight and "
                            "output scales are inconsistent",
                            real));
  }
  if (exponent < kMultiplierMinShift) return {};
  return {static_cast<int32_t>(mantissa), exponent};
}

std::vector<Multiplier> make_multipliers(float input_scale, const std::vector<float>& weight_scales,
                                         float output_scale) {
  std::vector<Multiplier> out;
  out.reserve(weight_scales.size());
  for (float w : weight_scales) {
    out.push_back(make_multiplier(static_cast<double>(input_scale) * w / output_scale));
  }
  return out;
}

Multiplier divide_multiplier(Multiplier m, int64_t divisor) {
  if (divisor < 1) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("cannot divide a requantization multiplier by {}", divisor));
  }
  if (m.mantissa == 0) return {};
  // mantissa × 2^t / divisor lies in (2^(30+t-b), 2^(32+t-b)) for divisor in [2^(b-1), 2^b):
  // t = b puts it in (2^30, 2^32), and one halving more if it reached 2^31.
  const int b = bit_length(static_cast<uint64_t>(divisor));
  auto divided = [&](int t) {
    const Int128 numerator = Int128{m.mantissa} << t;
    return static_cast<int64_t>((numerator + divisor / 2) / divisor);
  };
  int t = b;
  int64_t mantissa = divided(t);
  if (mantissa >= (int64_t{1} << 31)) mantissa = divided(--t);
  if (mantissa == (int64_t{1} << 31)) {  // rounded up to the next power of two
    mantissa >>= 1;
    --t;
  }
  const int shift = m.shift - t;
  if (shift < kMultiplierMinShift) return {};
  return {static_cast<int32_t>(mantissa), shift};
}

int64_t multiply_by_multiplier64(int64_t x, Multiplier m) {
  const Int128 product = Int128{x} * m.mantissa;  // |product| < 2^94
  const int exponent = 31 - m.shift;              // in [0, 93]
  const Int128 rounded = rounding_divide_by_pot128(product, exponent);
  const Int128 lo = std::numeric_limits<int64_t>::min();
  const Int128 hi = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(rounded < lo ? lo : rounded > hi ? hi : rounded);
}

}  // namespace lq
