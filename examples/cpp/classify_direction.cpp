// Classifies whether text-line pictures are upright or turned 180 degrees with the PP-OCR
// direction classifier. Without --calib, libquant's float Simulator runs the model. With
// --calib, the C++ Pipeline calibrates on that folder of pictures, quantizes to int8,
// compiles the integer program (OUT/model.lqm) and measures it; the pictures are then
// classified by the fixed-point Simulator running that program, next to float. With
// --eval, every picture of that folder named NAME_0.png or NAME_180.png is classified by
// both, and the accuracy against the name's angle is printed. Last, the precision report
// (OUT/analysis/report.html) says where int8 lost accuracy, layer by layer.
//
//   classify_direction CLS_MODEL.onnx [--calib DIR [--out DIR] [--eval DIR]] PICTURE.png...
#include <libquant/libquant.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

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

const char* kLabels[] = {"0", "180"};

struct Prediction {
  int label;
  float probability;
};

// Runs a model (float or fixed-point) on one picture: input name -> output scores.
using Classifier = std::function<lq::TensorMap(const lq::TensorMap&)>;

Prediction classify(const Classifier& run, const std::string& input, const std::string& output,
                    const lq::Tensor& picture) {
  const lq::TensorMap result = run({{input, picture}});
  const float* p = result.at(output).data<float>();
  const int best = p[1] > p[0] ? 1 : 0;
  return {best, p[best]};
}

lq::PipelineResult quantize_and_compile(const std::string& model, const std::string& input,
                                        const std::string& calib_dir, const std::string& out_dir) {
  lq::PipelineOptions options;
  options.model = model;
  lq::PipelineInput& in = options.inputs[input];
  in.calibration = {calib_dir};
  in.images = true;
  in.preprocess = cls_preprocess();
  options.calibration.threads = 2;
  options.calibration.keep_samples = 8;
  options.quantization.model.method = lq::RangeMethod::kAuto;  // per tensor, least output error
  options.threads = 2;
  options.output_dir = out_dir;
  lq::PipelineResult result = lq::Pipeline(options).run([](const std::string& stage) {
    std::printf("pipeline: %s\n", stage.c_str());
  });
  std::printf("int8: calibrated on %llu pictures of %s; program of %lld instructions (%lld on CPU), "
              "%.0f KiB of activations, %.0f KiB of weights\n",
              static_cast<unsigned long long>(result.calibration_samples), calib_dir.c_str(),
              static_cast<long long>(result.program.instruction_count()),
              static_cast<long long>(result.program.cpu_instruction_count()),
              result.program.peak_activation_bytes() / 1024.0,
              result.program.weight_bytes() / 1024.0);
  for (const auto& [name, snr] : result.output_snr_db) {
    std::printf("int8: output SNR against float %.1f dB fake-quantized, %.1f dB fixed-point\n", snr,
                result.fixed_snr_db.at(name));
  }
  for (const lq::StageTime& t : result.times) std::printf("  %-10s %6.2f s\n", t.stage.c_str(), t.seconds);
  return result;
}

// Accuracy of float and fixed-point on pictures named NAME_0.png / NAME_180.png.
void evaluate(const Classifier& float_run, const Classifier& fixed_run, const std::string& input,
              const std::string& output, const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  int total = 0, float_right = 0, fixed_right = 0, agree = 0;
  for (const fs::path& file : files) {
    const std::string stem = file.stem().string();
    const auto cut = stem.rfind('_');
    if (file.extension() != ".png" || cut == std::string::npos) continue;
    const int truth = stem.substr(cut + 1) == "180" ? 1 : 0;
    const lq::Tensor picture = lq::load_image(file.string(), cls_preprocess());
    const Prediction f = classify(float_run, input, output, picture);
    const Prediction q = classify(fixed_run, input, output, picture);
    ++total;
    float_right += f.label == truth;
    fixed_right += q.label == truth;
    agree += f.label == q.label;
  }
  std::printf("accuracy on %d pictures of %s: float %.1f %%, int8 fixed-point program %.1f %%; "
              "the program agrees with float on %.1f %%\n",
              total, dir.c_str(), 100.0 * float_right / total, 100.0 * fixed_right / total,
              100.0 * agree / total);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, calib_dir, eval_dir, out_dir = "classify_direction_out";
  std::vector<std::string> pictures;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--calib") == 0 && has_value) {
      calib_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--eval") == 0 && has_value) {
      eval_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--out") == 0 && has_value) {
      out_dir = argv[++i];
    } else if (model.empty()) {
      model = argv[i];
    } else {
      pictures.emplace_back(argv[i]);
    }
  }
  if (model.empty() || pictures.empty()) {
    std::fprintf(stderr,
                 "usage: %s CLS_MODEL.onnx [--calib DIR [--out DIR] [--eval DIR]] PICTURE.png...\n",
                 argv[0]);
    return 2;
  }
  try {
    lq::Graph graph = lq::load_onnx(model);
    lq::optimize(graph);
    lq::SimulatorOptions options;
    options.threads = 2;
    const lq::Simulator simulator(graph, options);
    const Classifier float_run = [&](const lq::TensorMap& in) { return simulator.run(in); };
    const std::string input = graph.inputs().at(0)->name();
    const std::string output = graph.outputs().at(0)->name();

    std::vector<lq::Tensor> tensors;
    for (const std::string& path : pictures) {
      tensors.push_back(lq::load_image(path, cls_preprocess()));
      const Prediction p = classify(float_run, input, output, tensors.back());
      std::printf("%s: %s degrees (p=%.4f, float)\n", path.c_str(), kLabels[p.label], p.probability);
    }
    if (calib_dir.empty()) return 0;

    const lq::PipelineResult result = quantize_and_compile(model, input, calib_dir, out_dir);
    // The program as a vendor SDK would ship it: read back from the .lqm file.
    const lq::FixedSimulator fixed(lq::Program::load((fs::path(out_dir) / "model.lqm").string()), {2});
    const Classifier fixed_run = [&](const lq::TensorMap& in) { return fixed.run_float(in); };
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Prediction q = classify(fixed_run, input, output, tensors[i]);
      std::printf("%s: %s degrees (p=%.4f, int8 fixed-point program %s/model.lqm)\n",
                  pictures[i].c_str(), kLabels[q.label], q.probability, out_dir.c_str());
    }
    if (!eval_dir.empty()) evaluate(float_run, fixed_run, input, output, eval_dir);

    // Where int8 lost accuracy: every quantized tensor of the program against float, on the
    // calibration pictures the pipeline kept.
    const lq::PrecisionReport report =
        lq::analyze_precision(result.quantized, result.program, result.evaluation_inputs);
    const std::string report_dir = (fs::path(out_dir) / "analysis").string();
    report.write(report_dir);
    if (!report.suggestions.empty()) std::printf("precision: %s\n", report.suggestions.front().c_str());
    std::printf("precision report: %s/report.html\n", report_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
