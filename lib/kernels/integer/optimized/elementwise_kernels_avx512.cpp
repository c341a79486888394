// AVX-512 elementwise rows: 16 codes per step, sign-extended to int32 lanes; every
// rounding multiplication runs in 64-bit lanes (the even and the odd int32 lanes apart),
// exact like lq::requantize. Lookups use VBMI's two-table byte permutes: 64 codes per
// step through the 256-entry table.
#include <immintrin.h>

#include "kernels/integer/optimized/elementwise_kernels.hpp"

// GCC 12's own intrinsics (their _mm512_undefined_* placeholders) trip this warning.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace lq::integer::optimized {

namespace {

__mmask16 first_lanes16(int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
}

__mmask64 first_lanes64(int64_t count) {
  return count >= 64 ? ~__mmask64(0) : (__mmask64(1) << count) - 1;
}

// A LaneMultiplier in 64-bit lanes.
struct Lanes {
  __m512i mantissa, exponent, round, adjust;
};

Lanes broadcast(const LaneMultiplier& m) {
  return {_mm512_set1_epi64(m.mantissa), _mm512_set1_epi64(m.exponent), _mm512_set1_epi64(m.round),
          _mm512_set1_epi64(m.adjust)};
}

struct Clamp {
  __m512i zero_point, min, max;
};

Clamp clamp_of(const OutputCodes& out) {
  return {_mm512_set1_epi64(out.zero_point), _mm512_set1_epi64(out.min),
          _mm512_set1_epi64(out.max)};
}

// round(v × M) for the int32 in the low half of each 64-bit lane (exact: |v|, mantissa <
// 2^31), ties away from zero.
__m512i scale64(__m512i v, const Lanes& m) {
  __m512i p = _mm512_mul_epi32(v, m.mantissa);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(p, _mm512_setzero_si512());
  p = _mm512_add_epi64(p, m.round);
  p = _mm512_mask_sub_epi64(p, negative, p, m.adjust);
  return _mm512_srav_epi64(p, m.exponent);
}

// Even int32 lanes from `even`'s 64-bit lanes, odd ones from `odd`'s (low halves).
__m512i interleave(__m512i even, __m512i odd) {
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// round(v × M) of 16 int32 lanes whose results fit int32.
__m512i scale32(__m512i v, const Lanes& m) {
  return interleave(scale64(v, m), scale64(_mm512_srli_epi64(v, 32), m));
}

// clamp(round(s × M) + zero_point, min, max) of 16 int32 lanes: lq::requantize.
__m512i requantize16(__m512i s, const Lanes& m, const Clamp& c) {
  __m512i even = _mm512_add_epi64(scale64(s, m), c.zero_point);
  __m512i odd = _mm512_add_epi64(scale64(_mm512_srli_epi64(s, 32), m), c.zero_point);
  even = _mm512_min_epi64(_mm512_max_epi64(even, c.min), c.max);
  odd = _mm512_min_epi64(_mm512_max_epi64(odd, c.min), c.max);
  return interleave(even, odd);
}

// Codes within the output dtype's range: truncation stores them.
void store16(__m512i codes, OutputKind kind, void* y, int64_t i, __mmask16 mask) {
  if (kind == OutputKind::kInt16) {
    _mm512_mask_cvtepi32_storeu_epi16(static_cast<int16_t*>(y) + i, mask, codes);
  } else {
    _mm512_mask_cvtepi32_storeu_epi8(static_cast<uint8_t*>(y) + i, mask, codes);
  }
}

// code − z for 16 bytes, in the signed reading.
struct OperandLanes {
  __m128i flip;
  __m512i zero_point;
};

OperandLanes operand_lanes(const ByteOperand& operand) {
  return {_mm_set1_epi8(static_cast<char>(operand.flip)), _mm512_set1_epi32(operand.zero_point)};
}

__m512i load_offsets(const uint8_t* p, __mmask16 mask, const OperandLanes& o) {
  const __m128i bytes = _mm_xor_si128(_mm_maskz_loadu_epi8(mask, p), o.flip);
  return _mm512_sub_epi32(_mm512_cvtepi8_epi32(bytes), o.zero_point);
}

template <bool AVector, bool BVector>
void add_row(const uint8_t* a, const uint8_t* b, int64_t count, const AddRow& p, void* y) {
  const OperandLanes ao = operand_lanes(p.a), bo = operand_lanes(p.b);
  const Lanes al = broadcast(p.a_lane), bl = broadcast(p.b_lane), out = broadcast(p.output_lane);
  const Clamp clamp = clamp_of(p.out);
  const __m128i shift = _mm_cvtsi32_si128(p.left_shift);
  // A step-0 operand's term is the same for the whole row: its table entry.
  const __m512i a_term = _mm512_set1_epi32(p.a_terms[a[0]]);
  const __m512i b_term = _mm512_set1_epi32(p.b_terms[b[0]]);
  for (int64_t i = 0; i < count; i += 16) {
    const __mmask16 mask = first_lanes16(count - i);
    __m512i ta = a_term, tb = b_term;
    if (AVector) ta = scale32(_mm512_sll_epi32(load_offsets(a + i, mask, ao), shift), al);
    if (BVector) {
      __m512i d = load_offsets(b + i, mask, bo);
      if (p.subtract) d = _mm512_sub_epi32(_mm512_setzero_si512(), d);  // round(−x) = −round(x)
      tb = scale32(_mm512_sll_epi32(d, shift), bl);
    }
    store16(requantize16(_mm512_add_epi32(ta, tb), out, clamp), p.out.kind, y, i, mask);
  }
}

void avx512_add_row(const uint8_t* a, int64_t a_step, const uint8_t* b, int64_t b_step,
                    int64_t count, const AddRow& p, void* y) {
  if (a_step != 0 && b_step != 0) {
    add_row<true, true>(a, b, count, p, y);
  } else if (a_step != 0) {
    add_row<true, false>(a, b, count, p, y);
  } else if (b_step != 0) {
    add_row<false, true>(a, b, count, p, y);
  } else {
    add_row<false, false>(a, b, count, p, y);
  }
}

template <bool AVector, bool BVector>
void mul_row(const uint8_t* a, const uint8_t* b, int64_t count, const MulRow& p, void* y) {
  const OperandLanes ao = operand_lanes(p.a), bo = operand_lanes(p.b);
  const Lanes m = broadcast(p.lane);
  const Clamp clamp = clamp_of(p.out);
  const __m512i a_offset =
      _mm512_set1_epi32(int32_t{static_cast<int8_t>(a[0] ^ p.a.flip)} - p.a.zero_point);
  const __m512i b_offset =
      _mm512_set1_epi32(int32_t{static_cast<int8_t>(b[0] ^ p.b.flip)} - p.b.zero_point);
  for (int64_t i = 0; i < count; i += 16) {
    const __mmask16 mask = first_lanes16(count - i);
    const __m512i da = AVector ? load_offsets(a + i, mask, ao) : a_offset;
    const __m512i db = BVector ? load_offsets(b + i, mask, bo) : b_offset;
    store16(requantize16(_mm512_mullo_epi32(da, db), m, clamp), p.out.kind, y, i, mask);
  }
}

void avx512_mul_row(const uint8_t* a, int64_t a_step, const uint8_t* b, int64_t b_step,
                    int64_t count, const MulRow& p, void* y) {
  if (a_step != 0 && b_step != 0) {
    mul_row<true, true>(a, b, count, p, y);
  } else if (a_step != 0) {
    mul_row<true, false>(a, b, count, p, y);
  } else if (b_step != 0) {
    mul_row<false, true>(a, b, count, p, y);
  } else {
    mul_row<false, false>(a, b, count, p, y);
  }
}

// Bit 7 of each index picks the table half, bits 0-6 the entry within it.
__attribute__((target("avx512vbmi"))) void vbmi_lookup_bytes(const uint8_t* x, int64_t count,
                                                             const uint8_t* table, uint8_t* y) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  for (int64_t i = 0; i < count; i += 64) {
    const __mmask64 mask = first_lanes64(count - i);
    const __m512i index = _mm512_maskz_loadu_epi8(mask, x + i);
    const __m512i low = _mm512_permutex2var_epi8(t0, index, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, index, t3);
    _mm512_mask_storeu_epi8(y + i, mask,
                            _mm512_mask_blend_epi8(_mm512_movepi8_mask(index), low, high));
  }
}

void scalar_lookup_bytes(const uint8_t* x, int64_t count, const uint8_t* table, uint8_t* y) {
  for (int64_t i = 0; i < count; ++i) y[i] = table[x[i]];
}

}  // namespace

const ElementwiseKernels& avx512_elementwise_kernels(bool vbmi) {
  static const ElementwiseKernels with_vbmi{"avx512 (vbmi lookups)", avx512_add_row, avx512_mul_row,
                                            vbmi_lookup_bytes};
  static const ElementwiseKernels without_vbmi{"avx512", avx512_add_row, avx512_mul_row,
                                               scalar_lookup_bytes};
  return vbmi ? with_vbmi : without_vbmi;
}

}  // namespace lq::integer::optimized
