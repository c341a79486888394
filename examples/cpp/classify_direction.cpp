// Classifies whether text-line pictures are upright or turned 180 degrees with the
// PP-OCR direction classifier, run by libquant's float Simulator.
//
//   classify_direction CLS_MODEL.onnx PICTURE.png...
#include <libquant/libquant.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CLS_MODEL.onnx PICTURE.png...\n", argv[0]);
    return 2;
  }
  try {
    lq::Graph graph = lq::load_onnx(argv[1]);
    lq::optimize(graph);
    lq::SimulatorOptions options;
    options.threads = 2;
    lq::Simulator simulator(graph, options);

    // PP-OCR's classifier preprocessing: BGR, height 48, width by aspect up to 192 and
    // padded, (pixel / 255 - 0.5) / 0.5.
    lq::ImagePreprocess pre;
    pre.height = 48;
    pre.width = 192;
    pre.resize = lq::ResizeMode::kFitHeightPad;
    pre.color = lq::ColorOrder::kBGR;
    pre.mean = {127.5f, 127.5f, 127.5f};
    pre.scale = {1 / 127.5f, 1 / 127.5f, 1 / 127.5f};
    const char* labels[] = {"0", "180"};
    const std::string input = graph.inputs().at(0)->name();
    const std::string output = graph.outputs().at(0)->name();

    for (int i = 2; i < argc; ++i) {
      const lq::Tensor picture = lq::load_image(argv[i], pre);
      const auto start = std::chrono::steady_clock::now();
      const lq::TensorMap result = simulator.run({{input, picture}});
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      const float* p = result.at(output).data<float>();
      const int best = p[1] > p[0] ? 1 : 0;
      std::printf("%s: %s degrees (p=%.4f, %.1f ms)\n", argv[i], labels[best], p[best], ms);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
