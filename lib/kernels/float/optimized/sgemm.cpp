// The GEMM driver (blocking, packing, threading) and the portable micro-kernel.
#include "kernels/float/optimized/sgemm.hpp"
#include "kernels/simd.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

#include "kernels/float/optimized/parallel.hpp"

namespace lq::kernels::optimized {

namespace {

// Blocking: a packed A panel (kc x mr) stays in L1 while it meets every B panel
// of a task's block, and the task's B block (kc x nc, packed or in place) stays
// in L2 while every A panel of the task passes over it.
constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockN = 384;
constexpr int64_t kBlockM = 480;
// Reading B in place saves packing it, which costs as much as the product when
// A has few rows; with many rows the packed, contiguous panels are as fast or
// faster (fewer pages and lines per tile).
constexpr int64_t kDirectMaxRows = 128;
// Largest micro-kernel tile any ISA uses.
constexpr int kMaxRows = 16;
constexpr int kMaxTile = kMaxRows * 64;

// B row k at b + k * NR (packed) or, with Direct, at rows[k] + col.
template <int MR, int NR, bool Direct>
void portable_tile(int64_t kc, const float* a, const float* b, const float* const* rows,
                   int64_t col, float* c, int64_t ldc, const float* bias, bool accumulate) {
  float acc[MR][NR];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) acc[i][j] = accumulate ? c[i * ldc + j] : bias ? bias[i] : 0.0f;
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float* b_row = Direct ? rows[k] + col : b + k * NR;
    for (int i = 0; i < MR; ++i) {
      const float a_ik = a[k * MR + i];
      for (int j = 0; j < NR; ++j) acc[i][j] += a_ik * b_row[j];
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j];
  }
}

constexpr int kPortableRows = 4;
constexpr int kPortableColumns = 16;

void portable_packed(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                     const float* bias, bool accumulate) {
  portable_tile<kPortableRows, kPortableColumns, false>(kc, a, b, nullptr, 0, c, ldc, bias,
                                                        accumulate);
}

void portable_direct(int64_t kc, const float* a, const float* const* rows, int64_t col, float* c,
                     int64_t ldc, const float* bias, bool accumulate) {
  portable_tile<kPortableRows, kPortableColumns, true>(kc, a, nullptr, rows, col, c, ldc, bias,
                                                       accumulate);
}

const MicroKernel kPortableKernel{kPortableRows, kPortableColumns, portable_packed, portable_direct,
                                  "portable 4x16"};

// Copies rows[kk][n0 + j] for j < cols into panels, as PanelSource::pack lays them out.
void pack_rows(const float* const* rows, int64_t kc, int64_t n0, int64_t cols, int nr, float* dst) {
  for (int64_t j0 = 0; j0 < cols; j0 += nr, dst += kc * nr) {
    const int64_t width = std::min<int64_t>(nr, cols - j0);
    for (int64_t kk = 0; kk < kc; ++kk) {
      const float* src = rows[kk] + n0 + j0;
      float* dst_row = dst + kk * nr;
      // Rows of at most nr floats: plain loops beat memcpy calls.
      for (int64_t j = 0; j < width; ++j) dst_row[j] = src[j];
      for (int64_t j = width; j < nr; ++j) dst_row[j] = 0.0f;
    }
  }
}

