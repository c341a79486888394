// ConvTranspose: every output element gathers the input taps that land on it.
#include "kernels/float/reference/conv_transpose.hpp"

#include "kernels/float/reference/nn_kernels.hpp"

namespace lq::kernels {

namespace {

int64_t floor_div2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

void check_operands(const KernelContext& ctx, ConvTransposeGeometry& g) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  if (w.rank() != x.rank()) {
    ctx.fail_input(1, "weight shape {} has rank {}, expected {} (C x M/group x kernel...)",
                   shape_str(w.shape()), w.rank(), x.rank());
  }
  if (w.dtype() != x.dtype()) {
    ctx.fail_input(1, "weight dtype {} differs from the input dtype {}", dtype_name(w.dtype()),
                   dtype_name(x.dtype()));
  }
  g.batch = x.dim(0);
  g.in_channels = x.dim(1);
  g.group = ctx.node.attr_int("group", 1);
  if (g.group < 1) ctx.fail(StatusCode::kInvalidModel, "group is {}, expected >= 1", g.group);
  if (w.dim(0) != g.in_channels || g.in_channels % g.group != 0) {
    ctx.fail_input(1,
                   "weight shape {} does not fit input {} with group {} (expected C = {} "
                   "divisible by group)",
                   shape_str(w.shape()), shape_str(x.shape()), g.group, g.in_channels);
  }
  g.out_channels = w.dim(1) * g.group;
  if (ctx.has_input(2)) {
    const Tensor& b = ctx.input(2);
    if (b.rank() != 1 || b.dim(0) != g.out_channels || b.dtype() != x.dtype()) {
      ctx.fail_input(2, "bias is {}{}, expected {}[{}]", dtype_name(b.dtype()),
                     shape_str(b.shape()), dtype_name(x.dtype()), g.out_channels);
    }
  }
}

// The requested spatial output size, or {} when output_shape is absent.
std::vector<int64_t> requested_output(const KernelContext& ctx, size_t rank) {
  std::vector<int64_t> out = ctx.node.attr_ints("output_shape");
  if (out.empty()) return out;
  if (out.size() == rank + 2) out.erase(out.begin(), out.begin() + 2);
  if (out.size() != rank) {
    ctx.fail(StatusCode::kInvalidModel, "output_shape has {} values, expected {}", out.size(),
             rank);
  }
  for (int64_t v : out) {
    if (v < 1)
      ctx.fail(StatusCode::kInvalidModel, "output_shape {} has a size < 1", shape_str(out));
  }
  return out;
}

void resolve_pads(const KernelContext& ctx, Window& w) {
  const size_t rank = w.rank();
  const std::vector<int64_t> output_padding = read_window_attr(ctx, "output_padding", rank, 0, 0);
  const AutoPad auto_pad = read_auto_pad(ctx);
  std::vector<int64_t> out = requested_output(ctx, rank);
  if (out.empty() && (auto_pad == AutoPad::kSameUpper || auto_pad == AutoPad::kSameLower)) {
    for (size_t i = 0; i < rank; ++i) out.push_back(w.input[i] * w.strides[i]);
  }
  const std::vector<int64_t> pads = read_window_attr(ctx, "pads", 2 * rank, 0, 0);
  w.output.assign(rank, 0);
  w.pads_begin.assign(rank, 0);
  w.pads_end.assign(rank, 0);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t full = w.strides[i] * (w.input[i] - 1) + output_padding[i] + w.span(i);
    if (!out.empty()) {
      // The spec's split, with Python's floor division for negative totals.
      const int64_t total = full - out[i];
      const int64_t half = floor_div2(total);
      w.pads_begin[i] = auto_pad == AutoPad::kSameUpper ? half : total - half;
      w.pads_end[i] = total - w.pads_begin[i];
      w.output[i] = out[i];
      continue;
    }
    if (auto_pad != AutoPad::kValid) {
      w.pads_begin[i] = pads[i];
      w.pads_end[i] = pads[rank + i];
    }
    w.output[i] = full - w.pads_begin[i] - w.pads_end[i];
    if (w.output[i] < 1) {
      ctx.fail(StatusCode::kInvalidModel, "pads {} leave no output along spatial axis {}",
               shape_str(pads), i);
    }
  }
}

}  // namespace

