// Writes the seeds that need the library itself: compiled programs (.lqm, and their bare
// payloads for lqm_payload) and calibration statistics, from small models of several op
// kinds. Usage: fuzz_make_seeds CORPUS_DIR (scripts/make-fuzz-seeds.py runs it).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "libquant/libquant.hpp"

namespace fs = std::filesystem;
using namespace lq;

namespace {

Value* input(Graph& g, const std::string& name, std::vector<int64_t> shape) {
  Value* v = g.add_value(name);
  v->type().dtype = DType::kFloat32;
  v->type().has_shape = true;
  for (int64_t d : shape) v->type().dims.push_back({d, ""});
  g.add_input(v);
  return v;
}

Value* constant(Graph& g, const std::string& name, Shape shape, float base) {
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = base * static_cast<float>((i % 5) - 2);
  Value* v = g.add_value(name);
  g.set_initializer(v, t);
  return v;
}

Graph conv_model() {
  Graph g;
  g.set_opset("", 13);
  Value* x = input(g, "x", {1, 2, 4, 4});
  Value* c = g.add_value("c");
  g.add_node("Conv", {x, constant(g, "w", {3, 2, 1, 1}, 0.5f), constant(g, "b", {3}, 0.1f)}, {c}, "conv");
  Value* r = g.add_value("r");
  g.add_node("Relu", {c}, {r}, "relu");
  Value* y = g.add_value("y");
  g.add_node("Add", {r, constant(g, "k", {1, 3, 1, 1}, 0.25f)}, {y}, "add");
  g.add_output(y);
  return g;
}

Graph matmul_model() {
  Graph g;
  g.set_opset("", 13);
  Value* x = input(g, "x", {2, 6});
  Value* m = g.add_value("m");
  g.add_node("MatMul", {x, constant(g, "w", {6, 4}, 0.3f)}, {m}, "matmul");
  Value* s = g.add_value("s");
  g.add_node("Sigmoid", {m}, {s}, "sigmoid");
  Value* y = g.add_value("y");
  g.add_node("Softmax", {s}, {y}, "softmax");
  g.add_output(y);
  return g;
}

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path corpus = argv[1];
  const std::pair<const char*, std::function<Graph()>> models[] = {{"conv", conv_model}, {"matmul", matmul_model}};
  for (const auto& [name, make] : models) {
    Graph g = make();
    Calibrator calibrator(g);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
    for (int s = 0; s < 3; ++s) {
      TensorMap inputs;
      for (Value* in : g.inputs()) {
        Tensor t(DType::kFloat32, in->type().static_shape());
        for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
        inputs[in->name()] = t;
      }
      calibrator.add_sample(inputs);
    }
    write(corpus / "calibration_stats" / (std::string(name) + ".json"), calibrator.table().serialize());
    write(corpus / "onnx" / (std::string(name) + ".onnx"), serialize_onnx(g));
    for (int bits : {8, 16}) {
      if (bits == 16 && std::string(name) == "matmul") continue;  // int16 tables: 0.5 MB
      QuantConfig config = QuantConfig::from_json(bits == 8 ? "{}" : R"({"model": {"activation": "int16"}})");
      const Program program = Compiler().compile(Quantizer(config).quantize(g, calibrator.table()));
      const std::string file = program.serialize();
      const std::string stem = std::string(name) + "_int" + std::to_string(bits);
      write(corpus / "lqm" / (stem + ".lqm"), file);
      write(corpus / "lqm_payload" / (stem + ".pb"), file.substr(24));
    }
  }
  return 0;
}
