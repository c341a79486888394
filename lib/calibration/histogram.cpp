// Histogram of a stream of floats over a range that doubles as larger values arrive.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "libquant/calibrator.hpp"

namespace lq {

namespace {

// Values are binned a chunk at a time (still in cache after their scan).
constexpr int64_t kChunk = int64_t{1} << 16;

// Bins are addressed relative to zero (bin j covers [j, j+1) * width), so that after the
// width grows by 2^shift the old bin j lies inside the new bin floor(j / 2^shift). Zero is
// always the lower edge of bin bins/2, which keeps the positive and negative halves apart.
int64_t floor_div_pow2(int64_t j, int shift) {
  const int64_t factor = int64_t{1} << std::min(shift, 62);
  return j >= 0 ? j / factor : -((-j + factor - 1) / factor);
}

void add_rebinned(const std::vector<uint64_t>& from, int shift, std::vector<uint64_t>& to) {
  const int64_t half = static_cast<int64_t>(to.size()) / 2;
  for (size_t i = 0; i < from.size(); ++i) {
    if (from[i] == 0) continue;
    const int64_t j = floor_div_pow2(static_cast<int64_t>(i) - half, shift);
    to[static_cast<size_t>(j + half)] += from[i];
  }
}

// The smallest power of two strictly above `magnitude` (> 0, finite).
double power_of_two_above(double magnitude) { return std::ldexp(1.0, std::ilogb(magnitude) + 1); }

struct ChunkScan {
  double max_magnitude = 0.0;  // of the finite values
  bool all_finite = true;
};

ChunkScan scan(const float* data, int64_t n) {
  // Independent lanes keep the compares out of one long dependency chain.
  constexpr int kLanes = 8;
  float largest[kLanes] = {};
  int finite[kLanes] = {1, 1, 1, 1, 1, 1, 1, 1};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float magnitude = std::fabs(data[i + k]);
      finite[k] &= magnitude <= std::numeric_limits<float>::max();  // false for NaN and inf
      largest[k] = magnitude > largest[k] ? magnitude : largest[k];
    }
  }
  for (; i < n; ++i) {
    const float magnitude = std::fabs(data[i]);
    finite[0] &= magnitude <= std::numeric_limits<float>::max();
    largest[0] = magnitude > largest[0] ? magnitude : largest[0];
  }
  ChunkScan result{0.0, true};
  for (int k = 0; k < kLanes; ++k) {
    result.max_magnitude = std::max<double>(result.max_magnitude, largest[k]);
    result.all_finite = result.all_finite && finite[k];
  }
  if (result.all_finite) return result;
  result.max_magnitude = 0.0;
  for (i = 0; i < n; ++i) {
    const float magnitude = std::fabs(data[i]);
    if (std::isfinite(magnitude))
      result.max_magnitude = std::max<double>(result.max_magnitude, magnitude);
  }
  return result;
}

}  // namespace

Histogram::Histogram(int bins) {
  if (bins < 2 || bins % 2 != 0) {
    throw Error(
        StatusCode::kInvalidArgument,
        fmt::format("histogram bin count {} must be even and at least 2 (2048 is usual)", bins));
  }
  counts_.assign(static_cast<size_t>(bins), 0);
}

Histogram Histogram::from_counts(double limit, std::vector<uint64_t> counts) {
  Histogram h(static_cast<int>(counts.size()));
  int exponent = 0;
  const bool power_of_two = limit == 0.0 || (std::isfinite(limit) && std::frexp(limit, &exponent) == 0.5);
  if (!power_of_two) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("histogram limit {} is neither 0 nor a power of two", limit));
  }
  h.limit_ = limit;
  h.counts_ = std::move(counts);
  return h;
}

uint64_t Histogram::total() const {
  return std::accumulate(counts_.begin(), counts_.end(), uint64_t{0});
}

void Histogram::grow_to(double magnitude) {
  if (magnitude < limit_) return;
  if (limit_ == 0.0) {
    // Before the first non-zero value only zeros were counted, in bin bins/2, which is where
    // zero stays at any limit.
    limit_ = power_of_two_above(magnitude);
    return;
  }
  int shift = 0;
  while (limit_ <= magnitude) {
    limit_ *= 2.0;
    ++shift;
  }
  std::vector<uint64_t> old(counts_.size(), 0);
  old.swap(counts_);
  add_rebinned(old, shift, counts_);
}

void Histogram::add(const float* data, int64_t n) {
  // A chunk's largest magnitude first, so that the binning loop never has to grow the
  // histogram. Binning at a limit and rebinning to a larger one give the same counts as
  // binning at the larger limit directly (see bin_piece), so chunks may be of any size.
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int64_t size = std::min(kChunk, n - begin);
    const ChunkScan scanned = scan(data + begin, size);
    add_scanned(data + begin, size, scanned.max_magnitude, scanned.all_finite);
  }
}

