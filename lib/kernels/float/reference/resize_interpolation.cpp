#include "kernels/float/reference/resize_interpolation.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

// How one output coordinate along one axis reads the input: `taps` (index, weight)
// pairs, or the extrapolation value when tf_crop_and_resize maps it outside.
struct AxisTaps {
  int taps = 1;
  std::vector<int64_t> index;  // out_len * taps, clamped into [0, in_len - 1]
  std::vector<double> weight;  // out_len * taps
  std::vector<bool> outside;   // out_len
  bool identity = false;       // out[x] = in[x] for every x
};

// The input coordinate that output coordinate x maps to. Like the ONNX reference,
// align_corners and tf_crop_and_resize use the fractional resized length
// scale * in_len, which differs from out_len when scales were given.
double source_coordinate(const ResizeSpec& spec, size_t axis, int64_t x, int64_t in_len,
                         int64_t out_len) {
  const double scale = spec.scales[axis];
  const double resized = scale * static_cast<double>(in_len);
  const auto xd = static_cast<double>(x);
  const double last = static_cast<double>(in_len - 1);
  switch (spec.coordinates) {
    case CoordinateMode::kHalfPixel:
      return (xd + 0.5) / scale - 0.5;
    case CoordinateMode::kHalfPixelSymmetric: {
      // Keeps the centers of input and output aligned when out_len was rounded.
      const double adjustment = static_cast<double>(out_len) / resized;
      const double offset = static_cast<double>(in_len) / 2.0 * (1.0 - adjustment);
      return offset + (xd + 0.5) / scale - 0.5;
    }
    case CoordinateMode::kPytorchHalfPixel:
      return out_len > 1 ? (xd + 0.5) / scale - 0.5 : 0.0;
    case CoordinateMode::kAlignCorners:
      return resized == 1.0 ? 0.0 : xd * last / (resized - 1.0);
    case CoordinateMode::kAsymmetric:
      return xd / scale;
    case CoordinateMode::kTfHalfPixelForNn:
      return (xd + 0.5) / scale;
    case CoordinateMode::kTfCropAndResize: {
      const double start = spec.roi_start[axis];
      const double end = spec.roi_end[axis];
      if (resized == 1.0) return 0.5 * (start + end) * last;
      return start * last + xd * (end - start) * last / (resized - 1.0);
    }
  }
  return 0.0;
}

int64_t nearest_index(double x, NearestMode mode) {
  const double floor = std::floor(x);
  const double ratio = x - floor;
  if (ratio == 0.0) return static_cast<int64_t>(floor);
  bool up = false;
  switch (mode) {
    case NearestMode::kRoundPreferFloor:
      up = ratio > 0.5;
      break;
    case NearestMode::kRoundPreferCeil:
      up = ratio >= 0.5;
      break;
    case NearestMode::kFloor:
      up = false;
      break;
    case NearestMode::kCeil:
      up = true;
      break;
  }
  return static_cast<int64_t>(floor) + (up ? 1 : 0);
}

// Keys' cubic convolution weights of the 4 neighbours floor(x) - 1 .. floor(x) + 2
// for the fractional part `r` (Equation 4 of Keys 1981, coefficient a).
void cubic_weights(double r, double a, double* w) {
  auto far = [a](double t) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; };  // 1 <= t < 2
  auto near = [a](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };       // t < 1
  w[0] = far(r + 1);
  w[1] = near(r);
  w[2] = near(1 - r);
  w[3] = far(2 - r);
}

