// The rendered calibration and evaluation pictures of scripts/make-eval-data.py, their
// known contents, and each PP-OCR model's preprocessing.
#pragma once

#include <string>
#include <vector>

#include "libquant/calibrator.hpp"
#include "ocr_outputs.hpp"

namespace lq::bench {

enum class Task { kDet, kRec, kCls };

struct ModelTask {
  std::string name;  // "det", "rec", "cls": the folder of its pictures too
  Task task;
  ImagePreprocess preprocess;
};

// PP-OCR's own preprocessing, from BGR pictures:
//   det: 640x640, ImageNet mean/std on x/255 (PaddleOCR applies them in BGR order);
//   rec: height 48, width by aspect up to 320, padded with 0; (x/255 - 0.5) / 0.5;
//   cls: the same at 48x192.
ModelTask model_task(const std::string& name);  // throws on an unknown name

// What a picture shows (truth) or what a model read from it: the field of its task.
struct OcrResult {
  std::string text;        // rec
  int angle = 0;           // cls: 0 or 180
  std::vector<Box> boxes;  // det
};

struct LabeledPicture {
  std::string path;
  OcrResult truth;
};

// ${LQ_CACHE_DIR:-$HOME/.cache/libquant}/eval
std::string default_data_dir();
// Runs scripts/make-eval-data.py into `dir` (it does nothing when `dir` is up to date).
void make_eval_data(const std::string& dir);
// The pictures of `dir`/labels.json, in its order.
std::vector<LabeledPicture> load_labeled_pictures(const std::string& dir, Task task);

}  // namespace lq::bench
