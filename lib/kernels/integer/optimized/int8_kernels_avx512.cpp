// AVX-512 VNNI primitives: vpdpbusd multiplies 64 u8 × s8 pairs and adds each four into
// an int32 lane, so an 8 x 32 tile of dot products takes 16 instructions per 4 terms.
// Requantization runs in 64-bit lanes (exact products, one rounding shift).
#include <immintrin.h>

#include "kernels/integer/optimized/int8_kernels.hpp"

// GCC 12's own intrinsics (their _mm512_undefined_* placeholders) trip this warning.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace lq::integer::optimized {

namespace {

constexpr int kRows = 8;
constexpr int kVectors = 2;  // 32 columns

__mmask16 first_lanes16(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

int32_t load_int32(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

template <int MR, int NV>
void dot_tile(int64_t k4, const uint8_t* u, int64_t u_stride, const int8_t* v, int32_t* d) {
  __m512i acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_setzero_si512();
  }
  for (int64_t q = 0; q < k4; ++q, u += u_stride, v += 4 * MR) {
    __m512i uv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) uv[j] = _mm512_loadu_si512(u + 64 * j);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512i w = _mm512_set1_epi32(load_int32(v + 4 * i));
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], uv[j], w);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) _mm512_storeu_si512(d + (i * NV + j) * 16, acc[i][j]);
  }
}

void avx512_dot_tile(int64_t k4, const uint8_t* u, int64_t u_stride, const int8_t* v, int32_t* d) {
  dot_tile<kRows, kVectors>(k4, u, u_stride, v, d);
}

void avx512_interleave4(const uint8_t* const* rows, int64_t count, uint8_t flip, uint8_t* dst) {
  const __m128i flips = _mm_set1_epi8(static_cast<char>(flip));
  int64_t j = 0;
  for (; j + 16 <= count; j += 16, dst += 64) {
    __m128i r[4];
    for (int t = 0; t < 4; ++t) {
      r[t] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[t] + j)), flips);
    }
    const __m128i a_lo = _mm_unpacklo_epi8(r[0], r[1]), a_hi = _mm_unpackhi_epi8(r[0], r[1]);
    const __m128i b_lo = _mm_unpacklo_epi8(r[2], r[3]), b_hi = _mm_unpackhi_epi8(r[2], r[3]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(a_lo, b_lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(a_lo, b_lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(a_hi, b_hi));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(a_hi, b_hi));
  }
  for (; j < count; ++j, dst += 4) {
    for (int t = 0; t < 4; ++t) dst[t] = rows[t][j] ^ flip;
  }
}

void avx512_column_sums(int64_t k4, const uint8_t* u, int64_t u_stride, int64_t count,
                        int32_t* sums) {
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t j = 0; j < count; j += 16) {
    const __mmask16 mask = first_lanes16(count - j);
    __m512i acc = _mm512_setzero_si512();
    for (int64_t q = 0; q < k4; ++q) {
      acc =
          _mm512_dpbusd_epi32(acc, _mm512_maskz_loadu_epi32(mask, u + q * u_stride + 4 * j), ones);
    }
    _mm512_mask_storeu_epi32(sums + j, mask, acc);
  }
}

// The requantization of eight int64 lanes (see LaneMultiplier).
struct LaneVectors {
  __m512i mantissa, exponent, round, adjust;
};

LaneVectors broadcast(const LaneMultiplier& m) {
  return {_mm512_set1_epi64(m.mantissa), _mm512_set1_epi64(m.exponent), _mm512_set1_epi64(m.round),
          _mm512_set1_epi64(m.adjust)};
}

LaneVectors load(const ColumnMultipliers& m, int64_t c, __mmask8 mask) {
  return {_mm512_maskz_loadu_epi64(mask, m.mantissa + c),
          _mm512_maskz_loadu_epi64(mask, m.exponent + c),
          _mm512_maskz_loadu_epi64(mask, m.round + c),
          _mm512_maskz_loadu_epi64(mask, m.adjust + c)};
}

struct Clamp {
  __m512i zero_point, min, max;
};

__m512i requantize8(__m512i acc, const LaneVectors& m, const Clamp& clamp) {
  __m512i p = _mm512_mul_epi32(acc, m.mantissa);  // exact: |acc|, mantissa < 2^31
  const __mmask8 negative = _mm512_cmplt_epi64_mask(p, _mm512_setzero_si512());
  p = _mm512_add_epi64(p, m.round);
  p = _mm512_mask_sub_epi64(p, negative, p, m.adjust);
  p = _mm512_srav_epi64(p, m.exponent);
  p = _mm512_add_epi64(p, clamp.zero_point);
  return _mm512_min_epi64(_mm512_max_epi64(p, clamp.min), clamp.max);
}

