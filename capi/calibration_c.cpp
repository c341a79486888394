// The C ABI of lq::Calibrator: samples from caller memory or from files, and pictures read
// with the preprocessing picture sources use.
#include <filesystem>
#include <system_error>

#include "capi_internal.hpp"

namespace {

using namespace lq::capi;

lq::CalibrationOptions calibration_options(const lq_calibrator_options* given) {
  lq_calibrator_options defaults;
  lq_calibrator_options_init(&defaults);  // NULL means the header's defaults
  const lq_calibrator_options* options = given ? given : &defaults;
  check_options(*options, LQ_FIRST_VERSION_SIZE(lq_calibrator_options, progress_user_data),
                "lq_calibrator_options", "options->struct_size");
  if (options->threads < 0) {
    invalid_argument(fmt::format("options->threads is {}; use 1 or more", options->threads));
  }
  lq::CalibrationOptions result;
  result.threads = std::max(1, options->threads);
  result.histogram_bins = options->histogram_bins;
  result.keep_samples = options->keep_samples;
  if (lq_progress_fn progress = options->progress) {
    void* user_data = options->progress_user_data;
    result.progress = [progress, user_data](int64_t done, int64_t total) {
      progress(done, total, user_data);
    };
  }
  return result;
}

// The C++ value of a C enum's value, from a table indexed by the C values (0, 1, ...).
template <typename CEnum, typename CppEnum, size_t N>
CppEnum mapped(CEnum value, const CppEnum (&by_c_value)[N], const char* param,
               const char* choices) {
  const auto index = static_cast<int>(value);
  if (index < 0 || index >= static_cast<int>(N)) {
    invalid_argument(fmt::format("{} is {}; use one of {}", param, index, choices));
  }
  return by_c_value[index];
}

constexpr lq::ResizeMode kResizeModes[] = {lq::ResizeMode::kStretch, lq::ResizeMode::kNone,
                                           lq::ResizeMode::kFitHeightPad};
constexpr lq::ColorOrder kColorOrders[] = {lq::ColorOrder::kRGB, lq::ColorOrder::kBGR,
                                           lq::ColorOrder::kGray};
constexpr lq::Layout kLayouts[] = {lq::Layout::kNCHW, lq::Layout::kNHWC};
static_assert(LQ_RESIZE_FIT_HEIGHT_PAD == 2 && LQ_COLOR_GRAY == 2 && LQ_LAYOUT_NHWC == 1,
              "the tables above are indexed by the C values");

lq::ImagePreprocess image_preprocess(const lq_image_preprocess& p) {
  check_options(p, LQ_FIRST_VERSION_SIZE(lq_image_preprocess, pad_value), "lq_image_preprocess",
                "preprocess->struct_size");
  if (p.height < 0 || p.width < 0) {
    invalid_argument(
        fmt::format("preprocess height {} and width {} must be >= 0", p.height, p.width));
  }
  lq::ImagePreprocess result;
  result.height = p.height;
  result.width = p.width;
  result.resize = mapped(p.resize, kResizeModes, "preprocess->resize",
                         "LQ_RESIZE_STRETCH, LQ_RESIZE_NONE, LQ_RESIZE_FIT_HEIGHT_PAD");
  result.color = mapped(p.color, kColorOrders, "preprocess->color",
                        "LQ_COLOR_RGB, LQ_COLOR_BGR, LQ_COLOR_GRAY");
  result.layout =
      mapped(p.layout, kLayouts, "preprocess->layout", "LQ_LAYOUT_NCHW, LQ_LAYOUT_NHWC");
  for (size_t c = 0; c < 3; ++c) {
    result.mean[c] = p.mean[c];
    result.scale[c] = p.scale[c];
  }
  result.pad_value = p.pad_value;
  return result;
}

bool same_preprocess(const lq::ImagePreprocess& a, const lq::ImagePreprocess& b) {
  return a.height == b.height && a.width == b.width && a.resize == b.resize && a.color == b.color &&
         a.layout == b.layout && a.mean == b.mean && a.scale == b.scale &&
         a.pad_value == b.pad_value;
}

// Adds `path` to the input's source; an input's files are all of one kind.
void add_path(lq_calibration_sources& sources, const char* input_name, const char* path,
              const lq::ImagePreprocess* preprocess) {
  require(input_name, "input_name");
  require(path, "path");
  auto [it, fresh] = sources.by_input.try_emplace(input_name);
  lq::CalibrationSource& source = it->second;
  if (fresh) {
    source.images = preprocess != nullptr;
    if (preprocess) source.preprocess = *preprocess;
  } else if (source.images != (preprocess != nullptr)) {
    invalid_argument(
        fmt::format("input \"{}\" already has {} sources; one input's files are all "
                    ".npy or all pictures",
                    input_name, source.images ? "picture" : ".npy"));
  } else if (preprocess && !same_preprocess(source.preprocess, *preprocess)) {
    invalid_argument(
        fmt::format("input \"{}\" already has pictures with another preprocessing; "
                    "one input's pictures share one preprocessing",
                    input_name));
  }
  source.paths.emplace_back(path);
}

}  // namespace