AxisTaps axis_taps(const ResizeSpec& spec, size_t axis, int64_t in_len, int64_t out_len) {
  AxisTaps a;
  a.taps = spec.mode == InterpolationMode::kNearest  ? 1
           : spec.mode == InterpolationMode::kLinear ? 2
                                                     : 4;
  const auto taps = static_cast<size_t>(a.taps);
  a.index.assign(static_cast<size_t>(out_len) * taps, 0);
  a.weight.assign(static_cast<size_t>(out_len) * taps, 0.0);
  a.outside.assign(static_cast<size_t>(out_len), false);
  for (int64_t x = 0; x < out_len; ++x) {
    const double source = source_coordinate(spec, axis, x, in_len, out_len);
    const size_t at = static_cast<size_t>(x) * taps;
    // Written to also catch a NaN from a NaN region of interest.
    if (spec.coordinates == CoordinateMode::kTfCropAndResize &&
        !(source >= 0 && source <= static_cast<double>(in_len - 1))) {
      a.outside[static_cast<size_t>(x)] = true;
      continue;
    }
    int64_t* index = &a.index[at];
    double* weight = &a.weight[at];
    const auto base = static_cast<int64_t>(std::floor(source));
    const double ratio = source - std::floor(source);
    if (spec.mode == InterpolationMode::kNearest) {
      index[0] = nearest_index(source, spec.nearest);
      weight[0] = 1.0;
    } else if (spec.mode == InterpolationMode::kLinear) {
      index[0] = base;
      index[1] = base + 1;
      weight[0] = 1.0 - ratio;
      weight[1] = ratio;
    } else {
      for (size_t t = 0; t < 4; ++t) index[t] = base - 1 + static_cast<int64_t>(t);
      cubic_weights(ratio, spec.cubic_coeff_a, weight);
    }
    if (spec.exclude_outside) {
      double total = 0.0;
      for (size_t t = 0; t < taps; ++t) {
        if (index[t] < 0 || index[t] >= in_len) weight[t] = 0.0;
        total += weight[t];
      }
      // Nothing inside (a coordinate far outside the input): keep the edge values.
      for (size_t t = 0; t < taps && total != 0.0; ++t) weight[t] /= total;
    }
    // Clamping reads the edge element, as the reference's edge padding does.
    for (size_t t = 0; t < taps; ++t) index[t] = std::clamp<int64_t>(index[t], 0, in_len - 1);
  }
  a.identity = in_len == out_len;
  for (int64_t x = 0; a.identity && x < out_len; ++x) {
    const size_t at = static_cast<size_t>(x) * taps;
    a.identity = !a.outside[static_cast<size_t>(x)];
    double on_x = 0.0;
    for (size_t t = 0; t < taps && a.identity; ++t) {
      if (a.index[at + t] == x) {
        on_x += a.weight[at + t];
      } else {
        a.identity = a.weight[at + t] == 0.0;
      }
    }
    a.identity = a.identity && on_x == 1.0;
  }
  if (a.identity) {
    a.taps = 1;
    for (int64_t x = 0; x < out_len; ++x) a.index[static_cast<size_t>(x)] = x;
    a.index.resize(static_cast<size_t>(out_len));
    a.weight.assign(static_cast<size_t>(out_len), 1.0);
  }
  return a;
}

void resize_nearest(KernelContext& ctx, const ResizeSpec& spec, const std::vector<AxisTaps>& axes,
                    Tensor& out) {
  const Tensor& in = ctx.input(0);
  const std::vector<int64_t> strides = row_major_strides(in.shape());
  std::vector<std::vector<int64_t>> offsets(axes.size());
  for (size_t d = 0; d < axes.size(); ++d) {
    for (size_t x = 0; x < axes[d].outside.size(); ++x) {
      offsets[d].push_back(axes[d].outside[x] ? kFillOffset : axes[d].index[x] * strides[d]);
    }
  }
  const std::vector<uint8_t> fill = element_bytes(in.dtype(), spec.extrapolation_value);
  gather_by_axis_offsets(ctx, in, offsets, out, fill.data());
}

// One axis' taps with weights in the compute type.
template <typename T>
struct TypedTaps {
  explicit TypedTaps(const AxisTaps& a)
      : taps(a.taps),
        index(a.index),
        weight(a.weight.begin(), a.weight.end()),
        outside(a.outside) {}
  int taps;
  const std::vector<int64_t>& index;
  std::vector<T> weight;
  const std::vector<bool>& outside;
};

