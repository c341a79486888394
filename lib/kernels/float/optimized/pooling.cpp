// MaxPool, AveragePool (1-D/2-D float32, no Indices output) and the global pools
// (float32): the reference semantics with the window walked axis by axis and the
// plane sums split over independent accumulators.
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/float/optimized/nn_kernels.hpp"
#include "kernels/float/optimized/parallel.hpp"
#include "kernels/float/optimized/window2d.hpp"
#include "kernels/float/reference/nn_kernels.hpp"
#include "kernels/float/reference/window.hpp"

namespace lq::kernels::optimized {

namespace {

// Lanes of the blocked plane reductions: independent chains the compiler keeps
// in vector registers.
constexpr int64_t kLanes = 16;

bool is_float_1d_or_2d(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  return x.dtype() == DType::kFloat32 && (x.rank() == 3 || x.rank() == 4);
}

Shape pooled_shape(const Tensor& x, const Window& win) {
  Shape shape = {x.dim(0), x.dim(1)};
  shape.insert(shape.end(), win.output.begin(), win.output.end());
  return shape;
}

// Calls pool(x_plane, y_plane) for every N x C plane on the pool's threads.
template <typename PlaneFn>
void for_each_plane(KernelContext& ctx, const Window& win, PlaneFn pool) {
  const Tensor& x = ctx.input(0);
  const float* in = x.data<float>();
  float* out = ctx.make_output(0, DType::kFloat32, pooled_shape(x, win)).data<float>();
  const int64_t in_plane = shape_numel(win.input), out_plane = shape_numel(win.output);
  ctx.pool.parallel_for(
      x.dim(0) * x.dim(1),
      [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) pool(in + p * in_plane, out + p * out_plane);
      },
      grain_for(out_plane * shape_numel(win.kernel)));
}

// The taps of each output along one axis that fall inside the input (always a
// contiguous range of tap indices), and how many fall inside the padded input.
struct AxisTaps {
  std::vector<int64_t> first_pos;   // input position of tap 0 (may be in the padding)
  std::vector<int64_t> begin, end;  // taps [begin, end) are inside the input
  std::vector<int64_t> padded;      // taps inside [-pad_begin, size + pad_end)
};

AxisTaps axis_taps(int64_t size, int64_t out_size, int64_t kernel, int64_t stride, int64_t dilation,
                   int64_t pad_begin, int64_t pad_end) {
  AxisTaps t;
  for (int64_t o = 0; o < out_size; ++o) {
    const int64_t first = o * stride - pad_begin;
    int64_t begin = 0, end = 0, padded = 0;
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t pos = first + k * dilation;
      if (pos < 0) begin = k + 1;
      if (pos < size) end = k + 1;
      padded += pos < size + pad_end;
    }
    t.first_pos.push_back(first);
    t.begin.push_back(begin);
    t.end.push_back(std::max(begin, end));
    t.padded.push_back(padded);
  }
  return t;
}

struct PlaneTaps {
  AxisTaps rows, cols;
};

PlaneTaps plane_taps(const Window2d& w, const Window& win) {
  const int64_t pad_bottom = win.rank() == 2 ? win.pads_end[0] : 0;
  return {axis_taps(w.in_h, w.out_h, w.kernel_h, w.stride_h, w.dilation_h, w.pad_top, pad_bottom),
          axis_taps(w.in_w, w.out_w, w.kernel_w, w.stride_w, w.dilation_w, w.pad_left,
                    win.pads_end.back())};
}

// Calls visit(value) for every input value under the window of output (oh, ow),
// in row-major tap order.
template <typename Visit>
void for_each_tap(const Window2d& w, const PlaneTaps& t, const float* in, int64_t oh, int64_t ow,
                  Visit visit) {
  const size_t r = static_cast<size_t>(oh), c = static_cast<size_t>(ow);
  for (int64_t a = t.rows.begin[r]; a < t.rows.end[r]; ++a) {
    const float* row = in + (t.rows.first_pos[r] + a * w.dilation_h) * w.in_w;
    const int64_t first_col = t.cols.first_pos[c];
    for (int64_t b = t.cols.begin[c]; b < t.cols.end[c]; ++b)
      visit(row[first_col + b * w.dilation_w]);
  }
}

