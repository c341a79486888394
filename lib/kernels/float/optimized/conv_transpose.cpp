// ConvTranspose for float32 1-D/2-D inputs: per image and group, one GEMM gives
// every (output channel, tap) row for every input pixel, and col2im adds each
// row into the output plane at the pixels its tap reaches.
#include "kernels/float/reference/conv_transpose.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "kernels/float/optimized/nn_kernels.hpp"
#include "kernels/float/optimized/parallel.hpp"
#include "kernels/float/optimized/sgemm.hpp"
#include "kernels/float/optimized/window2d.hpp"
#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels::optimized {

namespace {

// Input columns [first, last) that tap kw of each kernel row reaches in the output.
std::vector<InteriorRange> tap_columns(const Window2d& w) {
  std::vector<InteriorRange> ranges;
  for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
    const int64_t tap = kw * w.dilation_w;
    ranges.push_back(interior_range(w.out_w, w.in_w, w.stride_w, w.pad_left, tap, tap));
  }
  return ranges;
}

// Writes one output channel from `cols` (taps x in_h*in_w): output (oh, ow)
// receives tap (kh, kw) of input (ih, iw) when ih * stride_h - pad_top +
// kh * dilation_h = oh, and likewise along the width. Row by row, so each output
// row is finished while it is in cache.
void col2im(const Window2d& w, const std::vector<InteriorRange>& columns, const float* cols,
            float bias, float* out) {
  const int64_t in_plane = w.in_h * w.in_w;
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    float* out_row = out + oh * w.out_w;
    std::fill(out_row, out_row + w.out_w, bias);
    for (int64_t kh = 0; kh < w.kernel_h; ++kh) {
      const int64_t scaled = oh + w.pad_top - kh * w.dilation_h;
      if (scaled < 0 || scaled % w.stride_h != 0 || scaled / w.stride_h >= w.in_h) continue;
      const int64_t ih = scaled / w.stride_h;
      for (int64_t kw = 0; kw < w.kernel_w; ++kw) {
        const float* in_row = cols + (kh * w.kernel_w + kw) * in_plane + ih * w.in_w;
        const int64_t shift = kw * w.dilation_w - w.pad_left;
        const InteriorRange& r = columns[static_cast<size_t>(kw)];
        for (int64_t iw = r.first; iw < r.last; ++iw)
          out_row[iw * w.stride_w + shift] += in_row[iw];
      }
    }
  }
}

}  // namespace

void conv_transpose(KernelContext& ctx) {
  const Tensor& x_tensor = ctx.input(0);
  if (x_tensor.dtype() != DType::kFloat32 || x_tensor.rank() < 3 || x_tensor.rank() > 4) {
    return kernels::conv_transpose(ctx);
  }
  const ConvTransposeGeometry g = resolve_conv_transpose(ctx);
  const Window2d win = Window2d::from(g.window);
  const float* x = x_tensor.data<float>();
  const float* w = ctx.input(1).data<float>();
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  float* y = ctx.make_output(0, DType::kFloat32, g.output_shape).data<float>();
  const int64_t in_plane = win.in_h * win.in_w;
  const int64_t out_plane = win.out_h * win.out_w;
  const int64_t taps = win.kernel_h * win.kernel_w;
  const int64_t rows = g.out_per_group() * taps;  // (output channel, tap) rows of one group
  const std::vector<InteriorRange> columns = tap_columns(win);
  const std::unique_ptr<float[]> cols(new float[static_cast<size_t>(rows * in_plane)]);
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t group = 0; group < g.group; ++group) {
      const int64_t first_in = group * g.in_per_group();
      const StridedPanelSource input({x + (n * g.in_channels + first_in) * in_plane, in_plane, 1});
      GemmArgs args;
      args.m = rows;
      args.n = in_plane;
      args.k = g.in_per_group();
      args.a = {w + first_in * rows, 1, rows};  // W[c, m, tap] read as [(m, tap), c]
      args.b = &input;
      args.c = cols.get();
      args.ldc = in_plane;
      sgemm(args, &ctx.pool);
      const int64_t first_out = group * g.out_per_group();
      ctx.pool.parallel_for(
          g.out_per_group(),
          [&](int64_t begin, int64_t end) {
            for (int64_t m = begin; m < end; ++m) {
              float* out = y + (n * g.out_channels + first_out + m) * out_plane;
              col2im(win, columns, cols.get() + m * taps * in_plane,
                     bias ? bias[first_out + m] : 0.0f, out);
            }
          },
          grain_for(taps * in_plane));
    }
  }
}

}  // namespace lq::kernels::optimized
