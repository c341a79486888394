// PP-OCR post-processing (CTC decoding, direction class, DB text boxes) and the metrics
// that compare its results: string agreement, direction agreement, box F1.
#pragma once

#include <string>
#include <vector>

#include "libquant/tensor.hpp"

namespace lq::bench {

// The recognizer's classes: 0 is the CTC blank, i in [1, size] is dictionary line i - 1,
// size + 1 is a space (PP-OCR's use_space_char).
std::vector<std::string> load_dictionary(const std::string& path);

// Greedy CTC decoding of a [1, T, classes] softmax: argmax per time step, repeats
// collapsed, blanks dropped.
std::string ctc_greedy_decode(const Tensor& probabilities,
                              const std::vector<std::string>& dictionary);

// The direction classifier's [1, 2] softmax: 0 or 180 (degrees).
int text_angle(const Tensor& probabilities);

struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // x1, y1 exclusive
};

struct DbOptions {
  float threshold = 0.3f;      // probability map binarization
  float box_threshold = 0.6f;  // least mean probability inside a box
  double unclip_ratio = 1.5;  // DB's shrunk text kernels are grown back by area x ratio / perimeter
  double min_size = 3.0;      // boxes with a shorter side are dropped
};

// DB post-processing of a [1, 1, H, W] probability map: connected components (8-connected)
// of the thresholded map, their bounding boxes, scored and unclipped, in map coordinates.
std::vector<Box> db_boxes(const Tensor& probability_map, const DbOptions& options = {});

double iou(const Box& a, const Box& b);

struct BoxCounts {
  int matched = 0;
  int predicted = 0;
  int expected = 0;
  BoxCounts& operator+=(const BoxCounts& other);
  double f1() const;  // 1 when nothing was expected or predicted
};

// One-to-one matches with IoU >= min_iou, best pairs first.
BoxCounts match_boxes(const std::vector<Box>& predicted, const std::vector<Box>& expected,
                      double min_iou = 0.5);

// Levenshtein distance between the code points of two UTF-8 strings.
size_t edit_distance(const std::string& a, const std::string& b);
size_t code_point_count(const std::string& text);

}  // namespace lq::bench
