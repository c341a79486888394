// Calibration's cost against one float inference, and its peak memory against one
// inference's plus the histograms, each measured in a child process of its own (so that one
// measurement's peak does not carry into the next):
//
//   calibration MODEL.onnx PICTURE_DIR HxW [THREADS=1,2] [KEEP=2]
//
// The pictures get PP-OCR det's preprocessing (stretched to HxW, ImageNet mean and scale);
// the model is shaped to 1x3xHxW and optimized as the Pipeline does. For each thread count:
//   inference   one float Simulator run on the first picture (warm, median of 5), with the
//               process's peak resident memory (VmHWM) after loading, decoding and running;
//   calibration a Calibrator over every picture of the folder (decoding included), keeping
//               KEEP samples as `lquant quantize` does (auto_samples), with its VmHWM.
// It prints wall and CPU time per sample, the ratio to one inference, and the peak memory
// ratio calibration / (inference + histograms). Note the machine's load (printed) when
// comparing figures: the CPU time is the one to trust on a shared machine.
#include <libquant/libquant.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The process's peak and current resident memory in KiB (/proc/self/status).
long status_kib(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

lq::ImagePreprocess det_preprocess(int64_t height, int64_t width) {
  lq::ImagePreprocess p;
  p.height = height;
  p.width = width;
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  for (int c = 0; c < 3; ++c) {
    p.mean[c] = 255.0f * mean[c];
    p.scale[c] = 1.0f / (255.0f * std[c]);
  }
  return p;
}

lq::Graph shaped_graph(const std::string& model, int64_t height, int64_t width, int threads,
                       std::string& input) {
  lq::Graph graph = lq::load_onnx(model);
  for (const lq::Value* v : graph.inputs()) {
    if (!v->is_constant()) input = v->name();
  }
  lq::propagate_shapes(graph, {{input, {1, 3, height, width}}}, threads);
  lq::optimize(graph);
  return graph;
}

std::vector<fs::path> pictures(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".jpg" || ext == ".png" || ext == ".jpeg" || ext == ".bmp") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The child's side: one measurement, printed as key=value pairs on one line.
int child(const std::string& what, const std::string& model, const std::string& dir,
          int64_t height, int64_t width, int threads, size_t keep) {
  std::string input;
  const lq::Graph graph = shaped_graph(model, height, width, threads, input);
  const lq::ImagePreprocess pre = det_preprocess(height, width);
  const long loaded_kib = status_kib("VmRSS");
  if (what == "inference") {
    const lq::TensorMap sample{{input, lq::load_image(pictures(dir).at(0).string(), pre)}};
    lq::SimulatorOptions options;
    options.threads = threads;
    const lq::Simulator simulator(graph, options);
    simulator.run(sample);  // warm-up
    std::vector<double> wall, cpu;
    for (int r = 0; r < 5; ++r) {
      const double c0 = cpu_seconds();
      const auto t0 = Clock::now();
      simulator.run(sample);
      wall.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      cpu.push_back(cpu_seconds() - c0);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf("wall_ms=%.2f cpu_ms=%.2f hwm_kib=%ld loaded_kib=%ld\n", 1e3 * wall[2], 1e3 * cpu[2],
                status_kib("VmHWM"), loaded_kib);
    return 0;
  }
  lq::CalibrationOptions options;
  options.threads = threads;
  options.keep_samples = keep;
  lq::Calibrator calibrator(graph, options);
  const double c0 = cpu_seconds();
  const auto t0 = Clock::now();
  calibrator.add_sources({{input, lq::CalibrationSource{{dir}, true, pre}}});
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  const lq::CalibrationTable& table = calibrator.table();
  size_t histogram_bytes = 0, kept_bytes = 0;
  for (const auto& [name, stats] : table.tensors) {
    histogram_bytes += stats.histogram.counts().size() * sizeof(uint64_t) +
                       (stats.channel_min.size() + stats.channel_max.size()) * sizeof(double);
  }
  for (const lq::KeptSample& kept : table.kept) {
    for (const auto& [name, data] : kept.inputs) kept_bytes += data.nbytes();
  }
  const double samples = static_cast<double>(table.samples);
  std::printf("samples=%llu wall_ms=%.2f cpu_ms=%.2f hwm_kib=%ld loaded_kib=%ld hist_kib=%zu kept_kib=%zu tensors=%zu\n",
              static_cast<unsigned long long>(table.samples), 1e3 * wall / samples,
              1e3 * cpu / samples, status_kib("VmHWM"), loaded_kib, histogram_bytes / 1024,
              kept_bytes / 1024, table.tensors.size());
  return 0;
}

// Runs this program as a child measuring `what`; its key=value line as a map.
std::map<std::string, double> measure(const std::string& self, const std::string& what,
                                      char** argv, int threads, size_t keep) {
  std::ostringstream command;
  command << "'" << self << "' --child " << what << " '" << argv[1] << "' '" << argv[2] << "' "
          << argv[3] << " " << threads << " " << keep;
  FILE* pipe = popen(command.str().c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot start " + command.str());
  char line[1024] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  if (pclose(pipe) != 0 || !got) throw std::runtime_error("measurement failed: " + command.str());
  std::map<std::string, double> values;
  std::istringstream fields(line);
  std::string field;
  while (fields >> field) {
    const size_t eq = field.find('=');
    values[field.substr(0, eq)] = std::stod(field.substr(eq + 1));
  }
  return values;
}

std::string load_average() {
  std::ifstream loadavg("/proc/loadavg");
  std::string one, five, fifteen;
  loadavg >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc >= 3 && std::string(argv[1]) == "--child") {
    if (argc < 8) return 2;
    int height = 0, width = 0;
    if (std::sscanf(argv[5], "%dx%d", &height, &width) != 2) return 2;
    return child(argv[2], argv[3], argv[4], height, width, std::atoi(argv[6]),
                 std::stoul(argv[7]));
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL.onnx PICTURE_DIR HxW [THREADS=1,2] [KEEP=2]\n", argv[0]);
    return 2;
  }
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<int> thread_counts;
  std::stringstream list(argc > 4 ? argv[4] : "1,2");
  for (std::string t; std::getline(list, t, ',');) thread_counts.push_back(std::stoi(t));
  const size_t keep = argc > 5 ? std::stoul(argv[5]) : 2;
  std::printf("calibration vs one float inference (%s, %s, %zu kept samples); load average %s\n",
              fs::path(argv[1]).filename().c_str(), argv[3], keep, load_average().c_str());
  std::printf("%-7s | %-23s | %-29s | %-11s | %-38s | %s\n", "threads", "inference ms (cpu)",
              "calibration ms/sample (cpu)", "ratio (cpu)", "peak MiB: infer + hist (kept) -> calib",
              "memory ratio");
  for (const int threads : thread_counts) {
    const auto infer = measure(self, "inference", argv, threads, keep);
    const auto calib = measure(self, "calibration", argv, threads, keep);
    const double bound_kib = infer.at("hwm_kib") + calib.at("hist_kib");
    std::printf("%-7d | %8.1f (%8.1f)       | %8.1f (%8.1f) x %-5.0f  | %4.2f (%4.2f) | %7.1f + %5.1f (%5.1f) -> %7.1f   | %.2f\n",
                threads, infer.at("wall_ms"), infer.at("cpu_ms"), calib.at("wall_ms"),
                calib.at("cpu_ms"), calib.at("samples"), calib.at("wall_ms") / infer.at("wall_ms"),
                calib.at("cpu_ms") / infer.at("cpu_ms"), infer.at("hwm_kib") / 1024.0,
                calib.at("hist_kib") / 1024.0, calib.at("kept_kib") / 1024.0,
                calib.at("hwm_kib") / 1024.0, calib.at("hwm_kib") / bound_kib);
  }
  std::printf("load average after: %s\n", load_average().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "calibration bench: %s\n", e.what());
  return 1;
}