struct AlignedFree {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
using AlignedBuffer = std::unique_ptr<float[], AlignedFree>;

AlignedBuffer aligned_floats(int64_t count) {
  return AlignedBuffer(static_cast<float*>(
      ::operator new[](static_cast<size_t>(count) * sizeof(float), std::align_val_t(64))));
}

int64_t round_up(int64_t v, int64_t multiple) { return (v + multiple - 1) / multiple * multiple; }

// K blocks of near-equal size; they depend on K alone, which keeps the
// accumulation order independent of how the work is split.
struct KBlocks {
  int64_t count;
  int64_t size;
  int64_t begin(int64_t b) const { return b * size; }
  int64_t length(int64_t b, int64_t k) const { return std::min(size, k - b * size); }
};

KBlocks split_k(int64_t k) {
  const int64_t count = (k + kBlockK - 1) / kBlockK;
  return {count, (k + count - 1) / count};
}

// Packed A: for every K block, the M panels one after another, each kc x mr.
void pack_a(const GemmArgs& args, const KBlocks& kb, int mr, int64_t panel, float* packed) {
  const int64_t m_padded = round_up(args.m, mr);
  const int64_t m0 = panel * mr;
  const int64_t rows = std::min<int64_t>(mr, args.m - m0);
  const StridedMatrix& a = args.a;
  for (int64_t b = 0; b < kb.count; ++b) {
    const int64_t k0 = kb.begin(b), kc = kb.length(b, args.k);
    float* dst = packed + k0 * m_padded + m0 * kc;
    for (int64_t kk = 0; kk < kc; ++kk) {
      const float* src = a.data + m0 * a.row_stride + (k0 + kk) * a.col_stride;
      int64_t i = 0;
      for (; i < rows; ++i) dst[kk * mr + i] = args.alpha * src[i * a.row_stride];
      for (; i < mr; ++i) dst[kk * mr + i] = 0.0f;
    }
  }
}

// One task: C rows [m0, m0 + rows) x columns [n0, n0 + cols).
struct Task {
  int64_t m0, rows, n0, cols;
};

// A multiple of `unit` near total / parts, at least `unit`.
int64_t block_size(int64_t total, int64_t parts, int64_t unit) {
  return std::max<int64_t>(unit, round_up((total + parts - 1) / parts, unit));
}

// Splits C into tasks: N blocks first (each task reads or packs its own B
// block), then M blocks when N alone gives the threads too little to do.
std::vector<Task> plan_tasks(const GemmArgs& args, const MicroKernel& kernel, int threads) {
  const int64_t mr = kernel.mr, nr = kernel.nr;
  int64_t m_blocks = (args.m + kBlockM - 1) / kBlockM;
  int64_t n_blocks = (args.n + kBlockN - 1) / kBlockN;
  const int64_t wanted = 2 * static_cast<int64_t>(threads);
  if (threads > 1 && m_blocks * n_blocks < wanted) {
    n_blocks = std::min((args.n + nr - 1) / nr, (wanted + m_blocks - 1) / m_blocks);
  }
  if (threads > 1 && m_blocks * n_blocks < wanted) {
    m_blocks = std::min((args.m + mr - 1) / mr, (wanted + n_blocks - 1) / n_blocks);
  }
  const int64_t mc = block_size(args.m, m_blocks, mr);
  const int64_t nc = block_size(args.n, n_blocks, nr);
  std::vector<Task> tasks;
  for (int64_t m0 = 0; m0 < args.m; m0 += mc) {
    for (int64_t n0 = 0; n0 < args.n; n0 += nc) {
      tasks.push_back({m0, std::min(mc, args.m - m0), n0, std::min(nc, args.n - n0)});
    }
  }
  return tasks;
}

// Where product columns land in C (see GemmArgs::c_pitch).
struct ColumnMap {
  int64_t pitch;
  int64_t width;

