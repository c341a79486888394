// The precision analysis's cost against the runs it needs: analyze_precision on N samples
// against N float Simulator runs plus N fixed-point Simulator runs, measured in the same
// process on the same samples (pictures with PP-OCR det's preprocessing).
//
//   analysis_overhead QUANT_DIR PICTURE_DIR HxW [N=8] [THREADS=1] [REPORT_DIR]
//
// With REPORT_DIR, the report is written there too (after the timing); a seventh argument
// "sensitivity" adds the sensitivity runs to that report (not timed against the bound).
#include <libquant/libquant.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s QUANT_DIR PICTURE_DIR HxW [N=8] [THREADS=1] [REPORT_DIR]\n", argv[0]);
    return 2;
  }
  const fs::path dir(argv[1]);
  lq::ImagePreprocess pre;
  if (std::sscanf(argv[3], "%dx%d", &pre.height, &pre.width) != 2) return 2;
  pre.mean = {123.7f, 116.3f, 103.5f};
  pre.scale = {0.01712f, 0.01751f, 0.01743f};
  const size_t n = argc > 4 ? std::stoul(argv[4]) : 8;
  const int threads = argc > 5 ? std::stoi(argv[5]) : 1;
  std::ifstream params_file(dir / "quant_params.json");
  std::stringstream params;
  params << params_file.rdbuf();
  const lq::QuantizedGraph q = lq::parse_quant_params(lq::load_onnx((dir / "model.float.onnx").string()), params.str());
  const lq::Program program = lq::Program::load((dir / "model.lqm").string());
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[2])) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<lq::TensorMap> samples;
  const std::string input = program.inputs().at(0).name;
  for (size_t i = 0; samples.size() < n && i < files.size(); ++i) {
    samples.push_back({{input, lq::load_image(files[i].string(), pre)}});
  }
  using clock = std::chrono::steady_clock;
  lq::SimulatorOptions so;
  so.threads = threads;
  // Wall time, and the process's CPU time: on a shared, loaded machine the CPU ratio is the
  // steadier figure (with THREADS=1 the two agree on an idle one).
  const std::clock_t c0 = std::clock();
  const auto t0 = clock::now();
  const lq::Simulator reference(q.graph, so);
  const lq::FixedSimulator fixed(program, {threads});
  for (const lq::TensorMap& s : samples) {
    reference.run(s);
    fixed.run_float(s);
  }
  const double runs = std::chrono::duration<double>(clock::now() - t0).count();
  const double runs_cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
  lq::AnalysisOptions options;
  options.threads = threads;
  const std::clock_t c1 = std::clock();
  const auto t1 = clock::now();
  const lq::PrecisionReport report = lq::analyze_precision(q, program, samples, options);
  const double analysis = std::chrono::duration<double>(clock::now() - t1).count();
  const double analysis_cpu = double(std::clock() - c1) / CLOCKS_PER_SEC;
  std::printf("%zu samples, %d threads: %zu float + %zu fixed runs %.2f s, analysis %.2f s (%zu tensors): ratio %.2f\n",
              samples.size(), threads, samples.size(), samples.size(), runs, analysis, report.tensors.size(),
              analysis / runs);
  std::printf("CPU time: runs %.2f s, analysis %.2f s: ratio %.2f\n", runs_cpu, analysis_cpu, analysis_cpu / runs_cpu);
  if (argc > 6) {
    lq::PrecisionReport written = report;
    if (argc > 7 && std::string(argv[7]) == "sensitivity") {
      options.sensitivity = true;
      written = lq::analyze_precision(q, program, samples, options);
      std::printf("with sensitivity: %.2f s\n", written.seconds);
      for (size_t i = 0; i < written.suggestions.size() && i < 3; ++i) std::printf("  %s\n", written.suggestions[i].c_str());
    }
    written.write(argv[6]);
    std::printf("wrote %s/report.html\n", argv[6]);
  }
  return 0;
}
