#include <fmt/format.h>
#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include "libquant/calibrator.hpp"

namespace lq {

namespace {

struct Picture {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<float> pixels;  // HWC, [0, 255]
};

// Pictures larger than this many pixels are refused before decoding (a header may claim
// 65535 x 65535); calibration inputs are a few megapixels at most.
constexpr int64_t kMaxPixels = int64_t{1} << 26;

// stb_image trusts a PNG chunk's declared length when it gathers the compressed data (up to
// 2^30 bytes allocated from a 200-byte file), so the chunks are walked first: each must fit
// in what the file holds.
void check_png_chunks(const stbi_uc* bytes, size_t size, const std::string& context) {
  static const stbi_uc kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size < 8 || std::memcmp(bytes, kSignature, 8) != 0) return;
  size_t at = 8;
  while (at + 12 <= size) {
    const uint64_t length = (uint64_t{bytes[at]} << 24) | (uint64_t{bytes[at + 1]} << 16) |
                            (uint64_t{bytes[at + 2]} << 8) | uint64_t{bytes[at + 3]};
    if (length > size - at - 12) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("cannot read image '{}': PNG chunk at byte {} declares {} bytes, the file "
                              "holds {} more (truncated or damaged)", context, at, length, size - at - 12));
    }
    if (std::memcmp(bytes + at + 4, "IEND", 4) == 0) return;
    at += 12 + static_cast<size_t>(length);
  }
}

Picture decode(const stbi_uc* bytes, size_t size, int channels, const std::string& context) {
  check_png_chunks(bytes, size, context);
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("image '{}': {} bytes is too large", context, size));
  }
  const int length = static_cast<int>(size);
  int width = 0, height = 0, in_file = 0;
  if (stbi_info_from_memory(bytes, length, &width, &height, &in_file) &&
      static_cast<int64_t>(width) * height > kMaxPixels) {
    throw Error(StatusCode::kResourceExhausted,
                fmt::format("image '{}': {} x {} pixels exceeds the limit of {} pixels", context, width,
                            height, kMaxPixels));
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> data(
      stbi_load_from_memory(bytes, length, &width, &height, &in_file, channels), stbi_image_free);
  if (!data || width <= 0 || height <= 0) {
    const char* reason = stbi_failure_reason();
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("cannot read image '{}': {} (PNG, JPEG and BMP are supported)", context,
                            reason ? reason : "unknown error"));
  }
  Picture p{width, height, channels, {}};
  const size_t n = static_cast<size_t>(width) * static_cast<size_t>(height) * static_cast<size_t>(channels);
  p.pixels.assign(data.get(), data.get() + n);
  return p;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(StatusCode::kNotFound, fmt::format("cannot read image '{}': cannot open the file", path));
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Bilinear with half-pixel centers (as OpenCV's INTER_LINEAR and PIL's bilinear upscaling).
Picture resize_bilinear(const Picture& in, int width, int height) {
  Picture out{width, height, in.channels, std::vector<float>(static_cast<size_t>(width) * height * in.channels)};
  const float sy = static_cast<float>(in.height) / height;
  const float sx = static_cast<float>(in.width) / width;
  for (int y = 0; y < height; ++y) {
    const float fy = std::max(0.0f, (y + 0.5f) * sy - 0.5f);
    const int y0 = std::min(static_cast<int>(fy), in.height - 1);
    const int y1 = std::min(y0 + 1, in.height - 1);
    const float wy = fy - y0;
    for (int x = 0; x < width; ++x) {
      const float fx = std::max(0.0f, (x + 0.5f) * sx - 0.5f);
      const int x0 = std::min(static_cast<int>(fx), in.width - 1);
      const int x1 = std::min(x0 + 1, in.width - 1);
      const float wx = fx - x0;
      for (int c = 0; c < in.channels; ++c) {
        auto at = [&](int yy, int xx) { return in.pixels[(static_cast<size_t>(yy) * in.width + xx) * in.channels + c]; };
        const float top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * wx;
        const float bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * wx;
        out.pixels[(static_cast<size_t>(y) * width + x) * in.channels + c] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

Tensor decode_image_normalized(const void* bytes, size_t size, const ImagePreprocess& pre, const std::string& path);

}  // namespace

Tensor load_image(const std::string& path, const ImagePreprocess& pre) {
  const std::string bytes = read_file_bytes(path);
  return decode_image(bytes.data(), bytes.size(), pre, path);
}

namespace {

// RGB pixels in [0, 255] -> BT.601 YUV (full or video range), unrounded.
std::array<float, 3> rgb_to_yuv(float r, float g, float b, YuvRange range) {
  const float y = 0.299f * r + 0.587f * g + 0.114f * b;
  const float u = (b - y) / 1.772f;
  const float v = (r - y) / 1.402f;
  if (range == YuvRange::kVideo) return {16.0f + y * 219.0f / 255.0f, 128.0f + u * 224.0f / 255.0f, 128.0f + v * 224.0f / 255.0f};
  return {y, 128.0f + u, 128.0f + v};
}

float pixel_code(float v) { return std::clamp(std::nearbyint(v), 0.0f, 255.0f); }

// The picture (HWC RGB, out_w wide with `content` columns of picture) as raw pixels of a
// runtime format.
Tensor encode_raw(const Picture& pic, int64_t out_h, int64_t out_w, const ImagePreprocess& pre,
                  const std::string& path) {
  const PixelFormat f = pre.format;
  auto rgb = [&](int64_t y, int64_t x, int c) {
    return x < pic.width ? pic.pixels[(static_cast<size_t>(y) * pic.width + static_cast<size_t>(x)) * 3 + c] : 0.0f;
  };
  if (f == PixelFormat::kNV12) {
    if (out_h % 2 != 0 || out_w % 2 != 0) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("image '{}': nv12 needs an even height and width, got {}x{}", path, out_h, out_w));
    }
    Tensor t(DType::kFloat32, {1, out_h * 3 / 2, out_w});
    float* dst = t.data<float>();
    for (int64_t y = 0; y < out_h; y += 2) {
      for (int64_t x = 0; x < out_w; x += 2) {
        float u = 0.0f, v = 0.0f;
        for (int64_t dy = 0; dy < 2; ++dy) {
          for (int64_t dx = 0; dx < 2; ++dx) {
            const auto yuv = rgb_to_yuv(rgb(y + dy, x + dx, 0), rgb(y + dy, x + dx, 1), rgb(y + dy, x + dx, 2), pre.range);
            dst[(y + dy) * out_w + x + dx] = pixel_code(yuv[0]);
            u += yuv[1] / 4.0f;
            v += yuv[2] / 4.0f;
          }
        }
        float* uv = dst + out_h * out_w + (y / 2) * out_w + x;
        uv[0] = pixel_code(u);
        uv[1] = pixel_code(v);
      }
    }
    return t;
  }
  const int channels = f == PixelFormat::kGray ? 1 : 3;
  const bool nchw = pre.layout == Layout::kNCHW;
  Tensor t(DType::kFloat32, nchw ? Shape{1, channels, out_h, out_w} : Shape{1, out_h, out_w, channels});
  float* dst = t.data<float>();
  for (int64_t y = 0; y < out_h; ++y) {
    for (int64_t x = 0; x < out_w; ++x) {
      const float r = rgb(y, x, 0), g = rgb(y, x, 1), b = rgb(y, x, 2);
      std::array<float, 3> px = {r, g, b};
      if (f == PixelFormat::kBGR) px = {b, g, r};
      if (f == PixelFormat::kGray) px = {0.299f * r + 0.587f * g + 0.114f * b, 0.0f, 0.0f};
      if (f == PixelFormat::kYUV444) px = rgb_to_yuv(r, g, b, pre.range);
      for (int c = 0; c < channels; ++c) {
        const int64_t index = nchw ? (c * out_h + y) * out_w + x : (y * out_w + x) * channels + c;
        dst[index] = pixel_code(px[static_cast<size_t>(c)]);
      }
    }
  }
  return t;
}

}  // namespace

Tensor decode_image(const void* bytes, size_t size, const ImagePreprocess& pre, const std::string& path) {
  if (pre.format == PixelFormat::kFeatureMap) return decode_image_normalized(bytes, size, pre, path);
  Picture pic = decode(static_cast<const stbi_uc*>(bytes), size, 3, path);
  int64_t out_h = pic.height, out_w = pic.width;
  if (pre.resize != ResizeMode::kNone) {
    if (pre.height <= 0 || pre.width <= 0) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("image '{}': preprocessing needs a target height and width", path));
    }
    out_h = pre.height;
    out_w = pre.width;
    const double aspect = static_cast<double>(pic.width) / pic.height;
    const int content_w = pre.resize == ResizeMode::kStretch
                              ? static_cast<int>(out_w)
                              : static_cast<int>(std::min<double>(out_w, std::ceil(out_h * aspect)));
    pic = resize_bilinear(pic, std::max(content_w, 1), static_cast<int>(out_h));
  }
  return encode_raw(pic, out_h, out_w, pre, path);
}