  int64_t operator()(int64_t n) const { return pitch ? n / pitch * width + n % pitch : n; }
  // Whether columns [n, n + count) are all kept and contiguous in C.
  bool contiguous(int64_t n, int64_t count) const { return !pitch || n % pitch + count <= width; }
  // Calls fn(t, c_column, length) for the runs of kept columns among [n, n + count).
  template <typename Fn>
  void for_each_run(int64_t n, int64_t count, Fn fn) const {
    if (!pitch) return fn(0, n, count);
    for (int64_t t = 0; t < count;) {
      const int64_t in_row = (n + t) % pitch;
      if (in_row >= width) {
        t += pitch - in_row;
        continue;
      }
      const int64_t length = std::min(count - t, width - in_row);
      fn(t, (n + t) / pitch * width + in_row, length);
      t += length;
    }
  }
};

// Multiplies the C tile of rows [0, rows) of c_rows and product columns
// [n, n + cols) with multiply(c, ldc, bias), through a scratch tile when the
// tile is cut by the matrix edge or does not land contiguously in C.
template <typename Multiply>
void run_tile(const MicroKernel& kernel, float* c_rows, int64_t ldc, const ColumnMap& map,
              int64_t n, const float* bias, bool accumulate, int64_t rows, int64_t cols,
              float* scratch, Multiply multiply) {
  if (rows == kernel.mr && cols == kernel.nr && map.contiguous(n, cols)) {
    multiply(c_rows + map(n), ldc, bias);
    return;
  }
  const int64_t nr = kernel.nr;
  if (accumulate) {
    map.for_each_run(n, cols, [&](int64_t t, int64_t column, int64_t length) {
      for (int64_t i = 0; i < rows; ++i) {
        std::memcpy(scratch + i * nr + t, c_rows + i * ldc + column, length * sizeof(float));
      }
    });
  }
  float padded_bias[kMaxRows];
  for (int64_t i = 0; bias && i < kernel.mr; ++i) padded_bias[i] = i < rows ? bias[i] : 0.0f;
  multiply(scratch, nr, bias ? padded_bias : nullptr);
  map.for_each_run(n, cols, [&](int64_t t, int64_t column, int64_t length) {
    for (int64_t i = 0; i < rows; ++i) {
      std::memcpy(c_rows + i * ldc + column, scratch + i * nr + t, length * sizeof(float));
    }
  });
}

// Per-thread buffers of run_task.
struct TaskBuffers {
  float* packed_b;     // a K block of B for the task's columns
  const float** rows;  // B rows of a K block, when read in place
  float* scratch;      // one tile
};

void run_task(const GemmArgs& args, const MicroKernel& kernel, const KBlocks& kb,
              const float* packed_a, const Task& task, const TaskBuffers& buf) {
  const int64_t mr = kernel.mr, nr = kernel.nr;
  const int64_t m_padded = round_up(args.m, mr);
  const int64_t full_cols = task.cols / nr * nr;  // columns of the task's full panels
  const ColumnMap map{args.c_pitch, args.c_width};
  for (int64_t b = 0; b < kb.count; ++b) {
    const int64_t k0 = kb.begin(b), kc = kb.length(b, args.k);
    const bool accumulate = args.accumulate || b > 0;
    // In place, only the last, partial panel needs packing.
    const bool direct =
        args.direct_b && args.m <= kDirectMaxRows && args.b->direct_rows(k0, kc, buf.rows);
    if (!direct) {
      args.b->pack(k0, kc, task.n0, task.cols, kernel.nr, buf.packed_b);
    } else if (full_cols < task.cols) {
      pack_rows(buf.rows, kc, task.n0 + full_cols, task.cols - full_cols, kernel.nr,
                buf.packed_b + full_cols * kc);
    }
    for (int64_t m0 = task.m0; m0 < task.m0 + task.rows; m0 += mr) {
      const float* a_panel = packed_a + k0 * m_padded + m0 * kc;
      const int64_t rows = std::min(mr, args.m - m0);
      const float* bias = args.row_bias && !accumulate ? args.row_bias + m0 : nullptr;
      float* c_rows = args.c + m0 * args.ldc;
      for (int64_t j = 0; j < task.cols; j += nr) {
        const int64_t n = task.n0 + j, cols = std::min(nr, task.cols - j);
        if (direct && j < full_cols) {
          run_tile(kernel, c_rows, args.ldc, map, n, bias, accumulate, rows, cols, buf.scratch,
                   [&](float* tile, int64_t ldc, const float* tile_bias) {
                     kernel.run_direct(kc, a_panel, buf.rows, n, tile, ldc, tile_bias, accumulate);
                   });
        } else {
          run_tile(kernel, c_rows, args.ldc, map, n, bias, accumulate, rows, cols, buf.scratch,
                   [&](float* tile, int64_t ldc, const float* tile_bias) {
                     kernel.run(kc, a_panel, buf.packed_b + j * kc, tile, ldc, tile_bias,
                                accumulate);
                   });
        }
      }
    }
  }
}

// K = 0: the product is empty, C becomes the bias (or stays, when accumulating).
void fill_empty_product(const GemmArgs& args) {
  if (args.accumulate) return;
  const ColumnMap map{args.c_pitch, args.c_width};
  for (int64_t i = 0; i < args.m; ++i) {
    float* row = args.c + i * args.ldc;
    map.for_each_run(0, args.n, [&](int64_t, int64_t column, int64_t length) {
      std::fill(row + column, row + column + length, args.row_bias ? args.row_bias[i] : 0.0f);
    });
  }
}

void parallel(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn,
              int64_t grain) {
  if (pool) {
    pool->parallel_for(n, fn, grain);
  } else {
    fn(0, n);
  }
}

}  // namespace

