// Small float graphs built value by value, shared by the tests that quantize and analyze
// whole models (tests/analysis).
#pragma once

#include <string>
#include <vector>

#include "libquant/graph.hpp"

namespace lq::test {

// A graph with one float input "x" of `x_shape`, grown with initializers and nodes whose
// single output carries the node's name.
struct NetBuilder {
  Graph g;
  Value* x = nullptr;

  explicit NetBuilder(const std::vector<int64_t>& x_shape) {
    g.set_opset("", 13);
    x = g.add_value("x");
    std::vector<Dim> dims;
    for (int64_t d : x_shape) dims.push_back({d, {}});
    x->type() = TensorType{DType::kFloat32, true, dims};
    g.add_input(x);
  }
  Value* constant(const std::string& name, const Shape& shape, const std::vector<float>& data) {
    Value* v = g.add_value(name);
    g.set_initializer(v, Tensor::from_vector<float>(shape, data));
    return v;
  }
  Value* node(const std::string& op, const std::vector<Value*>& inputs, const std::string& name) {
    Value* out = g.add_value(name);
    g.add_node(op, inputs, {out}, name);
    return out;
  }
};

// x[1,2,4,4] -> Conv -> c1 (channel 0 a hundred times wider than 1 and 2) -> Conv, which
// amplifies channels 1 and 2 -> c2; x -> Conv -> t; y = c2 + t. c1's int8 step, set by
// channel 0, erases channels 1 and 2: it is by far the most sensitive tensor.
inline Graph sensitive_graph() {
  NetBuilder b({1, 2, 4, 4});
  Value* c1 = b.node("Conv", {b.x, b.constant("w1", {3, 2, 1, 1}, {100, -80, 0.7f, 0.4f, -0.5f, 0.9f})}, "c1");
  Value* c2 = b.node("Conv", {c1, b.constant("w2", {2, 3, 1, 1}, {0.001f, 30, -25, -0.002f, 20, 35})}, "c2");
  Value* t = b.node("Conv", {b.x, b.constant("w3", {2, 2, 1, 1}, {0.5f, 0.25f, -0.25f, 0.5f})}, "t");
  b.g.add_output(b.node("Add", {c2, t}, "y"));
  return std::move(b.g);
}

}  // namespace lq::test
