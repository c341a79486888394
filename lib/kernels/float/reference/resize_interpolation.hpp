// The interpolation behind Resize (opsets 10-18) and Upsample (7, 9): the ops parse
// their inputs and attributes into a ResizeSpec, run_resize does the rest.
#pragma once

#include <vector>

#include "kernels/float/kernel.hpp"

namespace lq::kernels {

enum class InterpolationMode { kNearest, kLinear, kCubic };

enum class CoordinateMode {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,  // opset 11 only
  kTfCropAndResize,
};

enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeSpec {
  InterpolationMode mode = InterpolationMode::kNearest;
  CoordinateMode coordinates = CoordinateMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  double cubic_coeff_a = -0.75;
  bool exclude_outside = false;
  double extrapolation_value = 0.0;
  Shape out_shape;
  // Per axis of the input: the scale of the coordinate transform (the given scale,
  // or the output / input length when sizes were given) and the region of interest
  // (tf_crop_and_resize only).
  std::vector<double> scales;
  std::vector<double> roi_start;
  std::vector<double> roi_end;
};

// Computes ctx.outputs[0] from input 0. Nearest moves elements of any dtype; linear
// and cubic compute in float32 (float64 for float64 data) and convert back.
void run_resize(KernelContext& ctx, const ResizeSpec& spec);

}  // namespace lq::kernels