namespace {

Tensor decode_image_normalized(const void* bytes, size_t size, const ImagePreprocess& pre, const std::string& path) {
  const int channels = pre.color == ColorOrder::kGray ? 1 : 3;
  Picture pic = decode(static_cast<const stbi_uc*>(bytes), size, channels, path);
  int64_t out_h = pic.height, out_w = pic.width;
  int content_w = pic.width;
  if (pre.resize != ResizeMode::kNone) {
    if (pre.height <= 0 || pre.width <= 0) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("image '{}': preprocessing needs a target height and width", path));
    }
    out_h = pre.height;
    out_w = pre.width;
    const double aspect = static_cast<double>(pic.width) / pic.height;
    content_w = pre.resize == ResizeMode::kStretch
                    ? static_cast<int>(out_w)
                    : static_cast<int>(std::min<double>(out_w, std::ceil(out_h * aspect)));
    pic = resize_bilinear(pic, std::max(content_w, 1), static_cast<int>(out_h));
  }
  const bool nchw = pre.layout == Layout::kNCHW;
  Tensor t(DType::kFloat32, nchw ? Shape{1, channels, out_h, out_w} : Shape{1, out_h, out_w, channels});
  float* dst = t.data<float>();
  for (int64_t y = 0; y < out_h; ++y) {
    for (int64_t x = 0; x < out_w; ++x) {
      for (int c = 0; c < channels; ++c) {
        // Decoded pixels are RGB; BGR reads them in reverse.
        const int src_c = pre.color == ColorOrder::kBGR ? 2 - c : c;
        const float value = x < pic.width
            ? (pic.pixels[(static_cast<size_t>(y) * pic.width + x) * channels + src_c] - pre.mean[c]) * pre.scale[c]
            : pre.pad_value;
        const int64_t index = nchw ? (c * out_h + y) * out_w + x : (y * out_w + x) * channels + c;
        dst[index] = value;
      }
    }
  }
  return t;
}

}  // namespace

}  // namespace lq
