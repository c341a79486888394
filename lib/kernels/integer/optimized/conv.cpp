// Optimized integer Conv (1-D and 2-D). The input is copied once into byte grids (u8, the
// zero point in the padding, columns split by stride phase) where the taps of consecutive
// outputs of a row are consecutive bytes. Depthwise planes are computed straight from the
// grid; every other group is a product of its packed weights with im2col blocks packed
// from the grid, four taps interleaved per int32 lane.
#include <algorithm>
#include <cstring>

#include "kernels/integer/optimized/linear.hpp"

namespace lq::integer::optimized {

namespace internal {

void run_tasks(kernels::ThreadPool* pool, int64_t n, int64_t grain,
               const std::function<void(int64_t, int64_t)>& fn) {
  if (pool != nullptr) {
    pool->parallel_for(n, fn, grain);
  } else {
    fn(0, n);
  }
}

}  // namespace internal

namespace {

using internal::kBlockBytes;
using internal::kMinChunkWork;
using internal::round_up;
using internal::wrap32;

using Geometry = internal::Geometry2d;

Geometry geometry_of(const kernels::Window& w) {
  return internal::geometry_2d(w.input, w.kernel, w.strides, w.dilations, w.pads_begin, w.output);
}

// One channel's input as u8 codes (XOR flip makes int8 unsigned) with the input zero
// point in the padding, its columns split into s_w phase planes (column % s_w) so that
// tap (kh, kw) of outputs (oh, 0...) is a run of bytes starting at
// oh * row_step() + tap_offset(kh, kw). Rows: [row][phase][width].
struct ByteGrid {
  Geometry g;
  int64_t rows = 0;   // input rows the outputs reach, padding included
  int64_t width = 0;  // columns of a phase plane the outputs reach

  explicit ByteGrid(const Geometry& geometry)
      : g(geometry),
        rows((g.out_h - 1) * g.s_h + (g.k_h - 1) * g.d_h + 1),
        width(g.out_w + (g.k_w - 1) * g.d_w / g.s_w) {}

  int64_t plane() const { return rows * g.s_w * width; }
  int64_t row_step() const { return g.s_h * g.s_w * width; }
  int64_t tap_offset(int64_t kh, int64_t kw) const {
    const int64_t column = kw * g.d_w;
    return (kh * g.d_h * g.s_w + column % g.s_w) * width + column / g.s_w;
  }