namespace {

// At most this many values go through one set of 32-bit sub-histograms.
constexpr int64_t kBinPiece = int64_t{1} << 30;

// Bin half + floor(x * bins_per_unit), clamped to the last bin: |x| < limit puts it in
// [0, bins], and the clamp only catches x just below the limit rounding up to `bins`.
// Halving bins_per_unit halves the product exactly, so the floor at a doubled limit is the old
// floor halved (rounded down): binning before or after the histogram grows gives the same
// counts, which is what makes shards, chunks and threads merge exactly. (Adding the offset
// before the floor would round tiny negative values into the zero bin at one limit and not
// at another.)
struct Binning {
  double bins_per_unit;
  int32_t half;
  int32_t last_bin;
  int32_t of(float x) const {
    const double position = static_cast<double>(x) * bins_per_unit;
    int32_t bin = static_cast<int32_t>(position);       // toward zero
    bin -= position < static_cast<double>(bin) ? 1 : 0;  // the floor for negative values
    return std::min(bin + half, last_bin);
  }
};

void bin_indices_portable(const Binning& b, const float* data, int64_t n, int32_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = b.of(data[i]);
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same bins, four at a time: the same double product, an exact floor and conversion.
__attribute__((target("avx2"))) void bin_indices_avx2(const Binning& b, const float* data,
                                                       int64_t n, int32_t* out) {
  const __m256d scale = _mm256_set1_pd(b.bins_per_unit);
  const __m128i half = _mm_set1_epi32(b.half);
  const __m128i last = _mm_set1_epi32(b.last_bin);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d position = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(data + i)), scale);
    const __m128i bin = _mm256_cvttpd_epi32(_mm256_floor_pd(position));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_min_epi32(_mm_add_epi32(bin, half), last));
  }
  for (; i < n; ++i) out[i] = b.of(data[i]);
}

// Eight at a time, the same way. (GCC 12's AVX-512 headers trip -Wmaybe-uninitialized.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) void bin_indices_avx512(const Binning& b, const float* data,
                                                           int64_t n, int32_t* out) {
  const __m512d scale = _mm512_set1_pd(b.bins_per_unit);
  const __m256i half = _mm256_set1_epi32(b.half);
  const __m256i last = _mm256_set1_epi32(b.last_bin);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d position = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(data + i)), scale);
    const __m512d floor = _mm512_roundscale_pd(position, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m256i bin = _mm512_cvttpd_epi32(floor);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm256_min_epi32(_mm256_add_epi32(bin, half), last));
  }
  for (; i < n; ++i) out[i] = b.of(data[i]);
}
#pragma GCC diagnostic pop
#endif

using BinIndices = void (*)(const Binning&, const float*, int64_t, int32_t*);

BinIndices bin_indices() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const BinIndices chosen = __builtin_cpu_supports("avx512f") ? bin_indices_avx512
                                   : __builtin_cpu_supports("avx2")  ? bin_indices_avx2
                                                                     : bin_indices_portable;
  return chosen;
#else
  return bin_indices_portable;
#endif
}

// Bins data[0, n) into `counts` (bins of `width` = 2 limit / bins around zero_bin), through
// four interleaved 32-bit sub-histograms so that runs of equal bins (zeros after a Relu) do
// not make every increment wait for the previous one. n < 2^32.
void bin_piece(const float* data, int64_t n, double limit, bool all_finite,
               std::vector<uint64_t>& counts, std::vector<uint32_t>& scratch) {
  const size_t bins = counts.size();
  scratch.assign(4 * bins, 0);
  const Binning binning{static_cast<double>(bins) / (2.0 * limit), static_cast<int32_t>(bins / 2),
                        static_cast<int32_t>(bins) - 1};
  uint32_t* sub0 = scratch.data();
  uint32_t* sub1 = sub0 + bins;
  uint32_t* sub2 = sub1 + bins;
  uint32_t* sub3 = sub2 + bins;
  if (all_finite) {
    constexpr int64_t kBlock = 1024;
    int32_t index[kBlock];
    const BinIndices indices = bin_indices();
    for (int64_t begin = 0; begin < n; begin += kBlock) {
      const int64_t size = std::min(kBlock, n - begin);
      indices(binning, data + begin, size, index);
      int64_t i = 0;
      for (; i + 4 <= size; i += 4) {
        ++sub0[index[i]];
        ++sub1[index[i + 1]];
        ++sub2[index[i + 2]];
        ++sub3[index[i + 3]];
      }
      for (; i < size; ++i) ++sub0[index[i]];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      if (std::isfinite(data[i])) ++sub0[binning.of(data[i])];
    }
  }
  for (size_t b = 0; b < bins; ++b) {
    counts[b] += uint64_t{sub0[b]} + sub1[b] + sub2[b] + sub3[b];
  }
}

}  // namespace

void Histogram::add_scanned(const float* data, int64_t n, double max_magnitude, bool all_finite) {
  if (n <= 0) return;
  if (max_magnitude > 0.0) grow_to(max_magnitude);
  if (limit_ == 0.0) {  // nothing but zeros (and non-finite values) so far
    uint64_t zeros = 0;
    for (int64_t i = 0; i < n; ++i) zeros += data[i] == 0.0f ? 1 : 0;
    counts_[counts_.size() / 2] += zeros;
    return;
  }
  std::vector<uint32_t> scratch;
  for (int64_t begin = 0; begin < n; begin += kBinPiece) {
    bin_piece(data + begin, std::min(kBinPiece, n - begin), limit_, all_finite, counts_, scratch);
  }
}

void Histogram::merge(const Histogram& other) {
  if (other.bins() != bins()) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("cannot merge a histogram of {} bins into one of {} bins", other.bins(),
                            bins()));
  }
  // Limits are powers of two, so the larger is the smaller times 2^shift.
  if (other.limit_ > 0.0) grow_to(other.limit_ / 2.0);
  int shift = 0;
  for (double l = other.limit_; l > 0.0 && l < limit_; l *= 2.0) ++shift;
  add_rebinned(other.counts_, shift, counts_);
}

std::vector<uint64_t> Histogram::abs_counts() const {
  const size_t half = counts_.size() / 2;
  std::vector<uint64_t> folded(half);
  for (size_t i = 0; i < half; ++i) folded[i] = counts_[half + i] + counts_[half - 1 - i];
  return folded;
}

}  // namespace lq
