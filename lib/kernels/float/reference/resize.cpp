#include <algorithm>
#include <cmath>

#include "kernels/float/reference/data_movement.hpp"
#include "kernels/float/reference/resize_interpolation.hpp"

namespace lq::kernels {

namespace {

// Bounds output lengths computed in double before they are converted to integers.
constexpr double kMaxResizedLength = 1e12;

InterpolationMode interpolation_mode(const KernelContext& ctx, bool allow_cubic) {
  const std::string mode = ctx.node.attr_string("mode", "nearest");
  if (mode == "nearest") return InterpolationMode::kNearest;
  if (mode == "linear") return InterpolationMode::kLinear;
  if (mode == "cubic" && allow_cubic) return InterpolationMode::kCubic;
  ctx.fail(StatusCode::kInvalidModel, "mode '{}' is not one of nearest, linear{}", mode,
           allow_cubic ? ", cubic" : " (cubic needs Resize from opset 11)");
}

CoordinateMode coordinate_mode(const KernelContext& ctx) {
  const std::string mode = ctx.node.attr_string("coordinate_transformation_mode", "half_pixel");
  if (mode == "half_pixel") return CoordinateMode::kHalfPixel;
  if (mode == "half_pixel_symmetric") return CoordinateMode::kHalfPixelSymmetric;
  if (mode == "pytorch_half_pixel") return CoordinateMode::kPytorchHalfPixel;
  if (mode == "align_corners") return CoordinateMode::kAlignCorners;
  if (mode == "asymmetric") return CoordinateMode::kAsymmetric;
  if (mode == "tf_crop_and_resize") return CoordinateMode::kTfCropAndResize;
  if (mode == "tf_half_pixel_for_nn" && ctx.opset < 13) return CoordinateMode::kTfHalfPixelForNn;
  ctx.fail(StatusCode::kInvalidModel,
           "coordinate_transformation_mode '{}' is not one of half_pixel, half_pixel_symmetric, "
           "pytorch_half_pixel, align_corners, asymmetric, tf_crop_and_resize{}",
           mode, ctx.opset < 13 ? ", tf_half_pixel_for_nn" : "");
}

NearestMode nearest_mode(const KernelContext& ctx) {
  const std::string mode = ctx.node.attr_string("nearest_mode", "round_prefer_floor");
  if (mode == "round_prefer_floor") return NearestMode::kRoundPreferFloor;
  if (mode == "round_prefer_ceil") return NearestMode::kRoundPreferCeil;
  if (mode == "floor") return NearestMode::kFloor;
  if (mode == "ceil") return NearestMode::kCeil;
  ctx.fail(StatusCode::kInvalidModel,
           "nearest_mode '{}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil",
           mode);
}

// An optional input that counts as absent when empty (opset 11 passes "no scales"
// as an empty tensor).
const Tensor* non_empty_input(const KernelContext& ctx, size_t index) {
  return ctx.has_input(index) && ctx.input(index).numel() > 0 ? &ctx.input(index) : nullptr;
}

// Output length floor(in * scale), computed in double as the reference does.
// `input` is where the scales came from, or -1 for Upsample-7's attribute.
void apply_scales(const KernelContext& ctx, int input, const std::vector<double>& scales,
                  const std::vector<int64_t>& axes, ResizeSpec& spec) {
  auto fail = [&](const std::string& message) {
    if (input < 0) ctx.fail(StatusCode::kInvalidModel, "attribute scales: {}", message);
    ctx.fail_input(static_cast<size_t>(input), "{}", message);
  };
  if (scales.size() != axes.size()) {
    fail(fmt::format("{} scales given for {} axes", scales.size(), axes.size()));
  }
  const Shape& in = ctx.input(0).shape();
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto axis = static_cast<size_t>(axes[i]);
    if (!(scales[i] > 0) || !std::isfinite(scales[i])) {
      fail(fmt::format("scale {} of axis {} must be positive and finite", scales[i], axis));
    }
    const double length = std::floor(static_cast<double>(in[axis]) * scales[i]);
    if (length > kMaxResizedLength) {
      fail(fmt::format("scale {} makes axis {} of length {} too long", scales[i], axis, in[axis]));
    }
    spec.scales[axis] = scales[i];
    spec.out_shape[axis] = static_cast<int64_t>(length);
  }
}

// Opset 18's keep_aspect_ratio_policy: "stretch" takes the sizes as they are; the
// others scale every resized axis by the same factor, the smallest (not_larger) or
// largest (not_smaller) of size / in, and round the lengths half up.
void apply_sizes(const KernelContext& ctx, const std::vector<int64_t>& sizes,
                 const std::vector<int64_t>& axes, ResizeSpec& spec) {
  if (sizes.size() != axes.size()) {
    ctx.fail_input(3, "{} sizes given for {} axes", sizes.size(), axes.size());
  }
  const Shape& in = ctx.input(0).shape();
  const std::string policy =
      ctx.opset >= 18 ? ctx.node.attr_string("keep_aspect_ratio_policy", "stretch") : "stretch";
  if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller") {
    ctx.fail(StatusCode::kInvalidModel,
             "keep_aspect_ratio_policy '{}' is not one of stretch, not_larger, not_smaller",
             policy);
  }
  std::vector<double> ratios;
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto axis = static_cast<size_t>(axes[i]);
    if (sizes[i] < 0) ctx.fail_input(3, "size {} of axis {} is negative", sizes[i], axis);
    ratios.push_back(in[axis] == 0 ? 1.0
                                   : static_cast<double>(sizes[i]) / static_cast<double>(in[axis]));
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto axis = static_cast<size_t>(axes[i]);
    if (policy == "stretch") {
      spec.scales[axis] = ratios[i];
      spec.out_shape[axis] = sizes[i];
      continue;
    }
    const double scale = policy == "not_larger" ? *std::min_element(ratios.begin(), ratios.end())
                                                : *std::max_element(ratios.begin(), ratios.end());
    const double length = scale * static_cast<double>(in[axis]) + 0.5;
    if (length > kMaxResizedLength) {
      ctx.fail_input(3, "sizes {} make axis {} too long under {}", shape_str(sizes), axis, policy);
    }
    spec.scales[axis] = scale;
    spec.out_shape[axis] = static_cast<int64_t>(length);
  }
}

