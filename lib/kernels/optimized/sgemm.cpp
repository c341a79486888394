// The GEMM driver (blocking, packing, threading) and the portable micro-kernel.
#include "kernels/optimized/sgemm.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

namespace lq::kernels::optimized {

namespace {

// K block: a packed A panel (kc x mr) stays in L1 while it meets every B panel of
// the block; the packed B block (kc x nc) stays in L2.
constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockN = 384;
constexpr int64_t kBlockM = 480;
// Largest micro-kernel tile any ISA uses.
constexpr int kMaxRows = 16;
constexpr int kMaxTile = kMaxRows * 64;

template <int MR, int NR>
void portable_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                     const float* bias, bool accumulate) {
  float acc[MR][NR];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) acc[i][j] = accumulate ? c[i * ldc + j] : bias ? bias[i] : 0.0f;
  }
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i) {
      const float a_ik = a[k * MR + i];
      for (int j = 0; j < NR; ++j) acc[i][j] += a_ik * b[k * NR + j];
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j];
  }
}

const MicroKernel kPortableKernel{4, 16, portable_kernel<4, 16>, "portable 4x16"};

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

// Splits C into tasks: N blocks first (B packing is the costly part), then M
// blocks when N alone gives the threads too little to do.
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

// Multiplies one C tile, through a scratch tile when it is cut by the matrix edge.
void run_tile(const MicroKernel& kernel, int64_t kc, const float* a, const float* b, float* c,
              int64_t ldc, const float* bias, bool accumulate, int64_t rows, int64_t cols,
              float* scratch) {
  if (rows == kernel.mr && cols == kernel.nr) {
    kernel.run(kc, a, b, c, ldc, bias, accumulate);
    return;
  }
  if (accumulate) {
    for (int64_t i = 0; i < rows; ++i) std::memcpy(scratch + i * kernel.nr, c + i * ldc, cols * sizeof(float));
  }
  float padded_bias[kMaxRows];
  const float* tile_bias = nullptr;
  if (bias) {
    for (int64_t i = 0; i < kernel.mr; ++i) padded_bias[i] = i < rows ? bias[i] : 0.0f;
    tile_bias = padded_bias;
  }
  kernel.run(kc, a, b, scratch, kernel.nr, tile_bias, accumulate);
  for (int64_t i = 0; i < rows; ++i) std::memcpy(c + i * ldc, scratch + i * kernel.nr, cols * sizeof(float));
}

void run_task(const GemmArgs& args, const MicroKernel& kernel, const KBlocks& kb,
              const float* packed_a, const Task& task, float* packed_b, float* scratch) {
  const int64_t mr = kernel.mr, nr = kernel.nr;
  const int64_t m_padded = round_up(args.m, mr);
  for (int64_t b = 0; b < kb.count; ++b) {
    const int64_t k0 = kb.begin(b), kc = kb.length(b, args.k);
    const bool accumulate = args.accumulate || b > 0;
    args.b->pack(k0, kc, task.n0, task.cols, kernel.nr, packed_b);
    for (int64_t m0 = task.m0; m0 < task.m0 + task.rows; m0 += mr) {
      const float* a_panel = packed_a + k0 * m_padded + m0 * kc;
      const int64_t rows = std::min(mr, args.m - m0);
      const float* bias = args.row_bias && !accumulate ? args.row_bias + m0 : nullptr;
      for (int64_t j = 0; j < task.cols; j += nr) {
        float* c = args.c + m0 * args.ldc + task.n0 + j;
        run_tile(kernel, kc, a_panel, packed_b + j * kc, c, args.ldc, bias, accumulate, rows,
                 std::min(nr, task.cols - j), scratch);
      }
    }
  }
}

// K = 0: the product is empty, C becomes the bias (or stays, when accumulating).
void fill_empty_product(const GemmArgs& args) {
  if (args.accumulate) return;
  for (int64_t i = 0; i < args.m; ++i) {
    std::fill(args.c + i * args.ldc, args.c + i * args.ldc + args.n,
              args.row_bias ? args.row_bias[i] : 0.0f);
  }
}

void parallel(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool) {
    pool->parallel_for(n, fn);
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
      for (int64_t kk = 0; kk < kc; ++kk) {
        std::memcpy(dst + kk * nr, src + kk * b_.row_stride, width * sizeof(float));
        std::fill(dst + kk * nr + width, dst + (kk + 1) * nr, 0.0f);
      }
      continue;
    }
    // Transposed B: walk each column down K, contiguous in memory when row_stride is 1.
    for (int64_t j = 0; j < nr; ++j) {
      const float* column = src + j * b_.col_stride;
      for (int64_t kk = 0; kk < kc; ++kk) dst[kk * nr + j] = j < width ? column[kk * b_.row_stride] : 0.0f;
    }
  }
}

const MicroKernel& best_micro_kernel() {
  static const MicroKernel& best = *available_micro_kernels().back();
  return best;
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
  parallel(pool, m_panels, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) pack_a(args, kb, kernel.mr, p, packed_a.get());
  });
  const std::vector<Task> tasks = plan_tasks(args, kernel, pool ? pool->size() : 1);
  int64_t widest = 0;
  for (const Task& t : tasks) widest = std::max(widest, round_up(t.cols, kernel.nr));
  parallel(pool, static_cast<int64_t>(tasks.size()), [&](int64_t begin, int64_t end) {
    AlignedBuffer packed_b = aligned_floats(kb.size * widest);
    AlignedBuffer scratch = aligned_floats(kMaxTile);
    for (int64_t t = begin; t < end; ++t) {
      run_task(args, kernel, kb, packed_a.get(), tasks[static_cast<size_t>(t)], packed_b.get(),
               scratch.get());
    }
  });
}

}  // namespace lq::kernels::optimized