template <bool ColumnMultiplier>
void requantize_row(const int32_t* d, int64_t count, const RowTerms& row, const ColumnTerms& cols,
                    const OutputCodes& out, void* dst) {
  const __m512i row_constant = _mm512_set1_epi32(row.constant);
  const __m512i row_factor = _mm512_set1_epi32(row.factor);
  const LaneVectors row_lane = broadcast(row.lane);
  const Clamp clamp{_mm512_set1_epi64(out.zero_point), _mm512_set1_epi64(out.min),
                    _mm512_set1_epi64(out.max)};
  for (int64_t c = 0; c < count; c += 16) {
    const __mmask16 mask = first_lanes16(count - c);
    __m512i s = _mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, d + c), row_constant);
    if (cols.constant) s = _mm512_add_epi32(s, _mm512_maskz_loadu_epi32(mask, cols.constant + c));
    if (cols.factor) {
      s = _mm512_add_epi32(
          s, _mm512_mullo_epi32(row_factor, _mm512_maskz_loadu_epi32(mask, cols.factor + c)));
    }
    const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(s));
    const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(s, 1));
    __m512i lo_codes, hi_codes;
    if (ColumnMultiplier) {
      lo_codes = requantize8(lo, load(cols.multipliers, c, static_cast<__mmask8>(mask)), clamp);
      hi_codes =
          requantize8(hi, load(cols.multipliers, c + 8, static_cast<__mmask8>(mask >> 8)), clamp);
    } else {
      lo_codes = requantize8(lo, row_lane, clamp);
      hi_codes = requantize8(hi, row_lane, clamp);
    }
    const __m512i codes =
        _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(lo_codes)),
                           _mm512_cvtepi64_epi32(hi_codes), 1);
    switch (out.kind) {
      case OutputKind::kInt8:
      case OutputKind::kUInt8:  // codes lie in the dtype's range: truncation stores them
        _mm512_mask_cvtepi32_storeu_epi8(static_cast<uint8_t*>(dst) + c, mask, codes);
        break;
      case OutputKind::kInt16:
        _mm512_mask_cvtepi32_storeu_epi16(static_cast<int16_t*>(dst) + c, mask, codes);
        break;
    }
  }
}

void avx512_requantize_row(const int32_t* d, int64_t count, const RowTerms& row,
                           const ColumnTerms& cols, const OutputCodes& out, void* dst) {
  if (cols.multipliers.plain) {
    requantize_row<true>(d, count, row, cols, out, dst);
  } else {
    requantize_row<false>(d, count, row, cols, out, dst);
  }
}

// Up to four vectors (64 outputs) per pass over the taps.
void avx512_depthwise_row(const uint8_t* row, const int64_t* offsets, const int32_t* weights,
                          int64_t taps, int64_t count, int32_t init, int32_t* acc) {
  constexpr int kBlock = 4;
  for (int64_t j = 0; j < count; j += 16 * kBlock) {
    __mmask16 masks[kBlock];
    __m512i sums[kBlock];
#pragma GCC unroll 4
    for (int v = 0; v < kBlock; ++v) {
      const int64_t left = count - j - 16 * v;
      masks[v] = left > 0 ? first_lanes16(left) : __mmask16(0);
      sums[v] = _mm512_set1_epi32(init);
    }
    for (int64_t t = 0; t < taps; ++t) {
      const uint8_t* src = row + offsets[t] + j;
      const __m512i w = _mm512_set1_epi32(weights[t]);
#pragma GCC unroll 4
      for (int v = 0; v < kBlock; ++v) {
        const __m512i x = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(masks[v], src + 16 * v));
        sums[v] = _mm512_add_epi32(sums[v], _mm512_mullo_epi32(x, w));
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < kBlock; ++v) _mm512_mask_storeu_epi32(acc + j + 16 * v, masks[v], sums[v]);
  }
}

}  // namespace

const Int8Kernels& avx512_int8_kernels() {
  static const Int8Kernels kernels{"avx512-vnni 8x32",    kRows,
                                   16 * kVectors,         avx512_dot_tile,
                                   avx512_interleave4,    avx512_column_sums,
                                   avx512_requantize_row, avx512_depthwise_row};
  return kernels;
}

}  // namespace lq::integer::optimized