  void fill(const uint8_t* x, uint8_t flip, uint8_t pad, uint8_t* dst) const {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t ih = r - g.pad_top;
      for (int64_t phase = 0; phase < g.s_w; ++phase, dst += width) {
        if (ih < 0 || ih >= g.in_h) {
          std::memset(dst, pad, static_cast<size_t>(width));
          continue;
        }
        // Phase column j holds input column j * s_w + phase − pad_left.
        const int64_t first =
            std::clamp<int64_t>((g.pad_left - phase + g.s_w - 1) / g.s_w, 0, width);
        const int64_t last =
            std::clamp<int64_t>((g.in_w + g.pad_left - phase + g.s_w - 1) / g.s_w, first, width);
        const uint8_t* row = x + ih * g.in_w;
        const int64_t shift = phase - g.pad_left;
        std::memset(dst, pad, static_cast<size_t>(first));
        if (g.s_w == 1) {  // contiguous: a loop the compiler vectorizes
          for (int64_t j = first; j < last; ++j) dst[j] = row[j + shift] ^ flip;
        } else {
          for (int64_t j = first; j < last; ++j) dst[j] = row[j * g.s_w + shift] ^ flip;
        }
        std::memset(dst + last, pad, static_cast<size_t>(width - last));
      }
    }
  }
};

// What every kernel of one Conv reads.
struct ConvSetup {
  const detail::ConvProblem& s;
  Geometry g;
  ByteGrid grid;
  const uint8_t* x;                     // raw input bytes
  const uint8_t* w;                     // raw weight bytes (int4 as int8)
  uint8_t flip;                         // 0x80 for int8 input
  uint8_t pad;                          // the input zero point as u8
  int32_t zu;                           // the same as an int
  uint8_t weight_flip;                  // 0x80 for uint8 weights: s8 = w − 128
  std::vector<int32_t> zv;              // per output channel: the weight zero point in s8 terms
  std::vector<Multiplier> multipliers;  // per output channel
  std::vector<bool> wide;               // per output channel: the bias joins in int64
  OutputCodes out;
  uint8_t* y;
  size_t y_element;
};

int8_t weight_s8(const ConvSetup& c, int64_t index) {
  return static_cast<int8_t>(c.w[index] ^ c.weight_flip);
}

// The bias of channel m that joins the int32 row constant (0 for a wide channel's).
int64_t narrow_bias(const ConvSetup& c, int64_t m) {
  const auto mi = static_cast<size_t>(m);
  return c.s.bias.empty() || c.wide[mi] ? 0 : c.s.bias[mi];
}

// Requantizes one output row of channel m into dst.
void finish_row(const ConvSetup& c, const Int8Kernels& kernels, int64_t m, const int32_t* d,
                int64_t count, const RowTerms& row, const ColumnTerms& cols, uint8_t* dst) {
  const auto mi = static_cast<size_t>(m);
  if (c.wide[mi]) {
    requantize_row_wide(d, count, row, cols, &c.s.bias[mi], 0, c.out, dst);
  } else {
    kernels.requantize_row(d, count, row, cols, c.out, dst);
  }
}

void depthwise(const ConvSetup& c, const Int8Kernels& kernels, kernels::ThreadPool* pool) {
  const detail::ConvProblem& s = c.s;
  const Geometry& g = c.g;
  const int64_t taps = s.kernel_size;
  std::vector<int64_t> offsets;
  for (int64_t kh = 0; kh < g.k_h; ++kh) {
    for (int64_t kw = 0; kw < g.k_w; ++kw) offsets.push_back(c.grid.tap_offset(kh, kw));
  }
  // Per output channel: (w − zw) per tap, and bias − zu × sum (w − zw), which cancels the
  // zero point of every tap the grid reads (padding included: u − zu = 0 there).
  std::vector<int32_t> weights(static_cast<size_t>(s.out_channels * taps));
  std::vector<int32_t> init(static_cast<size_t>(s.out_channels));
  std::vector<RowTerms> rows;
  for (int64_t m = 0; m < s.out_channels; ++m) {
    int64_t sum = 0;
    for (int64_t t = 0; t < taps; ++t) {
      const int32_t v = weight_s8(c, m * taps + t) - c.zv[static_cast<size_t>(m)];
      weights[static_cast<size_t>(m * taps + t)] = v;
      sum += v;
    }
    init[static_cast<size_t>(m)] = wrap32(narrow_bias(c, m) - c.zu * sum);
    rows.push_back(internal::row_terms(0, 0, c.multipliers[static_cast<size_t>(m)]));
  }
  const int64_t in_plane = s.in_size, out_plane = s.out_size;
  const int64_t grain = std::max<int64_t>(1, kMinChunkWork / (out_plane * taps * s.out_per_group));
  internal::run_tasks(pool, s.batch * s.in_channels, grain, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> grid(static_cast<size_t>(c.grid.plane()));
    std::vector<int32_t> acc(static_cast<size_t>(g.out_w));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / s.in_channels, channel = item % s.in_channels;
      c.grid.fill(c.x + item * in_plane, c.flip, c.pad, grid.data());
      for (int64_t mg = 0; mg < s.out_per_group; ++mg) {
        const int64_t m = channel * s.out_per_group + mg;
        const auto mi = static_cast<size_t>(m);
        uint8_t* y_plane = c.y + ((n * s.out_channels + m) * out_plane) * c.y_element;
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          kernels.depthwise_row(grid.data() + oh * c.grid.row_step(), offsets.data(),
                                weights.data() + m * taps, taps, g.out_w, init[mi], acc.data());
          finish_row(c, kernels, m, acc.data(), g.out_w, rows[mi], {},
                     y_plane + oh * g.out_w * c.y_element);
        }
      }
    }
  });
}

// Weight panels of every group: [group][panel][k4][mr][4] signed bytes (zeros past the
// group's channels and past K), with each channel's epilogue terms.
struct PackedWeights {
  int64_t k = 0, k4 = 0, panels = 0;
  std::vector<int8_t> panel_bytes;
  std::vector<RowTerms> rows;  // per output channel
  bool column_sums = false;    // some weight zero point is not 0 in s8 terms

  const int8_t* panel(int64_t group, int64_t p, int mr) const {
    return panel_bytes.data() + ((group * panels + p) * k4) * mr * 4;
  }
};

PackedWeights pack_weights(const ConvSetup& c, int mr) {
  const detail::ConvProblem& s = c.s;
  PackedWeights pw;
  pw.k = s.in_per_group * s.kernel_size;
  pw.k4 = (pw.k + 3) / 4;
  pw.panels = (s.out_per_group + mr - 1) / mr;
  pw.panel_bytes.assign(static_cast<size_t>(s.group * pw.panels * pw.k4 * mr * 4), 0);
  for (int64_t m = 0; m < s.out_channels; ++m) {
    const int64_t group = m / s.out_per_group, local = m % s.out_per_group;
    int8_t* dst = pw.panel_bytes.data() + ((group * pw.panels + local / mr) * pw.k4) * mr * 4 +
                  (local % mr) * 4;
    // Locals: stores through int8_t* may alias anything, so fields would be reloaded.
    const uint8_t* src = c.w + m * pw.k;
    const uint8_t flip = c.weight_flip;
    const int64_t stride = mr * 4;
    int64_t sum = 0;
    for (int64_t k = 0; k < pw.k; ++k) {
      const auto v = static_cast<int8_t>(src[k] ^ flip);
      dst[(k / 4) * stride + k % 4] = v;
      sum += v;
    }
    // sum (u − zu)(v − zv) = sum u v − zv sum u − zu sum v + K zu zv
    const int64_t zv = c.zv[static_cast<size_t>(m)];
    pw.rows.push_back(internal::row_terms(wrap32(narrow_bias(c, m) + pw.k * c.zu * zv - c.zu * sum),
                                          wrap32(-zv), c.multipliers[static_cast<size_t>(m)]));
    pw.column_sums = pw.column_sums || zv != 0;
  }
  return pw;
}

