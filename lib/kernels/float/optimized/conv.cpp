// Conv for float32 1-D/2-D inputs: depthwise planes computed directly, every
// other group as one GEMM of its weights with the input taps.
#include "kernels/float/reference/conv.hpp"

#include <memory>
#include <vector>

#include "kernels/float/optimized/conv_grid.hpp"
#include "kernels/float/optimized/depthwise_conv.hpp"
#include "kernels/float/optimized/nn_kernels.hpp"
#include "kernels/float/optimized/parallel.hpp"
#include "kernels/float/optimized/sgemm.hpp"
#include "kernels/float/optimized/window2d.hpp"
#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels::optimized {

namespace {

struct ConvData {
  const float* x;
  const float* w;
  const float* bias;  // may be null
  float* y;
};

// One output plane per (image, channel), each reading input channel m / out_per_group.
void depthwise(KernelContext& ctx, const ConvGeometry& g, const Window2d& win, const ConvData& d) {
  const DepthwisePlaneFn plane_fn = best_depthwise_plane();
  const DepthwiseConv conv(win);
  const int64_t in_plane = win.in_h * win.in_w;
  const int64_t out_plane = win.out_h * win.out_w;
  const int64_t taps = win.kernel_h * win.kernel_w;
  const int64_t grain = grain_for(out_plane * taps);
  ctx.pool.parallel_for(
      g.batch * g.out_channels,
      [&](int64_t begin, int64_t end) {
        std::vector<float> scratch(static_cast<size_t>(conv.grid.size()));
        for (int64_t plane = begin; plane < end; ++plane) {
          const int64_t n = plane / g.out_channels, m = plane % g.out_channels;
          const int64_t c = m / g.out_per_group();
          plane_fn(conv, {d.x + (n * g.in_channels + c) * in_plane, d.w + m * taps,
                          d.bias ? d.bias[m] : 0.0f, d.y + plane * out_plane, scratch.data(),
                          conv.tap_offsets.data()});
        }
      },
      grain);
}

// Every group is one GEMM: weights [M/group, C/group * taps] times the taps of
// the input. A pointwise convolution reads the input as B itself; any other
// goes through phase planes (see PhaseGrid), the GEMM dropping the grid's extra
// columns as it writes the output.
void grouped_gemm(KernelContext& ctx, const ConvGeometry& g, const Window2d& win,
                  const ConvData& d) {
  const int64_t in_plane = win.in_h * win.in_w;
  const int64_t out_plane = win.out_h * win.out_w;
  const int64_t k = g.in_per_group() * win.kernel_h * win.kernel_w;
  const int64_t m = g.out_per_group();
  const bool pointwise = win.is_pointwise();
  const PhaseGrid grid = PhaseGrid::of(win, g.in_per_group());
  const std::vector<int64_t> offsets = pointwise ? std::vector<int64_t>() : grid.row_offsets();
  // Fully written by PhaseGrid::fill before it is read.
  const std::unique_ptr<float[]> planes(
      new float[pointwise ? 0 : static_cast<size_t>(grid.size())]);
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t group = 0; group < g.group; ++group) {
      const float* x = d.x + (n * g.in_channels + group * g.in_per_group()) * in_plane;
      float* y = d.y + (n * g.out_channels + group * m) * out_plane;
      if (!pointwise) grid.fill(x, planes.get(), ctx.pool);
      const StridedPanelSource input({x, in_plane, 1});
      const RowsPanelSource taps(planes.get(), offsets.data());
      GemmArgs args;
      args.m = m;
      args.n = pointwise ? out_plane : grid.columns();
      args.k = k;
      args.a = {d.w + group * m * k, k, 1};
      args.b = pointwise ? static_cast<const PanelSource*>(&input) : &taps;
      args.c = y;
      args.ldc = out_plane;
      if (!pointwise) {
        args.c_pitch = grid.width;
        args.c_width = win.out_w;
      }
      args.row_bias = d.bias ? d.bias + group * m : nullptr;
      sgemm(args, &ctx.pool);
    }
  }
}

}  // namespace

void conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32 || x.rank() < 3 || x.rank() > 4) return kernels::conv(ctx);
  const ConvGeometry g = resolve_conv(ctx);
  const Window2d win = Window2d::from(g.window);
  const ConvData d{x.data<float>(), ctx.input(1).data<float>(),
                   ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr,
                   ctx.make_output_uninitialized(0, DType::kFloat32, g.output_shape).data<float>()};
  if (g.in_per_group() == 1) {
    depthwise(ctx, g, win, d);
  } else {
    grouped_gemm(ctx, g, win, d);
  }
}

}  // namespace lq::kernels::optimized
