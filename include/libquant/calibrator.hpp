// Calibration inputs. Pictures are turned into model inputs by a declared
// preprocessing, the same one used for calibration and for evaluation.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "libquant/export.hpp"
#include "libquant/tensor.hpp"

namespace lq {

enum class ColorOrder : uint8_t { kRGB, kBGR, kGray };
enum class Layout : uint8_t { kNCHW, kNHWC };
enum class ResizeMode : uint8_t {
  kNone,           // keep the picture's size
  kStretch,        // bilinear to exactly height x width
  kFitHeightPad,   // height fixed, width by aspect ratio up to `width`, padded on the right
                   // (PP-OCR text lines)
};

struct ImagePreprocess {
  int64_t height = 0;
  int64_t width = 0;
  ResizeMode resize = ResizeMode::kStretch;
  ColorOrder color = ColorOrder::kRGB;
  Layout layout = Layout::kNCHW;
  // Per channel, in the output's channel order: value = (pixel - mean) * scale, pixel in [0, 255].
  std::array<float, 3> mean = {0.0f, 0.0f, 0.0f};
  std::array<float, 3> scale = {1.0f, 1.0f, 1.0f};
  float pad_value = 0.0f;  // after normalization
};

// Decodes a PNG/JPEG/BMP file and returns a float32 tensor [1,C,H,W] (or [1,H,W,C]).
LQ_EXPORT Tensor load_image(const std::string& path, const ImagePreprocess& preprocess);

}  // namespace lq
