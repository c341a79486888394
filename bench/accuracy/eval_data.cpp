#include "eval_data.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace lq::bench {

namespace {

namespace fs = std::filesystem;

// Set by bench/accuracy/CMakeLists.txt.
constexpr const char* kMakeEvalDataScript = LQ_MAKE_EVAL_DATA_SCRIPT;

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

ImagePreprocess text_line(int64_t width) {
  ImagePreprocess p;
  p.height = 48;
  p.width = width;
  p.resize = ResizeMode::kFitHeightPad;
  p.color = ColorOrder::kBGR;
  p.mean = {127.5f, 127.5f, 127.5f};
  p.scale = {1 / 127.5f, 1 / 127.5f, 1 / 127.5f};
  p.pad_value = 0.0f;
  return p;
}

ImagePreprocess page() {
  ImagePreprocess p;
  p.height = 640;
  p.width = 640;
  p.resize = ResizeMode::kStretch;
  p.color = ColorOrder::kBGR;
  // (x / 255 - mean) / std  ==  (x - 255 mean) * 1 / (255 std)
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  for (int c = 0; c < 3; ++c) {
    p.mean[c] = 255.0f * mean[c];
    p.scale[c] = 1.0f / (255.0f * std[c]);
  }
  return p;
}

OcrResult truth_of(const nlohmann::json& entry, Task task) {
  OcrResult truth;
  if (task == Task::kRec) truth.text = entry.at("text").get<std::string>();
  if (task == Task::kCls) truth.angle = entry.at("angle").get<int>();
  if (task == Task::kDet) {
    for (const auto& b : entry.at("boxes")) {
      truth.boxes.push_back({b.at(0).get<double>(), b.at(1).get<double>(), b.at(2).get<double>(),
                             b.at(3).get<double>()});
    }
  }
  return truth;
}

}  // namespace

ModelTask model_task(const std::string& name) {
  if (name == "det") return {name, Task::kDet, page()};
  if (name == "rec") return {name, Task::kRec, text_line(320)};
  if (name == "cls") return {name, Task::kCls, text_line(192)};
  throw std::runtime_error("unknown model \"" + name + "\" (det, rec, cls)");
}

std::string default_data_dir() {
  const char* cache = std::getenv("LQ_CACHE_DIR");
  if (cache && *cache) return (fs::path(cache) / "eval").string();
  const char* home = std::getenv("HOME");
  if (!home) throw std::runtime_error("neither LQ_CACHE_DIR nor HOME is set");
  return (fs::path(home) / ".cache" / "libquant" / "eval").string();
}

void make_eval_data(const std::string& dir) {
  const std::string command = shell_quote(kMakeEvalDataScript) + " " + shell_quote(dir);
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error(
        fmt::format("{} failed (it needs Debian's python3-pil, python3-numpy "
                    "and fonts-dejavu-core)",
                    kMakeEvalDataScript));
  }
}

std::vector<LabeledPicture> load_labeled_pictures(const std::string& dir, Task task) {
  const fs::path labels_path = fs::path(dir) / "labels.json";
  std::ifstream in(labels_path);
  if (!in) throw std::runtime_error("cannot read " + labels_path.string());
  std::vector<LabeledPicture> pictures;
  for (const auto& entry : nlohmann::json::parse(in)) {
    pictures.push_back(
        {(fs::path(dir) / entry.at("file").get<std::string>()).string(), truth_of(entry, task)});
  }
  return pictures;
}

}  // namespace lq::bench