ConvTransposeGeometry resolve_conv_transpose(const KernelContext& ctx) {
  ConvTransposeGeometry g;
  const std::vector<int64_t> input = spatial_dims(ctx, 0);
  check_operands(ctx, g);
  const Shape& w_shape = ctx.input(1).shape();
  const std::vector<int64_t> from_weights(w_shape.begin() + 2, w_shape.end());
  for (int64_t k : from_weights) {
    if (k < 1) ctx.fail_input(1, "weight shape {} has an empty kernel", shape_str(w_shape));
  }
  Window& w = g.window;
  const size_t rank = input.size();
  w.input = input;
  w.kernel = read_kernel_shape(ctx, rank, from_weights);
  w.strides = read_window_attr(ctx, "strides", rank, 1, 1);
  w.dilations = read_window_attr(ctx, "dilations", rank, 1, 1);
  resolve_pads(ctx, w);
  g.output_shape = {g.batch, g.out_channels};
  g.output_shape.insert(g.output_shape.end(), w.output.begin(), w.output.end());
  return g;
}

namespace {

// Flat input offset that output `out_coords` reads through tap `k_coords`, or -1.
int64_t source_offset(const Window& win, const std::vector<int64_t>& out_coords,
                      const std::vector<int64_t>& k_coords) {
  int64_t offset = 0;
  for (size_t i = 0; i < win.rank(); ++i) {
    const int64_t scaled = out_coords[i] + win.pads_begin[i] - k_coords[i] * win.dilations[i];
    if (scaled < 0 || scaled % win.strides[i] != 0) return -1;
    const int64_t pos = scaled / win.strides[i];
    if (pos >= win.input[i]) return -1;
    offset = offset * win.input[i] + pos;
  }
  return offset;
}

template <typename T>
void conv_transpose_typed(KernelContext& ctx, const ConvTransposeGeometry& g) {
  const Window& win = g.window;
  const T* x = ctx.input(0).data<T>();
  const T* w = ctx.input(1).data<T>();
  const T* bias = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
  T* y = ctx.make_output(0, ctx.input(0).dtype(), g.output_shape).template data<T>();
  const int64_t in_size = shape_numel(win.input);
  const int64_t out_size = shape_numel(win.output);
  const int64_t kernel_size = shape_numel(win.kernel);
  const int64_t out_per_group = g.out_per_group();
  ctx.pool.parallel_for(g.batch * g.out_channels, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> out_coords(win.rank()), k_coords(win.rank());
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / g.out_channels;
      const int64_t m = plane % g.out_channels;
      const int64_t group = m / out_per_group;
      for (int64_t o = 0; o < out_size; ++o) {
        unravel_index(o, win.output, out_coords);
        T acc = bias ? bias[m] : T(0);
        for (int64_t c = group * g.in_per_group(); c < (group + 1) * g.in_per_group(); ++c) {
          const T* x_plane = x + (n * g.in_channels + c) * in_size;
          const T* w_kernel = w + (c * out_per_group + m % out_per_group) * kernel_size;
          for (int64_t k = 0; k < kernel_size; ++k) {
            unravel_index(k, win.kernel, k_coords);
            const int64_t offset = source_offset(win, out_coords, k_coords);
            if (offset >= 0) acc += x_plane[offset] * w_kernel[k];
          }
        }
        y[plane * out_size + o] = acc;
      }
    }
  });
}

}  // namespace

void conv_transpose(KernelContext& ctx) {
  ctx.require_dtype(0, {DType::kFloat32, DType::kFloat64});
  const ConvTransposeGeometry g = resolve_conv_transpose(ctx);
  if (ctx.input(0).dtype() == DType::kFloat64) {
    conv_transpose_typed<double>(ctx, g);
  } else {
    conv_transpose_typed<float>(ctx, g);
  }
}

}  // namespace lq::kernels
