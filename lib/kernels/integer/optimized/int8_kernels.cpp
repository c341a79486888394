// The portable 8-bit primitives (plain loops, the same layouts as the vector ones) and the
// choice of kernel set.
#include "kernels/integer/optimized/int8_kernels.hpp"
#include "kernels/simd.hpp"

#include <type_traits>

namespace lq::integer::optimized {

namespace {

constexpr int kPortableRows = 4;
constexpr int kPortableColumns = 16;

// Wrapping int32 arithmetic, as the vector kernels do it.
int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

void portable_dot_tile(int64_t k4, const uint8_t* u, int64_t u_stride, const int8_t* v,
                       int32_t* d) {
  for (int i = 0; i < kPortableRows; ++i) {
    for (int j = 0; j < kPortableColumns; ++j) {
      int32_t acc = 0;
      for (int64_t q = 0; q < k4; ++q) {
        const uint8_t* uq = u + q * u_stride + 4 * j;
        const int8_t* vq = v + (q * kPortableRows + i) * 4;
        for (int t = 0; t < 4; ++t) acc = wrap_add(acc, int32_t{uq[t]} * vq[t]);
      }
      d[i * kPortableColumns + j] = acc;
    }
  }
}

void portable_interleave4(const uint8_t* const* rows, int64_t count, uint8_t flip, uint8_t* dst) {
  for (int64_t j = 0; j < count; ++j) {
    for (int t = 0; t < 4; ++t) dst[4 * j + t] = rows[t][j] ^ flip;
  }
}

void portable_column_sums(int64_t k4, const uint8_t* u, int64_t u_stride, int64_t count,
                          int32_t* sums) {
  for (int64_t j = 0; j < count; ++j) sums[j] = 0;
  for (int64_t q = 0; q < k4; ++q) {
    const uint8_t* uq = u + q * u_stride;
    for (int64_t j = 0; j < count; ++j) {
      sums[j] += int32_t{uq[4 * j]} + uq[4 * j + 1] + uq[4 * j + 2] + uq[4 * j + 3];
    }
  }
}

// The epilogue's sum of column c before the bias.
int32_t epilogue_sum(const int32_t* d, int64_t c, const RowTerms& row, const ColumnTerms& cols) {
  int32_t s = wrap_add(d[c], row.constant);
  if (cols.constant) s = wrap_add(s, cols.constant[c]);
  if (cols.factor) s = wrap_add(s, wrap_mul(row.factor, cols.factor[c]));
  return s;
}

Multiplier multiplier_of(int64_t c, const RowTerms& row, const ColumnTerms& cols) {
  return cols.multipliers.plain ? cols.multipliers.plain[c] : row.multiplier;
}

// Calls store(typed dst) with dst cast to the output's element type.
template <typename Store>
void with_output(const OutputCodes& out, void* dst, Store store) {
  switch (out.kind) {
    case OutputKind::kInt8:
      return store(static_cast<int8_t*>(dst));
    case OutputKind::kUInt8:
      return store(static_cast<uint8_t*>(dst));
    case OutputKind::kInt16:
      return store(static_cast<int16_t*>(dst));
  }
}

void portable_requantize_row(const int32_t* d, int64_t count, const RowTerms& row,
                             const ColumnTerms& cols, const OutputCodes& out, void* dst) {
  with_output(out, dst, [&](auto* y) {
    using T = std::remove_pointer_t<decltype(y)>;
    for (int64_t c = 0; c < count; ++c) {
      y[c] = static_cast<T>(requantize(epilogue_sum(d, c, row, cols), multiplier_of(c, row, cols),
                                       out.zero_point, out.min, out.max));
    }
  });
}

void portable_depthwise_row(const uint8_t* row, const int64_t* offsets, const int32_t* weights,
                            int64_t taps, int64_t count, int32_t init, int32_t* acc) {
  for (int64_t j = 0; j < count; ++j) acc[j] = init;
  for (int64_t t = 0; t < taps; ++t) {
    const uint8_t* src = row + offsets[t];
    for (int64_t j = 0; j < count; ++j) acc[j] = wrap_add(acc[j], weights[t] * src[j]);
  }
}

const Int8Kernels kPortable{
    "portable",           kPortableRows,        kPortableColumns,        portable_dot_tile,
    portable_interleave4, portable_column_sums, portable_requantize_row, portable_depthwise_row};

bool has_avx512_vnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

}  // namespace

LaneMultiplier lane_multiplier(Multiplier m) {
  LaneMultiplier lane;
  const int exponent = 31 - m.shift;
  if (exponent > 62) return lane;  // |acc × M̂| < 1/2: every result rounds to 0
  lane.mantissa = m.mantissa;
  lane.exponent = exponent;
  lane.round = exponent > 0 ? int64_t{1} << (exponent - 1) : 0;
  lane.adjust = exponent > 0 ? 1 : 0;
  return lane;
}

ColumnMultiplierTable::ColumnMultiplierTable(const std::vector<Multiplier>& multipliers)
    : plain(multipliers) {
  for (const Multiplier& m : multipliers) {
    const LaneMultiplier lane = lane_multiplier(m);
    mantissa.push_back(lane.mantissa);
    exponent.push_back(lane.exponent);
    round.push_back(lane.round);
    adjust.push_back(lane.adjust);
  }
}

ColumnMultipliers ColumnMultiplierTable::at(int64_t column) const {
  const auto c = static_cast<size_t>(column);
  return {plain.data() + c, mantissa.data() + c, exponent.data() + c, round.data() + c,
          adjust.data() + c};
}

void requantize_row_wide(const int32_t* d, int64_t count, const RowTerms& row,
                         const ColumnTerms& cols, const int64_t* bias, int64_t bias_stride,
                         const OutputCodes& out, void* dst) {
  with_output(out, dst, [&](auto* y) {
    using T = std::remove_pointer_t<decltype(y)>;
    for (int64_t c = 0; c < count; ++c) {
      const int64_t s = int64_t{epilogue_sum(d, c, row, cols)} + bias[c * bias_stride];
      y[c] = static_cast<T>(
          requantize64(s, multiplier_of(c, row, cols), out.zero_point, out.min, out.max));
    }
  });
}

const Int8Kernels& portable_int8_kernels() { return kPortable; }

std::vector<const Int8Kernels*> available_int8_kernels() {
  std::vector<const Int8Kernels*> kernels{&kPortable};
  if (has_avx512_vnni()) kernels.push_back(&avx512_int8_kernels());
  return kernels;
}

const Int8Kernels& best_int8_kernels() {
  static const std::vector<const Int8Kernels*> all = available_int8_kernels();
  return kernels::simd_limit() >= kernels::SimdLevel::kAvx512 ? *all.back() : *all.front();
}

}  // namespace lq::integer::optimized