// How one image's product is split: column blocks of each group, and chunks of weight
// panels when the columns alone give the threads too little to do.
struct BlockPlan {
  int64_t block_columns = 0, column_blocks = 0, row_chunks = 0, panels_per_chunk = 0;
  int64_t tasks() const { return column_blocks * row_chunks; }
};

BlockPlan plan_blocks(const detail::ConvProblem& s, const PackedWeights& pw, int nr, int threads) {
  BlockPlan plan;
  const int64_t fit = std::max<int64_t>(nr, kBlockBytes / (4 * pw.k4) / nr * nr);
  plan.block_columns = std::min(fit, round_up(s.out_size, nr));
  plan.column_blocks = (s.out_size + plan.block_columns - 1) / plan.block_columns;
  const int64_t wanted = 2 * static_cast<int64_t>(threads);
  const int64_t have = s.group * plan.column_blocks;
  plan.row_chunks = have >= wanted ? 1 : std::min(pw.panels, (wanted + have - 1) / have);
  plan.panels_per_chunk = (pw.panels + plan.row_chunks - 1) / plan.row_chunks;
  plan.row_chunks = (pw.panels + plan.panels_per_chunk - 1) / plan.panels_per_chunk;
  return plan;
}

void grouped_product(const ConvSetup& c, const Int8Kernels& kernels, kernels::ThreadPool* pool) {
  const detail::ConvProblem& s = c.s;
  const Geometry& g = c.g;
  const int mr = kernels.mr, nr = kernels.nr;
  const PackedWeights pw = pack_weights(c, mr);
  const BlockPlan plan = plan_blocks(s, pw, nr, pool ? pool->size() : 1);
  // Grid offset of every k = (channel in group, kh, kw) of group 0.
  std::vector<int64_t> tap_offsets;
  for (int64_t ci = 0; ci < s.in_per_group; ++ci) {
    for (int64_t kh = 0; kh < g.k_h; ++kh) {
      for (int64_t kw = 0; kw < g.k_w; ++kw) {
        tap_offsets.push_back(ci * c.grid.plane() + c.grid.tap_offset(kh, kw));
      }
    }
  }
  const std::vector<uint8_t> zeros(static_cast<size_t>(g.out_w), 0);
  const int64_t u_stride = plan.block_columns * 4;
  std::vector<uint8_t> grids(static_cast<size_t>(s.in_channels * c.grid.plane()));
  const int64_t task_work = pw.k * plan.block_columns * plan.panels_per_chunk * mr;

  for (int64_t n = 0; n < s.batch; ++n) {
    const uint8_t* x_image = c.x + n * s.in_channels * s.in_size;
    internal::run_tasks(pool, s.in_channels, std::max<int64_t>(1, kMinChunkWork / s.in_size),
                        [&](int64_t begin, int64_t end) {
                          for (int64_t ch = begin; ch < end; ++ch) {
                            c.grid.fill(x_image + ch * s.in_size, c.flip, c.pad,
                                        grids.data() + ch * c.grid.plane());
                          }
                        });
    const int64_t tasks = s.group * plan.tasks();
    internal::run_tasks(
        pool, tasks, std::max<int64_t>(1, kMinChunkWork / task_work),
        [&](int64_t begin, int64_t end) {
          std::vector<uint8_t> u(static_cast<size_t>(pw.k4 * u_stride));
          std::vector<int32_t> column_sums(static_cast<size_t>(plan.block_columns));
          std::vector<int32_t> tile(static_cast<size_t>(mr * nr));
          for (int64_t task = begin; task < end; ++task) {
            const int64_t group = task / plan.tasks();
            const int64_t block = task % plan.tasks() / plan.row_chunks;
            const int64_t chunk = task % plan.row_chunks;
            const int64_t p0 = block * plan.block_columns;
            const int64_t columns = std::min(plan.block_columns, s.out_size - p0);
            const uint8_t* group_grid = grids.data() + group * s.in_per_group * c.grid.plane();
            // im2col of columns [p0, p0 + columns), one output row's run at a time.
            for (int64_t p = p0; p < p0 + columns;) {
              const int64_t oh = p / g.out_w, ow = p % g.out_w;
              const int64_t run = std::min(g.out_w - ow, p0 + columns - p);
              const uint8_t* base = group_grid + oh * c.grid.row_step() + ow;
              for (int64_t q = 0; q < pw.k4; ++q) {
                const uint8_t* rows[4];
                for (int64_t t = 0; t < 4; ++t) {
                  const int64_t k = 4 * q + t;
                  rows[t] = k < pw.k ? base + tap_offsets[static_cast<size_t>(k)] : zeros.data();
                }
                kernels.interleave4(rows, run, 0, u.data() + q * u_stride + (p - p0) * 4);
              }
              p += run;
            }
            const int64_t padded = round_up(columns, nr);
            for (int64_t q = 0; q < pw.k4 && padded > columns; ++q) {
              std::memset(u.data() + q * u_stride + columns * 4, 0,
                          static_cast<size_t>((padded - columns) * 4));
            }
            ColumnTerms terms;
            if (pw.column_sums) {
              kernels.column_sums(pw.k4, u.data(), u_stride, columns, column_sums.data());
            }
            const int64_t first_panel = chunk * plan.panels_per_chunk;
            const int64_t last_panel = std::min(pw.panels, first_panel + plan.panels_per_chunk);
            for (int64_t j = 0; j < columns; j += nr) {
              const int64_t tile_columns = std::min<int64_t>(nr, columns - j);
              if (pw.column_sums) terms.factor = column_sums.data() + j;
              for (int64_t panel = first_panel; panel < last_panel; ++panel) {
                kernels.dot_tile(pw.k4, u.data() + j * 4, u_stride, pw.panel(group, panel, mr),
                                 tile.data());
                const int64_t rows = std::min<int64_t>(mr, s.out_per_group - panel * mr);
                for (int64_t i = 0; i < rows; ++i) {
                  const int64_t m = group * s.out_per_group + panel * mr + i;
                  const int64_t at = (n * s.out_channels + m) * s.out_size + p0 + j;
                  finish_row(c, kernels, m, tile.data() + i * nr, tile_columns,
                             pw.rows[static_cast<size_t>(m)], terms,
                             c.y + at * static_cast<int64_t>(c.y_element));
                }
              }
            }
          }
        });
  }
}

}  // namespace

