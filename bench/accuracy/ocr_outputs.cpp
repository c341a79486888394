#include "ocr_outputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <tuple>

namespace lq::bench {

namespace {

// Index of the largest of n values (the first on ties).
int64_t argmax(const float* values, int64_t n) {
  return std::max_element(values, values + n) - values;
}

void require_shape(const Tensor& t, size_t rank, const char* what) {
  if (t.dtype() != DType::kFloat32 || t.rank() != rank || t.dim(0) != 1) {
    throw std::runtime_error(
        fmt::format("{}: expected a float32 tensor of rank {} and batch 1, got {} {}", what, rank,
                    dtype_name(t.dtype()), shape_str(t.shape())));
  }
}

std::vector<uint32_t> code_points(const std::string& text) {
  std::vector<uint32_t> points;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    uint32_t point = length == 1 ? lead : lead & (0x3F >> (length - 1));
    for (size_t k = 1; k < length && i + k < text.size(); ++k) {
      point = (point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    points.push_back(point);
    i += length;
  }
  return points;
}

struct PixelBounds {
  int64_t x0, y0, x1, y1;  // inclusive
};

// Bounding boxes of the 8-connected components of `on`, in scan order.
std::vector<PixelBounds> components(std::vector<uint8_t> on, int64_t height, int64_t width) {
  std::vector<PixelBounds> found;
  std::vector<int64_t> stack;
  for (int64_t start = 0; start < height * width; ++start) {
    if (!on[static_cast<size_t>(start)]) continue;
    PixelBounds b{start % width, start / width, start % width, start / width};
    on[static_cast<size_t>(start)] = 0;
    stack.push_back(start);
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      const int64_t y = p / width, x = p % width;
      b = {std::min(b.x0, x), std::min(b.y0, y), std::max(b.x1, x), std::max(b.y1, y)};
      for (int64_t ny = std::max<int64_t>(y - 1, 0); ny <= std::min(y + 1, height - 1); ++ny) {
        for (int64_t nx = std::max<int64_t>(x - 1, 0); nx <= std::min(x + 1, width - 1); ++nx) {
          const auto q = static_cast<size_t>(ny * width + nx);
          if (on[q]) {
            on[q] = 0;
            stack.push_back(ny * width + nx);
          }
        }
      }
    }
    found.push_back(b);
  }
  return found;
}

double mean_inside(const float* map, int64_t width, const PixelBounds& b) {
  double sum = 0.0;
  for (int64_t y = b.y0; y <= b.y1; ++y) {
    for (int64_t x = b.x0; x <= b.x1; ++x) sum += map[y * width + x];
  }
  return sum / static_cast<double>((b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1));
}

}  // namespace

std::vector<std::string> load_dictionary(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the recognizer dictionary " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string ctc_greedy_decode(const Tensor& probabilities,
                              const std::vector<std::string>& dictionary) {
  require_shape(probabilities, 3, "recognizer output");
  const int64_t steps = probabilities.dim(1), classes = probabilities.dim(2);
  const auto space = static_cast<int64_t>(dictionary.size()) + 1;
  if (classes != space + 1) {
    throw std::runtime_error(
        fmt::format("recognizer output has {} classes; the dictionary of {} "
                    "lines needs {} (blank, lines, space)",
                    classes, dictionary.size(), space + 1));
  }
  const float* p = probabilities.data<float>();
  std::string text;
  int64_t previous = -1;
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t index = argmax(p + t * classes, classes);
    if (index != previous && index != 0) {
      text += index == space ? std::string(" ") : dictionary[static_cast<size_t>(index - 1)];
    }
    previous = index;
  }
  return text;
}

int text_angle(const Tensor& probabilities) {
  require_shape(probabilities, 2, "direction classifier output");
  if (probabilities.dim(1) != 2) {
    throw std::runtime_error("direction classifier output has " +
                             std::to_string(probabilities.dim(1)) + " classes, expected 2");
  }
  return argmax(probabilities.data<float>(), 2) == 0 ? 0 : 180;
}

std::vector<Box> db_boxes(const Tensor& probability_map, const DbOptions& options) {
  require_shape(probability_map, 4, "detector output");
  const int64_t height = probability_map.dim(2), width = probability_map.dim(3);
  const float* map = probability_map.data<float>();
  std::vector<uint8_t> on(static_cast<size_t>(height * width));
  for (size_t i = 0; i < on.size(); ++i) on[i] = map[i] > options.threshold;
  std::vector<Box> boxes;
  for (const PixelBounds& b : components(std::move(on), height, width)) {
    const double w = static_cast<double>(b.x1 - b.x0 + 1), h = static_cast<double>(b.y1 - b.y0 + 1);
    if (std::min(w, h) < options.min_size) continue;
    if (mean_inside(map, width, b) < options.box_threshold) continue;
    const double grow = w * h * options.unclip_ratio / (2.0 * (w + h));
    if (std::min(w, h) + 2.0 * grow < options.min_size + 2.0) continue;
    boxes.push_back({std::max(0.0, b.x0 - grow), std::max(0.0, b.y0 - grow),
                     std::min<double>(width, b.x1 + 1 + grow),
                     std::min<double>(height, b.y1 + 1 + grow)});
  }
  return boxes;
}

double iou(const Box& a, const Box& b) {
  const double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (w <= 0.0 || h <= 0.0) return 0.0;
  const double inter = w * h;
  const double area_a = (a.x1 - a.x0) * (a.y1 - a.y0), area_b = (b.x1 - b.x0) * (b.y1 - b.y0);
  return inter / (area_a + area_b - inter);
}

BoxCounts& BoxCounts::operator+=(const BoxCounts& other) {
  matched += other.matched;
  predicted += other.predicted;
  expected += other.expected;
  return *this;
}

double BoxCounts::f1() const {
  if (predicted + expected == 0) return 1.0;
  return 2.0 * matched / static_cast<double>(predicted + expected);
}

BoxCounts match_boxes(const std::vector<Box>& predicted, const std::vector<Box>& expected,
                      double min_iou) {
  std::vector<std::tuple<double, size_t, size_t>> pairs;
  for (size_t p = 0; p < predicted.size(); ++p) {
    for (size_t e = 0; e < expected.size(); ++e) {
      const double overlap = iou(predicted[p], expected[e]);
      if (overlap >= min_iou) pairs.emplace_back(overlap, p, e);
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a > b; });
  std::vector<bool> used_p(predicted.size()), used_e(expected.size());
  BoxCounts counts{0, static_cast<int>(predicted.size()), static_cast<int>(expected.size())};
  for (const auto& [overlap, p, e] : pairs) {
    if (used_p[p] || used_e[e]) continue;
    used_p[p] = used_e[e] = true;
    ++counts.matched;
  }
  return counts;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  const std::vector<uint32_t> x = code_points(a), y = code_points(b);
  std::vector<size_t> row(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= x.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= y.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (x[i - 1] == y[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[y.size()];
}

size_t code_point_count(const std::string& text) { return code_points(text).size(); }

}  // namespace lq::bench