// roi is [starts..., ends...] over the resized axes; only tf_crop_and_resize reads it.
void apply_roi(const KernelContext& ctx, const std::vector<int64_t>& axes, ResizeSpec& spec) {
  if (spec.coordinates != CoordinateMode::kTfCropAndResize) return;
  const Tensor* roi = non_empty_input(ctx, 1);
  if (roi == nullptr) ctx.fail(StatusCode::kInvalidModel, "tf_crop_and_resize needs the roi input");
  const std::vector<double> values = roi->to_doubles();
  if (values.size() != 2 * axes.size()) {
    ctx.fail_input(1, "roi holds {} values, expected 2 x {} (starts, then ends)", values.size(),
                   axes.size());
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    spec.roi_start[static_cast<size_t>(axes[i])] = values[i];
    spec.roi_end[static_cast<size_t>(axes[i])] = values[i + axes.size()];
  }
}

// Axes the scales / sizes / roi refer to: the `axes` attribute of opset 18, else all.
std::vector<int64_t> resized_axes(const KernelContext& ctx, int64_t rank) {
  std::vector<int64_t> axes;
  if (ctx.opset >= 18 && ctx.node.has_attr("axes")) {
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t axis : ctx.node.attr_ints("axes")) {
      axes.push_back(normalize_axis(ctx, axis, rank, "axis"));
      if (seen[static_cast<size_t>(axes.back())]) {
        ctx.fail(StatusCode::kInvalidModel, "axis {} appears twice in axes", axis);
      }
      seen[static_cast<size_t>(axes.back())] = true;
    }
    return axes;
  }
  for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  return axes;
}