std::optional<Tensor> conv(const detail::ConvProblem& s, const Tensor& x, const Tensor& w,
                           const LinearQuant& quant, kernels::ThreadPool* pool,
                           const Int8Kernels& kernels) {
  if (!internal::eight_bit(x.dtype(), w.dtype()) || s.window.rank() > 2 ||
      shape_numel(s.out_shape) == 0 || s.in_per_group == 0) {
    return std::nullopt;
  }
  const int64_t bound =
      internal::product_bound(quant, x.dtype(), w.dtype(), s.in_per_group * s.kernel_size);
  if (bound < 0) return std::nullopt;
  Tensor y(quant.output.dtype, s.out_shape);
  const bool signed_input = x.dtype() == DType::kInt8;
  const bool unsigned_weights = w.dtype() == DType::kUInt8;
  ConvSetup c{s,
              geometry_of(s.window),
              ByteGrid(geometry_of(s.window)),
              static_cast<const uint8_t*>(x.raw()),
              static_cast<const uint8_t*>(w.raw()),
              static_cast<uint8_t>(signed_input ? 0x80 : 0),
              static_cast<uint8_t>(quant.input_zero_point + (signed_input ? 128 : 0)),
              quant.input_zero_point + (signed_input ? 128 : 0),
              static_cast<uint8_t>(unsigned_weights ? 0x80 : 0),
              {},
              {},
              {},
              internal::output_codes(quant.output),
              static_cast<uint8_t*>(y.raw()),
              dtype_size(quant.output.dtype)};
  for (int64_t m = 0; m < s.out_channels; ++m) {
    c.zv.push_back(detail::channel_entry(quant.weight_zero_points, m) -
                   (unsigned_weights ? 128 : 0));
    c.multipliers.push_back(detail::channel_entry(quant.multipliers, m));
    c.wide.push_back(!s.bias.empty() &&
                     internal::wide_with_bias(bound, s.bias[static_cast<size_t>(m)]));
  }
  if (s.in_per_group == 1) {
    depthwise(c, kernels, pool);
  } else {
    grouped_product(c, kernels, pool);
  }
  return y;
}

std::optional<Tensor> conv(const Tensor& x, const Tensor& w, const Tensor* bias,
                           const ConvParams& params, kernels::ThreadPool* pool,
                           const Int8Kernels& kernels) {
  return conv(detail::conv_problem(x, w, bias, params), x, w, params.quant, pool, kernels);
}

}  // namespace lq::integer::optimized