// Input rows resampled along the width, kept for the next output rows: upsampling
// reads each input row for several output rows, and the rows one output row needs
// are close to those of the previous one, so a few slots reused in turn suffice.
template <typename T>
class ResampledRows {
 public:
  ResampledRows(const TypedTaps<T>& cols, int64_t in_w, int64_t out_w, int row_taps)
      : cols_(cols),
        in_w_(in_w),
        out_w_(out_w),
        sources_(static_cast<size_t>(2 * row_taps), nullptr),
        data_(sources_.size() * static_cast<size_t>(out_w)) {}

  // Row `row` of the plane at `plane`, resampled to out_w (0 at outside columns).
  // Valid until the next call.
  const T* get(const T* plane, int64_t row) {
    const T* source = plane + row * in_w_;
    for (size_t slot = 0; slot < sources_.size(); ++slot) {
      if (sources_[slot] == source) return &data_[slot * static_cast<size_t>(out_w_)];
    }
    const size_t slot = next_slot_;
    next_slot_ = (next_slot_ + 1) % sources_.size();
    sources_[slot] = source;
    T* out = &data_[slot * static_cast<size_t>(out_w_)];
    switch (cols_.taps) {
      case 1:
        resample<1>(source, out);
        break;
      case 2:
        resample<2>(source, out);
        break;
      default:
        resample<4>(source, out);
        break;
    }
    return out;
  }

 private:
  template <int kTaps>
  void resample(const T* line, T* out) const {
    for (int64_t x = 0; x < out_w_; ++x) {
      const int64_t* index = &cols_.index[static_cast<size_t>(x) * kTaps];
      const T* weight = &cols_.weight[static_cast<size_t>(x) * kTaps];
      T sum = 0;
      for (int t = 0; t < kTaps; ++t) sum += weight[t] * line[index[t]];
      out[x] = cols_.outside[static_cast<size_t>(x)] ? T(0) : sum;
    }
  }

  const TypedTaps<T>& cols_;
  int64_t in_w_;
  int64_t out_w_;
  std::vector<const T*> sources_;
  std::vector<T> data_;
  size_t next_slot_ = 0;
};

// The common case (NCHW and the like): only the last two axes change. Each output
// row is a weighted sum of a few input rows resampled along the width; every output
// element is computed the same way whatever the chunking, so results do not depend
// on the thread count.
template <typename T>
void interpolate_planes(ThreadPool& pool, const Tensor& in, const std::vector<AxisTaps>& axes,
                        T extrapolation, Tensor& out) {
  const size_t rank = in.rank();
  const int64_t in_h = in.dim(rank - 2), in_w = in.dim(rank - 1);
  const int64_t out_h = out.dim(rank - 2), out_w = out.dim(rank - 1);
  const TypedTaps<T> rows(axes[rank - 2]);
  const TypedTaps<T> cols(axes[rank - 1]);
  std::vector<int64_t> outside_columns;
  for (int64_t x = 0; x < out_w; ++x) {
    if (cols.outside[static_cast<size_t>(x)]) outside_columns.push_back(x);
  }
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  const int64_t planes = out.numel() / (out_h * out_w);
  const int64_t grain = std::max<int64_t>(1, 16384 / out_w);
  pool.parallel_for(
      planes * out_h,
      [&](int64_t begin, int64_t end) {
        ResampledRows<T> resampled(cols, in_w, out_w, rows.taps);
        for (int64_t item = begin; item < end; ++item) {
          const int64_t y = item % out_h;
          T* line = dst + item * out_w;
          if (rows.outside[static_cast<size_t>(y)]) {
            std::fill(line, line + out_w, extrapolation);
            continue;
          }
          const T* plane = src + item / out_h * in_h * in_w;
          const auto at = static_cast<size_t>(y * rows.taps);
          for (int r = 0; r < rows.taps; ++r) {
            const T* h = resampled.get(plane, rows.index[at + static_cast<size_t>(r)]);
            const T w = rows.weight[at + static_cast<size_t>(r)];
            if (r == 0) {
              for (int64_t x = 0; x < out_w; ++x) line[x] = w * h[x];
            } else {
              for (int64_t x = 0; x < out_w; ++x) line[x] += w * h[x];
            }
          }
          for (int64_t x : outside_columns) line[x] = extrapolation;
        }
      },
      grain);
}