void max_pool_plane(const Window2d& w, const PlaneTaps& t, const float* in, float* out) {
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    for (int64_t ow = 0; ow < w.out_w; ++ow) {
      float best = std::numeric_limits<float>::lowest();
      bool found = false;
      for_each_tap(w, t, in, oh, ow, [&](float v) {
        if (!found || v > best) best = v;
        found = true;
      });
      out[oh * w.out_w + ow] = best;
    }
  }
}

void average_pool_plane(const Window2d& w, const PlaneTaps& t, bool count_include_pad,
                        const float* in, float* out) {
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    const size_t r = static_cast<size_t>(oh);
    for (int64_t ow = 0; ow < w.out_w; ++ow) {
      const size_t c = static_cast<size_t>(ow);
      float sum = 0.0f;
      for_each_tap(w, t, in, oh, ow, [&](float v) { sum += v; });
      const int64_t count =
          count_include_pad ? t.rows.padded[r] * t.cols.padded[c]
                            : (t.rows.end[r] - t.rows.begin[r]) * (t.cols.end[c] - t.cols.begin[c]);
      out[oh * w.out_w + ow] = count > 0 ? sum / static_cast<float>(count) : 0.0f;
    }
  }
}

float plane_mean(const float* x, int64_t size) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= size; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) acc[j] += x[i + j];
  }
  for (; i < size; ++i) acc[i % kLanes] += x[i];
  float sum = 0.0f;
  for (float a : acc) sum += a;
  return sum / static_cast<float>(size);
}

// NaN propagates, as in the reference.
float plane_max(const float* x, int64_t size) {
  float acc[kLanes];
  std::fill(acc, acc + kLanes, x[0]);
  int64_t i = 0;
  for (; i + kLanes <= size; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) {
      const float v = x[i + j];
      acc[j] = v > acc[j] || v != v ? v : acc[j];
    }
  }
  for (; i < size; ++i)
    acc[i % kLanes] = x[i] > acc[i % kLanes] || x[i] != x[i] ? x[i] : acc[i % kLanes];
  float best = acc[0];
  for (float a : acc) best = a > best || a != a ? a : best;
  return best;
}

template <float (*Reduce)(const float*, int64_t)>
void global_pool(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t plane = shape_numel(spatial_dims(ctx, 0));
  if (plane == 0) ctx.fail_input(0, "shape {} has no spatial elements", shape_str(x.shape()));
  Shape out_shape(x.rank(), 1);
  out_shape[0] = x.dim(0);
  out_shape[1] = x.dim(1);
  const float* in = x.data<float>();
  float* out = ctx.make_output(0, DType::kFloat32, out_shape).data<float>();
  ctx.pool.parallel_for(
      x.dim(0) * x.dim(1),
      [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) out[p] = Reduce(in + p * plane, plane);
      },
      grain_for(plane));
}

}  // namespace

void max_pool(KernelContext& ctx) {
  if (!is_float_1d_or_2d(ctx) || ctx.num_outputs() > 1) return kernels::max_pool(ctx);
  const std::vector<int64_t> input = spatial_dims(ctx, 0);
  WindowOptions options;
  options.ceil_mode = ctx.node.attr_int("ceil_mode", 0) != 0;
  const Window win = resolve_window(ctx, input, read_kernel_shape(ctx, input.size(), {}), options);
  const Window2d w = Window2d::from(win);
  const PlaneTaps taps = plane_taps(w, win);
  for_each_plane(ctx, win, [&](const float* in, float* out) { max_pool_plane(w, taps, in, out); });
}

void average_pool(KernelContext& ctx) {
  if (!is_float_1d_or_2d(ctx)) return kernels::average_pool(ctx);
  const std::vector<int64_t> input = spatial_dims(ctx, 0);
  WindowOptions options;
  options.ceil_mode = ctx.node.attr_int("ceil_mode", 0) != 0;
  options.allow_dilations = ctx.opset >= 19;
  const Window win = resolve_window(ctx, input, read_kernel_shape(ctx, input.size(), {}), options);
  const Window2d w = Window2d::from(win);
  const PlaneTaps taps = plane_taps(w, win);
  const bool include_pad = ctx.node.attr_int("count_include_pad", 0) != 0;
  for_each_plane(ctx, win, [&](const float* in, float* out) {
    average_pool_plane(w, taps, include_pad, in, out);
  });
}

void global_average_pool(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::kFloat32) return kernels::global_average_pool(ctx);
  global_pool<plane_mean>(ctx);
}

void global_max_pool(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::kFloat32) return kernels::global_max_pool(ctx);
  global_pool<plane_max>(ctx);
}

}  // namespace lq::kernels::optimized
