// Classifies whether text-line pictures are upright or turned 180 degrees with the
// PP-OCR direction classifier, run by libquant's float Simulator; with --calib, also
// calibrates on a folder of pictures, quantizes to int8 and compares with float.
//
//   classify_direction CLS_MODEL.onnx [--calib DIR] PICTURE.png...
#include <libquant/libquant.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

// PP-OCR's classifier preprocessing: BGR, height 48, width by aspect up to 192 and
// padded, (pixel / 255 - 0.5) / 0.5.
lq::ImagePreprocess cls_preprocess() {
  lq::ImagePreprocess pre;
  pre.height = 48;
  pre.width = 192;
  pre.resize = lq::ResizeMode::kFitHeightPad;
  pre.color = lq::ColorOrder::kBGR;
  pre.mean = {127.5f, 127.5f, 127.5f};
  pre.scale = {1 / 127.5f, 1 / 127.5f, 1 / 127.5f};
  return pre;
}

struct Prediction {
  int label;
  float probability;
  std::vector<float> scores;
};

Prediction classify(const lq::Simulator& sim, const std::string& input, const std::string& output,
                    const lq::Tensor& picture) {
  const lq::TensorMap result = sim.run({{input, picture}});
  const lq::Tensor& scores = result.at(output);
  const float* p = scores.data<float>();
  const int best = p[1] > p[0] ? 1 : 0;
  return {best, p[best], std::vector<float>(p, p + scores.numel())};
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, calib_dir;
  std::vector<std::string> pictures;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--calib") == 0 && i + 1 < argc) {
      calib_dir = argv[++i];
    } else if (model.empty()) {
      model = argv[i];
    } else {
      pictures.emplace_back(argv[i]);
    }
  }
  if (model.empty() || pictures.empty()) {
    std::fprintf(stderr, "usage: %s CLS_MODEL.onnx [--calib DIR] PICTURE.png...\n", argv[0]);
    return 2;
  }
  try {
    lq::Graph graph = lq::load_onnx(model);
    lq::optimize(graph);
    lq::SimulatorOptions options;
    options.threads = 2;
    const lq::Simulator simulator(graph, options);
    const char* labels[] = {"0", "180"};
    const std::string input = graph.inputs().at(0)->name();
    const std::string output = graph.outputs().at(0)->name();
    const lq::ImagePreprocess pre = cls_preprocess();

    std::vector<lq::Tensor> tensors;
    for (const std::string& path : pictures) {
      tensors.push_back(lq::load_image(path, pre));
      const auto start = std::chrono::steady_clock::now();
      const Prediction p = classify(simulator, input, output, tensors.back());
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      std::printf("%s: %s degrees (p=%.4f, %.1f ms)\n", path.c_str(), labels[p.label], p.probability, ms);
    }
    if (calib_dir.empty()) return 0;

    // Calibrate on the folder, quantize to int8 (per-tensor range chosen by "auto").
    lq::CalibrationOptions calib_options;
    calib_options.threads = 2;
    calib_options.keep_samples = 2;
    lq::Calibrator calibrator(graph, calib_options);
    lq::CalibrationSource source;
    source.paths = {calib_dir};
    source.images = true;
    source.preprocess = pre;
    calibrator.add_sources({{input, source}});
    lq::QuantConfig config;
    config.model.method = lq::RangeMethod::kAuto;
    const lq::QuantizedGraph quantized =
        lq::Quantizer(config).quantize(graph, calibrator.table(), calibrator.kept_samples());
    const lq::Simulator int8 = lq::fake_quant_simulator(quantized, options);
    std::printf("int8: calibrated on %llu pictures of %s\n",
                static_cast<unsigned long long>(calibrator.table().samples), calib_dir.c_str());
    int agree = 0;
    double signal = 0, noise = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Prediction f = classify(simulator, input, output, tensors[i]);
      const Prediction q = classify(int8, input, output, tensors[i]);
      agree += f.label == q.label;
      for (size_t k = 0; k < f.scores.size(); ++k) {
        signal += f.scores[k] * f.scores[k];
        noise += (f.scores[k] - q.scores[k]) * (f.scores[k] - q.scores[k]);
      }
      std::printf("%s: int8 %s degrees (p=%.4f), float %s\n", pictures[i].c_str(), labels[q.label],
                  q.probability, labels[f.label]);
    }
    std::printf("int8 agrees with float on %d of %zu pictures; output SNR %.1f dB\n", agree,
                tensors.size(), 10 * std::log10(signal / std::max(noise, 1e-30)));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