// Defaults: every axis unchanged (scale 1, full region of interest).
ResizeSpec identity_spec(const Tensor& in) {
  ResizeSpec spec;
  spec.out_shape = in.shape();
  spec.scales.assign(in.rank(), 1.0);
  spec.roi_start.assign(in.rank(), 0.0);
  spec.roi_end.assign(in.rank(), 1.0);
  return spec;
}

// Resize 10 and Upsample: scales only, and the behaviour the ONNX version converter
// gives them in opset 11 terms: asymmetric coordinates, nearest rounds down.
ResizeSpec legacy_spec(const KernelContext& ctx, const std::vector<double>& scales,
                       int scales_input, bool upsample) {
  const Tensor& in = ctx.input(0);
  ResizeSpec spec = identity_spec(in);
  spec.mode = interpolation_mode(ctx, false);
  spec.coordinates = CoordinateMode::kAsymmetric;
  spec.nearest = NearestMode::kFloor;
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < static_cast<int64_t>(in.rank()); ++d) axes.push_back(d);
  for (double scale : scales) {
    if (upsample && scale < 1.0) {
      ctx.fail(StatusCode::kInvalidArgument, "Upsample scale {} is below 1", scale);
    }
  }
  apply_scales(ctx, scales_input, scales, axes, spec);
  return spec;
}

}  // namespace

void resize(KernelContext& ctx) {
  if (ctx.opset < 11) {
    run_resize(ctx, legacy_spec(ctx, ctx.input(1).to_doubles(), 1, false));
    return;
  }
  const Tensor& in = ctx.input(0);
  if (ctx.opset >= 18 && ctx.node.attr_int("antialias", 0) != 0) {
    ctx.fail(StatusCode::kUnsupported, "antialias = 1 is not supported");
  }
  ResizeSpec spec = identity_spec(in);
  spec.mode = interpolation_mode(ctx, true);
  spec.coordinates = coordinate_mode(ctx);
  spec.nearest = nearest_mode(ctx);
  spec.cubic_coeff_a = ctx.node.attr_float("cubic_coeff_a", -0.75f);
  spec.exclude_outside = ctx.node.attr_int("exclude_outside", 0) != 0;
  spec.extrapolation_value = ctx.node.attr_float("extrapolation_value", 0.0f);
  const std::vector<int64_t> axes = resized_axes(ctx, static_cast<int64_t>(in.rank()));
  const Tensor* scales = non_empty_input(ctx, 2);
  const Tensor* sizes = non_empty_input(ctx, 3);
  if ((scales == nullptr) == (sizes == nullptr)) {
    ctx.fail(StatusCode::kInvalidModel,
             "exactly one of scales (input 2) and sizes (input 3) must "
             "be given and non-empty");
  }
  if (scales != nullptr) {
    apply_scales(ctx, 2, scales->to_doubles(), axes, spec);
  } else {
    ctx.require_dtype(3, {DType::kInt64});
    apply_sizes(ctx, sizes->to_int64s(), axes, spec);
  }
  apply_roi(ctx, axes, spec);
  run_resize(ctx, spec);
}

// Upsample: scales is an attribute in opset 7 and input 1 from opset 9.
void upsample(KernelContext& ctx) {
  if (ctx.opset < 9) {
    if (!ctx.node.has_attr("scales"))
      ctx.fail(StatusCode::kInvalidModel, "attribute scales is missing");
    const std::vector<float> scales = ctx.node.attr_floats("scales");
    run_resize(ctx, legacy_spec(ctx, std::vector<double>(scales.begin(), scales.end()), -1, true));
    return;
  }
  run_resize(ctx, legacy_spec(ctx, ctx.input(1).to_doubles(), 1, true));
}

}  // namespace lq::kernels