void StridedPanelSource::pack(int64_t k0, int64_t kc, int64_t n0, int64_t cols, int nr,
                              float* dst) const {
  for (int64_t j0 = 0; j0 < cols; j0 += nr, dst += kc * nr) {
    const int64_t width = std::min<int64_t>(nr, cols - j0);
    const float* src = b_.data + k0 * b_.row_stride + (n0 + j0) * b_.col_stride;
    if (b_.col_stride == 1) {
      // Rows of at most nr floats: plain loops beat memcpy calls.
      for (int64_t kk = 0; kk < kc; ++kk) {
        const float* src_row = src + kk * b_.row_stride;
        float* dst_row = dst + kk * nr;
        for (int64_t j = 0; j < width; ++j) dst_row[j] = src_row[j];
        for (int64_t j = width; j < nr; ++j) dst_row[j] = 0.0f;
      }
      continue;
    }
    // Transposed B: walk each column down K, contiguous in memory when row_stride is 1.
    for (int64_t j = 0; j < nr; ++j) {
      const float* column = src + j * b_.col_stride;
      for (int64_t kk = 0; kk < kc; ++kk)
        dst[kk * nr + j] = j < width ? column[kk * b_.row_stride] : 0.0f;
    }
  }
}

bool StridedPanelSource::direct_rows(int64_t k0, int64_t kc, const float** rows) const {
  if (b_.col_stride != 1) return false;
  for (int64_t kk = 0; kk < kc; ++kk) rows[kk] = b_.data + (k0 + kk) * b_.row_stride;
  return true;
}

void RowsPanelSource::pack(int64_t k0, int64_t kc, int64_t n0, int64_t cols, int nr,
                           float* dst) const {
  std::vector<const float*> rows(static_cast<size_t>(kc));
  direct_rows(k0, kc, rows.data());
  pack_rows(rows.data(), kc, n0, cols, nr, dst);
}

bool RowsPanelSource::direct_rows(int64_t k0, int64_t kc, const float** rows) const {
  for (int64_t kk = 0; kk < kc; ++kk) rows[kk] = first_row_ + offsets_[k0 + kk];
  return true;
}

const MicroKernel& best_micro_kernel() {
  static const std::vector<const MicroKernel*> all = available_micro_kernels();
  const SimdLevel limit = simd_limit();
  const MicroKernel* best = all.front();
  for (const MicroKernel* k : all) {
    const SimdLevel level = k == all.front()             ? SimdLevel::kPortable
                            : k == &avx512_micro_kernel() ? SimdLevel::kAvx512
                                                          : SimdLevel::kAvx2;
    if (level <= limit) best = k;
  }
  return *best;
}

std::vector<const MicroKernel*> available_micro_kernels() {
  std::vector<const MicroKernel*> kernels{&kPortableKernel};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    kernels.push_back(&avx2_micro_kernel());
  }
  if (__builtin_cpu_supports("avx512f")) kernels.push_back(&avx512_micro_kernel());
  return kernels;
}

void sgemm(const GemmArgs& args, ThreadPool* pool) { sgemm(args, best_micro_kernel(), pool); }

void sgemm(const GemmArgs& args, const MicroKernel& kernel, ThreadPool* pool) {
  if (args.m <= 0 || args.n <= 0) return;
  if (args.k <= 0) {
    fill_empty_product(args);
    return;
  }
  const KBlocks kb = split_k(args.k);
  const int64_t m_panels = (args.m + kernel.mr - 1) / kernel.mr;
  AlignedBuffer packed_a = aligned_floats(m_panels * kernel.mr * args.k);
  parallel(
      pool, m_panels,
      [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) pack_a(args, kb, kernel.mr, p, packed_a.get());
      },
      grain_for(kernel.mr * args.k));
  const int64_t work = args.m * args.n * args.k;
  const int threads = pool && work >= 2 * kMinChunkWork ? pool->size() : 1;
  const std::vector<Task> tasks = plan_tasks(args, kernel, threads);
  int64_t widest = 0;
  for (const Task& t : tasks) widest = std::max(widest, round_up(t.cols, kernel.nr));
  parallel(
      pool, static_cast<int64_t>(tasks.size()),
      [&](int64_t begin, int64_t end) {
        AlignedBuffer packed_b = aligned_floats(kb.size * widest);
        AlignedBuffer scratch = aligned_floats(kMaxTile);
        std::fill(scratch.get(), scratch.get() + kMaxTile,
                  0.0f);  // lanes past the edge stay defined
        std::vector<const float*> rows(static_cast<size_t>(kb.size));
        const TaskBuffers buffers{packed_b.get(), rows.data(), scratch.get()};
        for (int64_t t = begin; t < end; ++t) {
          run_task(args, kernel, kb, packed_a.get(), tasks[static_cast<size_t>(t)], buffers);
        }
      },
      grain_for(work / static_cast<int64_t>(tasks.size())));
}

}  // namespace lq::kernels::optimized