// Any axes: each output element sums over every combination of its axes' taps.
template <typename T>
void interpolate_general(ThreadPool& pool, const Tensor& in, const std::vector<AxisTaps>& axes,
                         T extrapolation, Tensor& out) {
  const size_t rank = in.rank();
  std::vector<TypedTaps<T>> typed;
  for (const AxisTaps& a : axes) typed.emplace_back(a);
  const std::vector<int64_t> strides = row_major_strides(in.shape());
  const Shape& out_shape = out.shape();
  int64_t combinations = 1;
  for (const AxisTaps& a : axes) combinations *= a.taps;
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  pool.parallel_for(
      out.numel(),
      [&](int64_t begin, int64_t end) {
        std::vector<size_t> at(rank);
        for (int64_t i = begin; i < end; ++i) {
          bool outside = false;
          int64_t rest = i;
          for (size_t d = rank; d-- > 0;) {
            const auto x = static_cast<size_t>(rest % out_shape[d]);
            rest /= out_shape[d];
            outside = outside || typed[d].outside[x];
            at[d] = x * static_cast<size_t>(typed[d].taps);
          }
          if (outside) {
            dst[i] = extrapolation;
            continue;
          }
          T sum = 0;
          for (int64_t c = 0; c < combinations; ++c) {
            int64_t code = c;
            int64_t offset = 0;
            T weight = 1;
            for (size_t d = rank; d-- > 0;) {
              const size_t tap = at[d] + static_cast<size_t>(code % typed[d].taps);
              code /= typed[d].taps;
              offset += typed[d].index[tap] * strides[d];
              weight *= typed[d].weight[tap];
            }
            sum += weight * src[offset];
          }
          dst[i] = sum;
        }
      },
      256);
}

template <typename T>
void interpolate(ThreadPool& pool, const Tensor& in, const std::vector<AxisTaps>& axes,
                 double extrapolation, Tensor& out) {
  const size_t rank = in.rank();
  bool planar = rank >= 2;
  for (size_t d = 0; planar && d + 2 < rank; ++d) planar = axes[d].identity;
  if (planar) {
    interpolate_planes<T>(pool, in, axes, static_cast<T>(extrapolation), out);
  } else {
    interpolate_general<T>(pool, in, axes, static_cast<T>(extrapolation), out);
  }
}

}  // namespace

void run_resize(KernelContext& ctx, const ResizeSpec& spec) {
  const Tensor& in = ctx.input(0);
  for (size_t d = 0; d < in.rank(); ++d) {
    if (in.dim(d) == 0 && spec.out_shape[d] > 0) {
      ctx.fail_input(0, "axis {} is empty and cannot be resized to {}", d, spec.out_shape[d]);
    }
  }
  Tensor& out = ctx.make_output(0, in.dtype(), spec.out_shape);
  if (out.numel() == 0) return;
  std::vector<AxisTaps> axes;
  for (size_t d = 0; d < in.rank(); ++d) {
    axes.push_back(axis_taps(spec, d, in.dim(d), spec.out_shape[d]));
  }
  if (spec.mode == InterpolationMode::kNearest) {
    resize_nearest(ctx, spec, axes, out);
  } else if (in.dtype() == DType::kFloat32) {
    interpolate<float>(ctx.pool, in, axes, spec.extrapolation_value, out);
  } else if (in.dtype() == DType::kFloat64) {
    interpolate<double>(ctx.pool, in, axes, spec.extrapolation_value, out);
  } else if (in.dtype() == DType::kBool) {
    ctx.fail_input(0, "bool data can only be resized in nearest mode");
  } else {
    // Other dtypes interpolate in float32; the conversion back truncates like the
    // reference's astype.
    const Tensor in_float = in.cast(DType::kFloat32);
    Tensor out_float(DType::kFloat32, spec.out_shape);
    interpolate<float>(ctx.pool, in_float, axes, spec.extrapolation_value, out_float);
    out = out_float.cast(in.dtype());
  }
}

}  // namespace lq::kernels
