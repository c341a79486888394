// Runs a single ONNX op through the float Simulator: the way unit tests drive
// one kernel with real node plumbing (attributes, optional inputs, opset).
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"

namespace lq::test {

struct OpSpec {
  std::string op_type;
  std::vector<Tensor> inputs;             // an empty Tensor() marks an absent optional input
  std::map<std::string, Attribute> attrs;
  size_t num_outputs = 1;
  int64_t opset = 17;
  bool reference_only = false;
  int threads = 1;
};

inline Attribute attr_int(int64_t v) { Attribute a; a.type = AttrType::kInt; a.i = v; return a; }
inline Attribute attr_float(float v) { Attribute a; a.type = AttrType::kFloat; a.f = v; return a; }
inline Attribute attr_string(std::string v) { Attribute a; a.type = AttrType::kString; a.s = std::move(v); return a; }
inline Attribute attr_ints(std::vector<int64_t> v) { Attribute a; a.type = AttrType::kInts; a.ints = std::move(v); return a; }
inline Attribute attr_floats(std::vector<float> v) { Attribute a; a.type = AttrType::kFloats; a.floats = std::move(v); return a; }

inline Tensor f32(Shape shape, const std::vector<float>& values) {
  return Tensor::from_vector<float>(std::move(shape), values);
}

// Uniform values in [lo, hi) from a fixed seed (the same sequence in every test file).
inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  return f32(shape, random_floats(static_cast<size_t>(shape_numel(shape)), seed, lo, hi));
}

// Builds a one-node graph (inputs fed at run time) and runs it.
inline std::vector<Tensor> run_op(const OpSpec& spec) {
  Graph g;
  g.set_opset("", spec.opset);
  std::vector<Value*> ins;
  TensorMap feeds;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    if (spec.inputs[i].empty()) {
      ins.push_back(nullptr);
      continue;
    }
    Value* v = g.add_value("in" + std::to_string(i));
    v->type().dtype = spec.inputs[i].dtype();
    g.add_input(v);
    feeds["in" + std::to_string(i)] = spec.inputs[i];
    ins.push_back(v);
  }
  std::vector<Value*> outs;
  for (size_t i = 0; i < spec.num_outputs; ++i) outs.push_back(g.add_value("out" + std::to_string(i)));
  Node* n = g.add_node(spec.op_type, ins, outs, "node_under_test");
  for (const auto& [name, a] : spec.attrs) n->set_attr(name, a);
  for (Value* v : outs) g.add_output(v);
  SimulatorOptions options;
  options.reference_only = spec.reference_only;
  options.threads = spec.threads;
  Simulator sim(g, options);
  TensorMap result = sim.run(feeds);
  std::vector<Tensor> out;
  for (size_t i = 0; i < spec.num_outputs; ++i) out.push_back(result.at("out" + std::to_string(i)));
  return out;
}

// Element-wise comparison with a clear failure message.
inline void require_close(const Tensor& actual, const Tensor& expected, double atol = 1e-5,
                          double rtol = 1e-5) {
  REQUIRE(actual.shape() == expected.shape());
  const auto a = actual.to_doubles();
  const auto e = expected.to_doubles();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i << ": got " << a[i] << ", expected " << e[i]);
    const bool both_nan = std::isnan(a[i]) && std::isnan(e[i]);
    REQUIRE((both_nan || std::fabs(a[i] - e[i]) <= atol + rtol * std::fabs(e[i])));
  }
}

}  // namespace lq::test
