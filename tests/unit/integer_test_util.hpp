// Random integer operands for the tests that compare optimized integer kernels with their
// reference loops, bit for bit.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "libquant/quantizer.hpp"
#include "libquant/tensor.hpp"

namespace lq::test {

inline int pick(std::mt19937& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

inline int32_t code_min(DType d) { return d == DType::kInt4 ? -8 : dtype_qmin(d); }
inline int32_t code_max(DType d) { return d == DType::kInt4 ? 7 : dtype_qmax(d); }

// Element i of an integer tensor (int4 stored as int8).
inline void set_code(Tensor& t, int64_t i, int32_t v) {
  switch (t.dtype()) {
    case DType::kInt4:
    case DType::kInt8:
      static_cast<int8_t*>(t.raw())[i] = static_cast<int8_t>(v);
      break;
    case DType::kUInt8:
      static_cast<uint8_t*>(t.raw())[i] = static_cast<uint8_t>(v);
      break;
    case DType::kInt16:
      static_cast<int16_t*>(t.raw())[i] = static_cast<int16_t>(v);
      break;
    case DType::kInt32:
      static_cast<int32_t*>(t.raw())[i] = v;
      break;
    default:
      FAIL("unexpected dtype");
  }
}

// Uniform codes of `dtype` (int32: within ±10^6).
inline Tensor random_codes(std::mt19937& rng, DType dtype, const Shape& shape) {
  Tensor t(dtype, shape);
  const int32_t lo = dtype == DType::kInt32 ? -1000000 : code_min(dtype);
  const int32_t hi = dtype == DType::kInt32 ? 1000000 : code_max(dtype);
  for (int64_t i = 0; i < t.numel(); ++i) set_code(t, i, pick(rng, lo, hi));
  return t;
}

inline bool same_codes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Mostly moderate values; in one list of four some near the int32 limits (as a quantizer
// writes for a channel of tiny weight scale), which make the reference accumulate in int64.
inline std::vector<int32_t> random_bias(std::mt19937& rng, int64_t channels) {
  const bool extremes = pick(rng, 0, 3) == 0;
  std::vector<int32_t> bias;
  for (int64_t c = 0; c < channels; ++c) {
    if (extremes && pick(rng, 0, 2) == 0) {
      const int32_t limits[] = {std::numeric_limits<int32_t>::min(),
                                std::numeric_limits<int32_t>::max(), -2100000000, 2100000000};
      bias.push_back(limits[pick(rng, 0, 3)]);
    } else {
      bias.push_back(pick(rng, -20000, 20000));
    }
  }
  return bias;
}

}  // namespace lq::test
