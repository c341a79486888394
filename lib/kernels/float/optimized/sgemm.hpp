// Cache-blocked single-precision GEMM: C[M,N] (+)= A[M,K] * B[K,N] (+ row bias).
//
// A is packed into MR-row panels; B is read in place when its rows are
// contiguous (a row-major matrix, or a convolution's input taps), else packed
// into NR-column panels (zero-padded at the edges). A register-blocked
// micro-kernel multiplies one MR x NR tile; it is picked once per process from
// the CPU (AVX-512, AVX2+FMA, or portable C++). K is split into blocks that
// depend only on K, and work is split over M/N tiles only, so every element is
// accumulated in the same order for any thread count: results are bit-identical
// across thread counts.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/thread_pool.hpp"

namespace lq::kernels::optimized {

// One register tile: c[i * ldc + j] for i < mr, j < nr becomes
//   (accumulate ? c : bias ? bias[i] : 0) + sum_k a[k * mr + i] * b[k * nr + j]
// where a is a packed A panel (kc x mr) and b a packed B panel (kc x nr).
// run_direct reads B straight from its rows instead: b[k * nr + j] becomes
// rows[k][col + j].
struct MicroKernel {
  int mr;
  int nr;
  void (*run)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, const float* bias,
              bool accumulate);
  void (*run_direct)(int64_t kc, const float* a, const float* const* rows, int64_t col, float* c,
                     int64_t ldc, const float* bias, bool accumulate);
  const char* name;
};

// The best micro-kernel this CPU runs.
const MicroKernel& best_micro_kernel();
// Every micro-kernel this CPU runs (for tests that compare them).
std::vector<const MicroKernel*> available_micro_kernels();

// Element (r, c) of a logical matrix is data[r * row_stride + c * col_stride];
// a transposed operand just swaps the strides.
struct StridedMatrix {
  const float* data = nullptr;
  int64_t row_stride = 0;
  int64_t col_stride = 1;
};

// Produces packed panels of the logical B [K, N]: a plain matrix, or im2col
// computed on the fly for convolution.
class PanelSource {
 public:
  virtual ~PanelSource() = default;
  // Writes B rows [k0, k0 + kc) x columns [n0, n0 + cols) to `dst` as
  // ceil(cols / nr) consecutive panels of kc x nr floats, zeros past `cols`.
  virtual void pack(int64_t k0, int64_t kc, int64_t n0, int64_t cols, int nr, float* dst) const = 0;
  // When every B row is contiguous in memory, points rows[kk] at row k0 + kk
  // (B[k0 + kk][n] = rows[kk][n] for n < N) and returns true: the GEMM then
  // reads B in place instead of packing it, which pays off when A has few rows.
  virtual bool direct_rows(int64_t k0, int64_t kc, const float** rows) const { return false; }
};

// B rows at `first_row + offsets[k]` (each contiguous in n); one per K.
class RowsPanelSource : public PanelSource {
 public:
  RowsPanelSource(const float* first_row, const int64_t* offsets)
      : first_row_(first_row), offsets_(offsets) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t cols, int nr, float* dst) const override;
  bool direct_rows(int64_t k0, int64_t kc, const float** rows) const override;

 private:
  const float* first_row_;
  const int64_t* offsets_;
};

class StridedPanelSource : public PanelSource {
 public:
  explicit StridedPanelSource(StridedMatrix b) : b_(b) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t cols, int nr, float* dst) const override;
  bool direct_rows(int64_t k0, int64_t kc, const float** rows) const override;

 private:
  StridedMatrix b_;
};

struct GemmArgs {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  StridedMatrix a;                 // [M, K]
  float alpha = 1.0f;              // scales A * B
  const PanelSource* b = nullptr;  // [K, N]
  float* c = nullptr;              // [M, N], row stride ldc
  int64_t ldc = 0;
  // With c_pitch > 0, product column n goes to C column
  // (n / c_pitch) * c_width + n % c_pitch and is dropped when n % c_pitch >=
  // c_width: how a convolution on a padded grid writes its output rows.
  int64_t c_pitch = 0;
  int64_t c_width = 0;
  bool accumulate = false;          // add to C instead of overwriting it
  const float* row_bias = nullptr;  // [M], added when not accumulating
  bool direct_b = true;             // read B in place when its source allows it and M is small
};

// Splits the work over `pool`, or runs on the caller's thread when pool is null
// (e.g. inside another parallel_for).
void sgemm(const GemmArgs& args, ThreadPool* pool);
// The same with a chosen micro-kernel.
void sgemm(const GemmArgs& args, const MicroKernel& kernel, ThreadPool* pool);

// Per-ISA micro-kernels (sgemm_avx2.cpp, sgemm_avx512.cpp); call only when the
// CPU supports the instruction set.
const MicroKernel& avx2_micro_kernel();
const MicroKernel& avx512_micro_kernel();

}  // namespace lq::kernels::optimized
