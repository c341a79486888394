// Integer requantization (lib/kernels/integer/requantize.hpp) against an independent exact
// reference: 128-bit products and C++ division, rounding half away from zero.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "libquant/status.hpp"
#include "kernels/integer/requantize.hpp"

using namespace lq;

namespace {

__extension__ using Int128 = __int128;

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

// p / 2^e rounded to nearest, ties away from zero, by truncating division and remainder.
Int128 exact_round_div(Int128 p, int e) {
  const Int128 divisor = Int128{1} << e;
  Int128 q = p / divisor;
  const Int128 r = p - q * divisor;
  const Int128 twice_r = r < 0 ? -2 * r : 2 * r;
  if (twice_r >= divisor) q += p < 0 ? -1 : 1;
  return q;
}

bool is_tie(Int128 p, int e) {
  const Int128 divisor = Int128{1} << e;
  const Int128 r = p % divisor;
  return e > 0 && (r < 0 ? -2 * r : 2 * r) == divisor;
}

// clamp(round(acc × mantissa × 2^(shift − 31)) + zero_point).
int32_t reference_requantize(int64_t acc, Multiplier m, int32_t zero_point, int32_t qmin,
                             int32_t qmax) {
  const Int128 scaled = exact_round_div(Int128{acc} * m.mantissa, 31 - m.shift) + zero_point;
  return static_cast<int32_t>(scaled < qmin ? qmin : scaled > qmax ? qmax : scaled);
}

// Multipliers from tiny to large, around 1, powers of two and mantissas with small odd
// parts (which make rounding ties common).
std::vector<Multiplier> test_multipliers() {
  std::vector<Multiplier> out;
  for (double real : {1e-12, 3.3e-10, 7.1e-7, 1.234e-4, 0.0031, 0.0421, 0.3, 0.49999999, 0.7071,
                      0.99999, 1.0, 1.00001, 1.5, 3.7, 1000.3, 1048581.0}) {
    out.push_back(make_multiplier(real));
  }
  for (int shift = -40; shift <= 12; shift += 4) out.push_back({int32_t{1} << 30, shift});
  for (int shift : {-20, -9, -3, 0, 2}) {
    out.push_back({3 << 29, shift});    // 0.75 × 2^shift
    out.push_back({5 << 28, shift});    // 0.625 × 2^shift
    out.push_back({kInt32Max, shift});  // the largest mantissa
  }
  return out;
}

// Accumulators: every int16 value, a dense stride through int32, the extremes, and ties
// of the power-of-two multipliers.
std::vector<int32_t> test_accumulators() {
  std::vector<int32_t> out;
  for (int32_t v = -32768; v <= 32767; ++v) out.push_back(v);
  for (int64_t v = kInt32Min; v <= kInt32Max; v += 32749) out.push_back(static_cast<int32_t>(v));
  for (int32_t v :
       {kInt32Min, kInt32Min + 1, -(1 << 30) - 1, -(1 << 30), 1 << 30, kInt32Max - 1, kInt32Max}) {
    out.push_back(v);
  }
  for (int k = 1; k < 31; ++k) {
    const int32_t half = int32_t{1} << (k - 1);
    for (int32_t odd : {1, 3, -1, -3, 1001, -1001}) {
      const int64_t v = int64_t{odd} * half;
      if (v >= kInt32Min && v <= kInt32Max) out.push_back(static_cast<int32_t>(v));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("make_multiplier: mantissa from 2^30 up to 2^31, TFLite's shift convention", "[requantize]") {
  REQUIRE(make_multiplier(0.0) == Multiplier{0, 0});
  REQUIRE(make_multiplier(1.0) == Multiplier{1 << 30, 1});
  REQUIRE(make_multiplier(0.5) == Multiplier{1 << 30, 0});
  REQUIRE(make_multiplier(0.75) == Multiplier{3 << 29, 0});
  REQUIRE(make_multiplier(3.0) == Multiplier{3 << 29, 2});
  REQUIRE(make_multiplier(std::ldexp(1.0, -63)) == Multiplier{1 << 30, -62});
  // A fraction that rounds up to 1 moves to the next power of two.
  REQUIRE(make_multiplier(1.0 - 1e-12) == Multiplier{1 << 30, 1});
  // Below 2^-63 the product with any int32 accumulator is far below 1/2.
  REQUIRE(make_multiplier(std::ldexp(1.0, -64)) == Multiplier{0, 0});
  REQUIRE(make_multiplier(std::ldexp(1.0, 31) * 0.999) == Multiplier{2145336164, 31});
  REQUIRE(make_multiplier(1.0).is_power_of_two());
  REQUIRE_FALSE(make_multiplier(0.75).is_power_of_two());

  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> log2(-60.0, 30.0);
  for (int i = 0; i < 10000; ++i) {
    const double real = std::exp2(log2(rng));
    const Multiplier m = make_multiplier(real);
    INFO("M = " << real);
    REQUIRE(m.mantissa >= (1 << 30));
    REQUIRE(std::fabs(m.real() - real) <= real * std::ldexp(1.0, -31));
  }
}

TEST_CASE("make_multiplier rejects negative, NaN, infinite and >= 2^31 values", "[requantize]") {
  REQUIRE_THROWS_AS(make_multiplier(-0.5), Error);
  REQUIRE_THROWS_WITH(make_multiplier(std::nan("")),
                      Catch::Contains("not a finite non-negative number"));
  REQUIRE_THROWS_AS(make_multiplier(std::numeric_limits<double>::infinity()), Error);
  REQUIRE_THROWS_WITH(make_multiplier(std::ldexp(1.0, 31)), Catch::Contains(">= 2^31"));
}

TEST_CASE("make_multipliers: one per weight scale, s_in × s_w / s_out", "[requantize]") {
  const auto m = make_multipliers(0.02f, {0.5f, 0.001f}, 0.04f);
  REQUIRE(m.size() == 2);
  REQUIRE(m[0] == make_multiplier(static_cast<double>(0.02f) * 0.5f / 0.04f));
  REQUIRE(m[1] == make_multiplier(static_cast<double>(0.02f) * 0.001f / 0.04f));
}

TEST_CASE("rounding_divide_by_pot rounds half away from zero", "[requantize]") {
  REQUIRE(rounding_divide_by_pot(int32_t{5}, 1) == 3);
  REQUIRE(rounding_divide_by_pot(int32_t{-5}, 1) == -3);
  REQUIRE(rounding_divide_by_pot(int32_t{-1}, 1) == -1);
  REQUIRE(rounding_divide_by_pot(int32_t{1}, 1) == 1);
  REQUIRE(rounding_divide_by_pot(int32_t{-5}, 2) == -1);
  REQUIRE(rounding_divide_by_pot(int32_t{-6}, 2) == -2);
  REQUIRE(rounding_divide_by_pot(int32_t{7}, 0) == 7);
  REQUIRE(rounding_divide_by_pot(kInt32Min, 31) == -1);
  REQUIRE(rounding_divide_by_pot(kInt32Max, 31) == 1);
  REQUIRE(rounding_divide_by_pot(std::numeric_limits<int64_t>::min(), 63) == -1);
  REQUIRE(rounding_divide_by_pot(std::numeric_limits<int64_t>::max(), 63) == 1);

  std::mt19937_64 rng(11);
  for (int e = 0; e <= 63; ++e) {
    for (int i = 0; i < 2000; ++i) {
      const auto x = static_cast<int64_t>(rng()) >> (i % 64);
      INFO("x = " << x << ", exponent " << e);
      REQUIRE(rounding_divide_by_pot(x, e) == static_cast<int64_t>(exact_round_div(x, e)));
    }
    const int64_t tie = e == 0 ? 0 : int64_t{1} << (e - 1);  // ±0.5, ±1.5
    REQUIRE(rounding_divide_by_pot(tie, e) == (e == 0 ? 0 : 1));
    if (e > 0) REQUIRE(rounding_divide_by_pot(-tie, e) == -1);
    if (e > 0 && e < 62) REQUIRE(rounding_divide_by_pot(-3 * tie, e) == -2);
  }
}

TEST_CASE("saturating_rounding_doubling_high_mul is gemmlowp's", "[requantize]") {
  REQUIRE(saturating_rounding_doubling_high_mul(kInt32Min, kInt32Min) == kInt32Max);
  REQUIRE(saturating_rounding_doubling_high_mul(kInt32Min, kInt32Max) == -kInt32Max);
  REQUIRE(saturating_rounding_doubling_high_mul(1, 1 << 30) == 1);    //  0.5 -> 1
  REQUIRE(saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0);   // -0.5 -> 0
  REQUIRE(saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1);  // -1.5 -> -1
  std::mt19937 rng(3);
  for (int i = 0; i < 200000; ++i) {
    const auto a = static_cast<int32_t>(rng()), b = static_cast<int32_t>(rng());
    // round(a b / 2^31) with ties toward +inf = floor((a b + 2^30) / 2^31).
    const Int128 twice = Int128{a} * b + (Int128{1} << 30);
    Int128 q = twice / (Int128{1} << 31);
    if (q * (Int128{1} << 31) > twice) --q;
    INFO(a << " x " << b);
    REQUIRE(saturating_rounding_doubling_high_mul(a, b) == static_cast<int32_t>(q));
  }
}

TEST_CASE("requantize equals the exact single rounding on int16 and int32 accumulators",
          "[requantize]") {
  const std::vector<int32_t> accs = test_accumulators();
  int64_t ties = 0;
  for (const Multiplier m : test_multipliers()) {
    for (const auto& [zp, qmin, qmax] : std::vector<std::tuple<int32_t, int32_t, int32_t>>{
             {0, kInt32Min, kInt32Max}, {-7, -128, 127}, {200, 0, 255}, {-301, -32768, 32767}}) {
      for (int32_t acc : accs) {
        const int32_t expected = reference_requantize(acc, m, zp, qmin, qmax);
        const int32_t got = requantize(acc, m, zp, qmin, qmax);
        if (got != expected) {
          FAIL("acc " << acc << " mantissa " << m.mantissa << " shift " << m.shift << " zp " << zp
                      << ": got " << got << ", expected " << expected);
        }
        // The int64 form agrees on every int32 accumulator.
        if (requantize64(acc, m, zp, qmin, qmax) != got) FAIL("requantize64 differs at " << acc);
        if (zp == 0) ties += is_tie(Int128{acc} * m.mantissa, 31 - m.shift);
      }
    }
  }
  INFO("rounding ties exercised: " << ties);
  REQUIRE(ties > 10000);
}

TEST_CASE("requantize64 equals the exact rounding on int64 accumulators", "[requantize]") {
  std::mt19937_64 rng(5);
  std::vector<int64_t> accs = {std::numeric_limits<int64_t>::min(),
                               std::numeric_limits<int64_t>::max(),
                               int64_t{1} << 62,
                               -(int64_t{1} << 62),
                               int64_t{1} << 40,
                               -(int64_t{3} << 39)};
  for (int i = 0; i < 20000; ++i) accs.push_back(static_cast<int64_t>(rng()) >> (i % 63));
  for (const Multiplier m : test_multipliers()) {
    for (int64_t acc : accs) {
      for (const auto& [zp, qmin, qmax] : std::vector<std::tuple<int32_t, int32_t, int32_t>>{
               {3, -32768, 32767}, {0, kInt32Min, kInt32Max}}) {
        // The reference's sum may exceed int64 near the extremes: clamp it in 128 bits.
        const Int128 scaled = exact_round_div(Int128{acc} * m.mantissa, 31 - m.shift) + zp;
        const int32_t expected = static_cast<int32_t>(scaled < qmin   ? qmin
                                                      : scaled > qmax ? qmax
                                                                      : scaled);
        if (requantize64(acc, m, zp, qmin, qmax) != expected) {
          FAIL("acc " << acc << " mantissa " << m.mantissa << " shift " << m.shift);
        }
      }
    }
  }
  // The unclamped product saturates instead of wrapping.
  REQUIRE(multiply_by_multiplier64(std::numeric_limits<int64_t>::max(), {1 << 30, 31}) ==
          std::numeric_limits<int64_t>::max());
  REQUIRE(multiply_by_multiplier64(std::numeric_limits<int64_t>::min(), {1 << 30, 31}) ==
          std::numeric_limits<int64_t>::min());
}

TEST_CASE("A power-of-two multiplier is a pure rounding shift on both paths", "[requantize]") {
  const std::vector<int32_t> accs = test_accumulators();
  for (int shift = kMultiplierMinShift; shift <= kMultiplierMaxShift; ++shift) {
    const Multiplier m{1 << 30, shift};  // 2^(shift - 1)
    REQUIRE(m.is_power_of_two());
    const int exponent = shift - 1;
    for (int32_t acc : accs) {
      // Independently: a left shift, or acc / 2^k rounded half away from zero.
      const int64_t pure = exponent >= 0 ? int64_t{acc} * (int64_t{1} << exponent)
                                         : static_cast<int64_t>(exact_round_div(acc, -exponent));
      const int32_t expected =
          static_cast<int32_t>(std::clamp<int64_t>(pure + 5, kInt32Min, kInt32Max));
      const int32_t general = requantize(acc, m, 5, kInt32Min, kInt32Max);
      const int32_t fast = requantize_power_of_two(acc, m, 5, kInt32Min, kInt32Max);
      if (general != expected || fast != expected) {
        FAIL("acc " << acc << " shift " << shift << ": general " << general << ", fast " << fast
                    << ", pure shift " << expected);
      }
      if (requantize_power_of_two(acc, m, -3, -128, 127) != requantize(acc, m, -3, -128, 127)) {
        FAIL("int8 clamp differs at acc " << acc << " shift " << shift);
      }
    }
  }
  // Why requantize rounds once: gemmlowp's SRDHM-then-RDBPOT maps 1 × 1/4 to 1.
  const Multiplier quarter = make_multiplier(0.25);
  REQUIRE(rounding_divide_by_pot(saturating_rounding_doubling_high_mul(1, quarter.mantissa),
                                 -quarter.shift) == 1);
  REQUIRE(requantize(1, quarter, 0, -128, 127) == 0);
}

TEST_CASE("requantize errs by at most 0.5 LSB plus the mantissa's 2^-31", "[requantize]") {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> log2(-40.0, 20.0);
  std::vector<int32_t> accs = test_accumulators();
  for (int i = 0; i < 300; ++i) {
    const double real = std::exp2(log2(rng));
    const Multiplier m = make_multiplier(real);
    for (size_t j = 0; j < accs.size(); j += 1 + i % 7) {
      const int32_t acc = accs[j];
      const long double exact = static_cast<long double>(acc) * real;
      if (std::fabs(exact) > 2e9L) continue;  // would saturate
      const int32_t got = requantize(acc, m, 0, kInt32Min, kInt32Max);
      const long double bound = 0.5L + std::fabs(exact) * std::ldexp(1.0L, -31) + 1e-9L;
      if (std::fabs(got - exact) > bound) {
        FAIL("acc " << acc << " M " << real << ": got " << got << ", real " << (double)exact);
      }
    }
  }
}

TEST_CASE("divide_multiplier divides in integers, within one mantissa unit", "[requantize]") {
  REQUIRE_THROWS_AS(divide_multiplier(make_multiplier(0.5), 0), Error);
  REQUIRE(divide_multiplier(Multiplier{}, 9) == Multiplier{});
  const Multiplier m = make_multiplier(0.0123);
  REQUIRE(divide_multiplier(m, 1) == m);
  REQUIRE(divide_multiplier(m, 8) == Multiplier{m.mantissa, m.shift - 3});
  REQUIRE(divide_multiplier({1 << 30, -60}, int64_t{1} << 20) == Multiplier{});  // below 2^-63
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> log2(-30.0, 20.0);
  for (int i = 0; i < 2000; ++i) {
    const Multiplier base = make_multiplier(std::exp2(log2(rng)));
    for (int64_t d : {int64_t{2}, int64_t{3}, int64_t{7}, int64_t{9}, int64_t{49}, int64_t{6400},
                      int64_t{(1 << 30) + 1}, (int64_t{1} << 40) + 3,
                      static_cast<int64_t>(rng() % (uint64_t{1} << 33)) + 1}) {
      const Multiplier got = divide_multiplier(base, d);
      const Multiplier direct = make_multiplier(base.real() / static_cast<double>(d));
      INFO("mantissa " << base.mantissa << " shift " << base.shift << " / " << d);
      if (direct.mantissa == 0) {  // below 2^-63
        REQUIRE(got == Multiplier{});
        continue;
      }
      REQUIRE(got.mantissa >= (1 << 30));
      REQUIRE(std::fabs(got.real() - direct.real()) <= direct.real() * std::ldexp(1.0, -30));
    }
  }
}
