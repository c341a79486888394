#include "model_inputs.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "libquant/calibrator.hpp"

namespace lq::test {

namespace {

// mt19937's raw output is specified by the standard, so these values are portable.
class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}
  double uniform() { return (engine_() >> 8) * (1.0 / 16777216.0); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo + 1)); }

 private:
  std::mt19937 engine_;
};

struct Canvas {
  int64_t height;
  int64_t width;
  std::vector<float> grey;  // 0 (black) .. 255 (white), row-major
};

struct Point {
  double x, y;
};

double distance_to_segment(Point p, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double length2 = dx * dx + dy * dy;
  const double t =
      length2 > 0 ? std::clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / length2, 0.0, 1.0) : 0.0;
  return std::hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

// An anti-aliased stroke: pixels are blended toward `ink` by how much the pen covers them.
void draw_stroke(Canvas& canvas, Point a, Point b, double thickness, double ink) {
  const double reach = thickness / 2 + 1;
  const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::min(a.x, b.x) - reach));
  const int64_t x1 = std::min<int64_t>(canvas.width - 1, static_cast<int64_t>(std::max(a.x, b.x) + reach));
  const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::min(a.y, b.y) - reach));
  const int64_t y1 = std::min<int64_t>(canvas.height - 1, static_cast<int64_t>(std::max(a.y, b.y) + reach));
  for (int64_t y = y0; y <= y1; ++y) {
    for (int64_t x = x0; x <= x1; ++x) {
      const double d = distance_to_segment({x + 0.5, y + 0.5}, a, b);
      const double coverage = std::clamp(thickness / 2 + 0.5 - d, 0.0, 1.0);
      float& pixel = canvas.grey[static_cast<size_t>(y * canvas.width + x)];
      pixel = static_cast<float>(pixel * (1 - coverage) + ink * coverage);
    }
  }
}

// A character-like shape: a few strokes between points of a 3x3 grid over the cell.
void draw_glyph(Canvas& canvas, Rng& rng, Point origin, double width, double height, double ink) {
  const double thickness = std::max(1.5, height * 0.11);
  const int strokes = rng.integer(2, 5);
  for (int s = 0; s < strokes; ++s) {
    const int from = rng.integer(0, 8);
    int to = rng.integer(0, 7);
    if (to >= from) ++to;  // never a zero-length stroke
    auto anchor = [&](int i) {
      return Point{origin.x + width * (i % 3) / 2.0, origin.y + height * (i / 3) / 2.0};
    };
    draw_stroke(canvas, anchor(from), anchor(to), thickness, ink);
  }
}

// Glyphs with word gaps from x_begin until x_end, the cell's top at `top`.
void draw_text_line(Canvas& canvas, Rng& rng, double x_begin, double x_end, double top,
                    double glyph_height) {
  const double ink = rng.uniform(20, 70);
  double x = x_begin;
  for (;;) {
    const double width = glyph_height * rng.uniform(0.5, 0.95);
    if (x + width > x_end) break;
    if (rng.uniform() < 0.15) {
      x += glyph_height * 0.5;  // a space between words
      continue;
    }
    draw_glyph(canvas, rng, {x, top}, width, glyph_height, ink + rng.uniform(-10, 10));
    x += width + glyph_height * rng.uniform(0.15, 0.3);
  }
}

Canvas blank_page(int64_t height, int64_t width, Rng& rng) {
  Canvas canvas{height, width, std::vector<float>(static_cast<size_t>(height * width))};
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      // Uneven lighting plus sensor noise, as on a photographed page.
      const double light = 226 + 14.0 * x / width - 10.0 * y / height + rng.uniform(-3, 3);
      canvas.grey[static_cast<size_t>(y * width + x)] = static_cast<float>(light);
    }
  }
  return canvas;
}

void draw_single_line(Canvas& canvas, Rng& rng) {
  const double glyph_height = canvas.height * 0.6;
  const double top = (canvas.height - glyph_height) / 2;
  draw_text_line(canvas, rng, canvas.width * 0.03, canvas.width * 0.95, top, glyph_height);
}

void draw_paragraphs(Canvas& canvas, Rng& rng) {
  const double margin = canvas.width * 0.05;
  double top = margin;
  while (true) {
    const double glyph_height = rng.uniform(18, 36);
    if (top + glyph_height > canvas.height - margin) break;
    if (rng.uniform() >= 0.2) {  // else a blank line between paragraphs
      const double begin = margin + rng.uniform(0, canvas.width * 0.25);
      const double end = rng.uniform(canvas.width * 0.5, canvas.width - margin);
      draw_text_line(canvas, rng, begin, end, top, glyph_height);
    }
    top += glyph_height * rng.uniform(1.5, 2.0);
  }
}

// Slightly warm paper: the channels differ a little, as in a colour photo.
Tensor normalized_rgb(const Canvas& canvas) {
  constexpr float kTint[3] = {3.0f, 0.0f, -4.0f};
  const int64_t plane = canvas.height * canvas.width;
  Tensor image(DType::kFloat32, {1, 3, canvas.height, canvas.width});
  float* out = image.data<float>();
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t i = 0; i < plane; ++i) {
      const float value = std::round(std::clamp(canvas.grey[static_cast<size_t>(i)] + kTint[c], 0.0f, 255.0f));
      out[c * plane + i] = (value / 255.0f - 0.5f) / 0.5f;
    }
  }
  return image;
}

}  // namespace

Tensor random_image(int64_t height, int64_t width, uint32_t seed) {
  Rng rng(seed);
  Tensor image(DType::kFloat32, {1, 3, height, width});
  float* out = image.data<float>();
  for (int64_t i = 0; i < image.numel(); ++i) out[i] = static_cast<float>(rng.uniform(-1, 1));
  return image;
}

Tensor text_image(int64_t height, int64_t width, uint32_t seed) {
  Rng rng(seed);
  Canvas canvas = blank_page(height, width, rng);
  if (height <= 64) {
    draw_single_line(canvas, rng);
  } else {
    draw_paragraphs(canvas, rng);
  }
  return normalized_rgb(canvas);
}

QuantizedGraph quantize_on_text_pages(const Graph& graph, int64_t height, int64_t width, DType bits,
                                      DType weights, DType outputs, const Target& target) {
  const std::string input = graph.inputs().at(0)->name();
  Calibrator calibrator(graph);
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    calibrator.add_sample({{input, text_image(height, width, seed)}});
  }
  QuantConfig config;
  config.model.method = RangeMethod::kMSE;
  config.model.activation_dtype = bits;
  config.model.weight_dtype = weights == DType::kUndefined ? bits : weights;
  if (outputs != DType::kUndefined) config.output_dtype = outputs;
  return Quantizer(config, target).quantize(graph, calibrator.table());
}

}  // namespace lq::test
