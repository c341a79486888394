// Optimized integer ConvTranspose (1-D and 2-D). Per image and group, the weights as rows
// (output channel j, tap k) over the group's C input channels meet the input as columns
// (input positions): the product P[(j, k), p] = sum_c (w[c, j, k] − zw[j]) (x[c, p] − zx)
// is what input position p sends through tap k to output channel j. Each output row then
// adds, for each tap row that reaches it, a strided run of P (col2im) and is requantized.
// The work is split into bands of output rows, each computing P for just the input rows
// it reads (those next to a band edge twice when taps overlap), so P stays in L2.
// Every sum is exact in int32: each P and each partial output sum is a sub-sum of the
// terms the int32 bound covers (product_bound), and a bias that could leave it joins in
// int64 at requantization, as for Conv.
#include <algorithm>
#include <cstring>

#include "kernels/integer/optimized/linear.hpp"

namespace lq::integer::optimized {

namespace {

using internal::kBlockBytes;
using internal::kMinChunkWork;
using internal::round_up;
using internal::wrap32;

using Geometry = internal::Geometry2d;

// pads holds begins then ends: the first entries are the begins.
Geometry geometry_of(const detail::ConvTransposeProblem& s) {
  return internal::geometry_2d(s.input, s.kernel, s.strides, s.dilations, s.pads, s.output);
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// What every step of one ConvTranspose reads.
struct Setup {
  explicit Setup(const detail::ConvTransposeProblem& problem)
      : s(problem), g(geometry_of(problem)) {}

  const detail::ConvTransposeProblem& s;
  Geometry g;
  int64_t rows = 0;                     // tap rows per group: out_per_group × kernel_size
  int64_t k4 = 0;                       // groups of four input channels
  int64_t panels = 0;                   // panels of mr tap rows per group
  const uint8_t* x = nullptr;           // raw input bytes
  uint8_t x_flip = 0;                   // 0x80 for int8 input: u8 = x ^ flip
  std::vector<int8_t> panel_bytes;      // [group][panel][k4][mr][4]
  std::vector<int32_t> row_constant;    // per group tap row: C zu zv − zu sum v
  std::vector<int32_t> row_factor;      // per group tap row: −zv (× the column sum)
  bool column_sums = false;             // some zv != 0
  std::vector<RowTerms> channel_terms;  // per output channel: its multiplier
  std::vector<bool> wide;               // per output channel: the bias joins in int64
  OutputCodes out;
  uint8_t* y = nullptr;
  size_t y_element = 0;

  const int8_t* panel(int64_t group, int64_t p, int mr) const {
    return panel_bytes.data() + ((group * panels + p) * k4) * mr * 4;
  }
};

void pack_weights(Setup& c, const Tensor& w, const LinearQuant& quant, int mr) {
  const detail::ConvTransposeProblem& s = c.s;
  const auto* wb = static_cast<const uint8_t*>(w.raw());
  const bool unsigned_w = w.dtype() == DType::kUInt8;
  const uint8_t flip = unsigned_w ? 0x80 : 0;  // s8 = w ^ flip
  const int32_t zu =
      quant.input_zero_point + (c.x_flip != 0 ? 128 : 0);  // the input zero point as u8
  c.panel_bytes.assign(static_cast<size_t>(s.group * c.panels * c.k4 * mr * 4), 0);
  for (int64_t g = 0; g < s.group; ++g) {
    for (int64_t j = 0; j < s.out_per_group; ++j) {
      const int64_t zv =
          detail::channel_entry(quant.weight_zero_points, j) - (unsigned_w ? 128 : 0);
      c.column_sums = c.column_sums || zv != 0;
      for (int64_t k = 0; k < s.kernel_size; ++k) {
        const int64_t r = j * s.kernel_size + k;
        int8_t* dst =
            c.panel_bytes.data() + ((g * c.panels + r / mr) * c.k4) * mr * 4 + (r % mr) * 4;
        int64_t sum = 0;
        for (int64_t ci = 0; ci < s.in_per_group; ++ci) {
          const int64_t at = ((g * s.in_per_group + ci) * s.out_per_group + j) * s.kernel_size + k;
          const auto v = static_cast<int8_t>(wb[at] ^ flip);
          dst[(ci / 4) * mr * 4 + ci % 4] = v;
          sum += v;
        }
        // sum (u − zu)(v − zv) = sum u v − zv sum u − zu sum v + C zu zv
        c.row_constant.push_back(wrap32(s.in_per_group * zu * zv - zu * sum));
        c.row_factor.push_back(wrap32(-zv));
      }
    }
  }
}

// A band of output rows [oh0, oh1) and the input rows [ih0, ih1) they read.
struct Band {
  int64_t oh0, oh1, ih0, ih1;
};

Band band_of(const Geometry& g, int64_t oh0, int64_t oh1) {
  // Output row oh reads input row (oh + pad_top − kh × d_h) / s_h through tap kh.
  const int64_t first = -floor_div(-(oh0 + g.pad_top - (g.k_h - 1) * g.d_h), g.s_h);
  const int64_t last = floor_div(oh1 - 1 + g.pad_top, g.s_h);
  const int64_t ih0 = std::clamp<int64_t>(first, 0, g.in_h);
  return {oh0, oh1, ih0, std::clamp<int64_t>(last + 1, ih0, g.in_h)};
}

// What one thread reuses from band to band.
struct Scratch {
  std::vector<uint8_t> u;            // a packed block of input columns
  std::vector<int32_t> column_sums;  // of that block
  std::vector<int32_t> tile;         // one dot_tile
  std::vector<int32_t> product;      // P of the band: [group][tap row][band column]
  std::vector<int32_t> acc;          // one output row
  std::vector<int32_t> phases;       // its stride phases: [s_w][ceil(out_w / s_w)]
};

// P of image n, one group, for the band's input columns [p0, p0 + columns) (relative to
// the band's first input position `first`), `stride` columns per tap row.
void product_block(const Setup& c, const Int8Kernels& kernels, int64_t n, int64_t group,
                   int64_t first, int64_t p0, int64_t columns, int64_t stride, int64_t u_stride,
                   const uint8_t* pad_row, Scratch& scratch) {
  const detail::ConvTransposeProblem& s = c.s;
  const int mr = kernels.mr, nr = kernels.nr;
  uint8_t* u = scratch.u.data();
  const uint8_t* x_group =
      c.x + (n * s.in_channels + group * s.in_per_group) * s.in_size + first + p0;
  for (int64_t q = 0; q < c.k4; ++q) {
    const uint8_t* rows[4];
    for (int64_t t = 0; t < 4; ++t) {
      const int64_t ci = 4 * q + t;
      rows[t] = ci < s.in_per_group ? x_group + ci * s.in_size : pad_row;  // pad: flip ^ flip = 0
    }
    kernels.interleave4(rows, columns, c.x_flip, u + q * u_stride);
    std::memset(u + q * u_stride + columns * 4, 0,
                static_cast<size_t>((round_up(columns, nr) - columns) * 4));
  }
  const int32_t* column_sums = scratch.column_sums.data();
  if (c.column_sums) kernels.column_sums(c.k4, u, u_stride, columns, scratch.column_sums.data());
  int32_t* tile = scratch.tile.data();
  int32_t* group_product = scratch.product.data() + group * c.rows * stride + p0;
  for (int64_t j = 0; j < columns; j += nr) {
    const int64_t tile_columns = std::min<int64_t>(nr, columns - j);
    for (int64_t panel = 0; panel < c.panels; ++panel) {
      kernels.dot_tile(c.k4, u + j * 4, u_stride, c.panel(group, panel, mr), tile);
      const int64_t panel_rows = std::min<int64_t>(mr, c.rows - panel * mr);
      for (int64_t i = 0; i < panel_rows; ++i) {
        const int64_t r = panel * mr + i;
        const auto at = static_cast<size_t>(group * c.rows + r);
        const auto constant = static_cast<uint32_t>(c.row_constant[at]);
        const auto factor = static_cast<uint32_t>(c.row_factor[at]);
        const int32_t* d = tile + i * nr;
        int32_t* dst = group_product + r * stride + j;
        // Wrapping arithmetic: the true sums fit int32.
        if (c.column_sums) {
          const int32_t* sums = column_sums + j;
          for (int64_t jj = 0; jj < tile_columns; ++jj) {
            dst[jj] = static_cast<int32_t>(static_cast<uint32_t>(d[jj]) + constant +
                                           factor * static_cast<uint32_t>(sums[jj]));
          }
        } else {
          for (int64_t jj = 0; jj < tile_columns; ++jj) {
            dst[jj] = static_cast<int32_t>(static_cast<uint32_t>(d[jj]) + constant);
          }
        }
      }
    }
  }
}

// Output row oh of channel m: the bias (when it joins in int32) plus every tap row's run of
// the band's P that lands on it, requantized into dst. With a column stride, output column
// i × s_w + phase is entry i of that phase's row, where each tap's run is contiguous; the
// phase rows are interleaved once at the end.
void output_row(const Setup& c, const Int8Kernels& kernels, const Band& band, int64_t stride,
                int64_t m, int64_t oh, Scratch& scratch, uint8_t* dst) {
  const detail::ConvTransposeProblem& s = c.s;
  const Geometry& g = c.g;
  const auto mi = static_cast<size_t>(m);
  const int64_t group = m / s.out_per_group, j = m % s.out_per_group;
  const int64_t phase_length = (g.out_w + g.s_w - 1) / g.s_w;
  int32_t* acc = scratch.acc.data();
  int32_t* phases = g.s_w == 1 ? acc : scratch.phases.data();  // [phase][phase_length]
  const int32_t init = s.bias.empty() || c.wide[mi] ? 0 : static_cast<int32_t>(s.bias[mi]);
  std::fill(phases, phases + g.s_w * phase_length, init);
  const int32_t* channel_product =
      scratch.product.data() + (group * c.rows + j * s.kernel_size) * stride;
  for (int64_t kh = 0; kh < g.k_h; ++kh) {
    const int64_t t = oh + g.pad_top - kh * g.d_h;
    if (t < 0 || t % g.s_h != 0 || t / g.s_h >= g.in_h) continue;
    const int64_t ih = t / g.s_h;  // within [band.ih0, band.ih1) by band_of
    for (int64_t kw = 0; kw < g.k_w; ++kw) {
      // Input column iw lands on output column iw × s_w + shift: entry iw + base of phase
      // shift mod s_w.
      const int64_t shift = kw * g.d_w - g.pad_left;
      const int64_t base = floor_div(shift, g.s_w);
      const int64_t begin = std::max<int64_t>(0, -base);
      const int64_t end = std::min(g.in_w, floor_div(g.out_w - 1 - shift, g.s_w) + 1);
      const int32_t* src = channel_product + (kh * g.k_w + kw) * stride + (ih - band.ih0) * g.in_w;
      int32_t* phase = phases + (shift - base * g.s_w) * phase_length;
      for (int64_t iw = begin; iw < end; ++iw) phase[iw + base] += src[iw];
    }
  }
  if (g.s_w == 2) {
    const int32_t* even = phases;
    const int32_t* odd = phases + phase_length;
    for (int64_t i = 0; i < g.out_w / 2; ++i) {
      acc[2 * i] = even[i];
      acc[2 * i + 1] = odd[i];
    }
    if (g.out_w % 2 != 0) acc[g.out_w - 1] = even[g.out_w / 2];
  } else if (g.s_w > 2) {
    for (int64_t phase = 0; phase < g.s_w; ++phase) {
      const int32_t* src = phases + phase * phase_length;
      for (int64_t o = phase, i = 0; o < g.out_w; o += g.s_w, ++i) acc[o] = src[i];
    }
  }
  const RowTerms& row = c.channel_terms[mi];
  if (c.wide[mi]) {
    requantize_row_wide(acc, g.out_w, row, {}, &s.bias[mi], 0, c.out, dst);
  } else {
    kernels.requantize_row(acc, g.out_w, row, {}, c.out, dst);
  }
}

}  // namespace

std::optional<Tensor> conv_transpose(const detail::ConvTransposeProblem& s, const Tensor& x,
                                     const Tensor& w, const LinearQuant& quant,
                                     kernels::ThreadPool* pool, const Int8Kernels& kernels) {
  const int64_t bound =
      internal::product_bound(quant, x.dtype(), w.dtype(), s.in_per_group * s.kernel_size);
  if (!internal::eight_bit(x.dtype(), w.dtype()) || bound < 0 || s.input.size() > 2 ||
      s.batch == 0 || s.in_per_group == 0 || s.out_per_group == 0 || s.in_size == 0 ||
      s.out_size == 0 || s.kernel_size == 0) {
    return std::nullopt;
  }
  const int mr = kernels.mr, nr = kernels.nr;
  Tensor y(quant.output.dtype, s.out_shape);
  Setup c(s);
  const Geometry& g = c.g;
  c.rows = s.out_per_group * s.kernel_size;
  c.k4 = (s.in_per_group + 3) / 4;
  c.panels = (c.rows + mr - 1) / mr;
  c.x = static_cast<const uint8_t*>(x.raw());
  c.x_flip = x.dtype() == DType::kUInt8 ? 0 : 0x80;
  c.out = internal::output_codes(quant.output);
  c.y = static_cast<uint8_t*>(y.raw());
  c.y_element = dtype_size(quant.output.dtype);
  pack_weights(c, w, quant, mr);
  for (int64_t m = 0; m < s.out_channels; ++m) {
    const int64_t j = m % s.out_per_group;
    c.channel_terms.push_back(
        internal::row_terms(0, 0, detail::channel_entry(quant.multipliers, j)));
    c.wide.push_back(!s.bias.empty() &&
                     internal::wide_with_bias(bound, s.bias[static_cast<size_t>(m)]));
  }

  // Bands of output rows whose P (every group's tap rows over their input rows) stays
  // near 2 kBlockBytes, and at least two bands per thread when the image has the rows.
  const int64_t row_bytes = s.group * c.rows * g.in_w * 4;
  const int64_t in_rows = std::max<int64_t>(1, 2 * kBlockBytes / row_bytes);
  const int64_t threads = pool ? pool->size() : 1;
  const int64_t band_rows =
      std::max<int64_t>(1, std::min(in_rows * g.s_h, (g.out_h + 2 * threads - 1) / (2 * threads)));
  const int64_t bands = (g.out_h + band_rows - 1) / band_rows;
  // Packed blocks of input columns that stay in L2 while every panel meets them.
  const int64_t fit = std::max<int64_t>(nr, kBlockBytes / (4 * c.k4) / nr * nr);
  const int64_t block_columns = std::min(fit, round_up(s.in_size, nr));
  const int64_t u_stride = block_columns * 4;
  const std::vector<uint8_t> pad_row(static_cast<size_t>(block_columns), c.x_flip);
  const int64_t band_work =
      s.group * c.rows * s.in_per_group * g.in_w * std::max<int64_t>(1, band_rows / g.s_h);

  internal::run_tasks(
      pool, s.batch * bands, std::max<int64_t>(1, kMinChunkWork / band_work),
      [&](int64_t begin, int64_t end) {
        Scratch scratch;
        scratch.u.resize(static_cast<size_t>(c.k4 * u_stride));
        scratch.column_sums.resize(static_cast<size_t>(block_columns));
        scratch.tile.resize(static_cast<size_t>(mr * nr));
        scratch.acc.resize(static_cast<size_t>(g.out_w));
        scratch.phases.resize(static_cast<size_t>((g.out_w + g.s_w - 1) / g.s_w * g.s_w));
        for (int64_t task = begin; task < end; ++task) {
          const int64_t n = task / bands, oh0 = task % bands * band_rows;
          const Band band = band_of(g, oh0, std::min(g.out_h, oh0 + band_rows));
          const int64_t columns = (band.ih1 - band.ih0) * g.in_w;
          scratch.product.resize(
              std::max(scratch.product.size(), static_cast<size_t>(s.group * c.rows * columns)));
          for (int64_t group = 0; group < s.group; ++group) {
            for (int64_t p0 = 0; p0 < columns; p0 += block_columns) {
              product_block(c, kernels, n, group, band.ih0 * g.in_w, p0,
                            std::min(block_columns, columns - p0), columns, u_stride,
                            pad_row.data(), scratch);
            }
          }
          for (int64_t m = 0; m < s.out_channels; ++m) {
            for (int64_t oh = band.oh0; oh < band.oh1; ++oh) {
              const int64_t at = (n * s.out_channels + m) * s.out_size + oh * g.out_w;
              output_row(c, kernels, band, columns, m, oh, scratch,
                         c.y + at * static_cast<int64_t>(c.y_element));
            }
          }
        }
      });
  return y;
}

std::optional<Tensor> conv_transpose(const Tensor& x, const Tensor& w, const Tensor* bias,
                                     const ConvTransposeParams& params, kernels::ThreadPool* pool,
                                     const Int8Kernels& kernels) {
  return conv_transpose(detail::conv_transpose_problem(x, w, bias, params), x, w, params.quant,
                        pool, kernels);
}

}  // namespace lq::integer::optimized