extern "C" {

lq_status* lq_calibrator_create(const lq_graph* graph, const lq_calibrator_options* options,
                                lq_calibrator** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_graph& g = live(graph, "graph");
    require(out, "out");
    *out = new lq_calibrator(g.graph, calibration_options(options));
  });
}

lq_status* lq_calibrator_add_sample(lq_calibrator* calibrator, const lq_tensor_view* inputs,
                                    size_t input_count) {
  return guard(__func__, [&] {
    lq_calibrator& c = live(calibrator, "calibrator");
    lq::TensorMap sample = tensors_from_views(inputs, input_count, "inputs");
    // A kept sample outlives the call, the caller's buffers need not.
    if (c.calibrator.kept_samples().size() < c.keep_samples) {
      for (auto& entry : sample) entry.second = entry.second.clone();
    }
    c.calibrator.add_sample(sample);
  });
}

lq_status* lq_calibrator_add_sources(lq_calibrator* calibrator,
                                     const lq_calibration_sources* sources) {
  return guard(__func__, [&] {
    lq_calibrator& c = live(calibrator, "calibrator");
    const lq_calibration_sources& s = live(sources, "sources");
    if (s.by_input.empty()) {
      invalid_argument(
          "sources is empty; add files with lq_calibration_sources_add_npy or "
          "lq_calibration_sources_add_images");
    }
    c.calibrator.add_sources(s.by_input);
  });
}

lq_status* lq_calibrator_sample_count(const lq_calibrator* calibrator, uint64_t* count) {
  clear(count);
  return guard(__func__, [&] {
    const lq_calibrator& c = live(calibrator, "calibrator");
    require(count, "count");
    *count = c.calibrator.table().samples;
  });
}

lq_status* lq_calibrator_table_json(const lq_calibrator* calibrator, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_calibrator& c = live(calibrator, "calibrator");
    require(out, "out");
    *out = new_buffer(c.calibrator.table().to_json());
  });
}

lq_status* lq_calibrator_save_stats(const lq_calibrator* calibrator, const char* path) {
  return guard(__func__, [&] {
    const lq_calibrator& c = live(calibrator, "calibrator");
    require(path, "path");
    if (!*path) invalid_argument("path is empty; name the statistics file to write");
    c.calibrator.table().save(path);
  });
}

lq_status* lq_calibration_stats_merge(const char* const* paths, size_t count, const char* out_path) {
  return guard(__func__, [&] {
    require(paths, "paths");
    require(out_path, "out_path");
    if (count == 0) invalid_argument("count is 0; give the statistics files to merge");
    std::vector<std::string> files;
    for (size_t i = 0; i < count; ++i) {
      if (!paths[i] || !*paths[i]) invalid_argument(fmt::format("paths[{}] is NULL or empty", i));
      files.emplace_back(paths[i]);
    }
    lq::CalibrationTable::merge_files(files).save(out_path);
  });
}

void lq_calibrator_release(lq_calibrator* calibrator) { release(calibrator); }

lq_status* lq_calibration_sources_create(lq_calibration_sources** out) {
  clear(out);
  return guard(__func__, [&] {
    require(out, "out");
    *out = new lq_calibration_sources;
  });
}

lq_status* lq_calibration_sources_add_npy(lq_calibration_sources* sources, const char* input_name,
                                          const char* path) {
  return guard(__func__, [&] { add_path(live(sources, "sources"), input_name, path, nullptr); });
}

lq_status* lq_calibration_sources_add_images(lq_calibration_sources* sources,
                                             const char* input_name, const char* path,
                                             const lq_image_preprocess* preprocess) {
  return guard(__func__, [&] {
    lq_calibration_sources& s = live(sources, "sources");
    require(preprocess, "preprocess");
    const lq::ImagePreprocess converted = image_preprocess(*preprocess);
    add_path(s, input_name, path, &converted);
  });
}

void lq_calibration_sources_release(lq_calibration_sources* sources) { release(sources); }

lq_status* lq_image_load(const char* path, const lq_image_preprocess* preprocess, lq_tensor** out) {
  clear(out);
  return guard(__func__, [&] {
    require(path, "path");
    require(preprocess, "preprocess");
    require(out, "out");
    const lq::ImagePreprocess converted = image_preprocess(*preprocess);
    // The decoder does not tell a missing file from a bad one; callers may want to.
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
      throw lq::Error(lq::StatusCode::kNotFound,
                      fmt::format("no picture file '{}' (PNG, JPEG and BMP are read)", path));
    }
    auto tensor = std::make_unique<lq_tensor>();
    tensor->tensor = lq::load_image(path, converted);
    *out = tensor.release();
  });
}

}  // extern "C"
