// Boundary surgery: nodes removed where they touch the model's inputs or outputs (by type,
// repeatedly, or by name), reported for the application; extra outputs; clear errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "kernel_test_util.hpp"
#include "libquant/simulator.hpp"

using namespace lq;

namespace {

// x: uint8 [1,4,4,3] -> Cast(float) -> Transpose(NCHW) -> Conv 1x1 (3 -> 2) -> c
//   -> Transpose(NHWC) -> t -> Softmax -> y; c -> Relu -> r (no output)
Graph tail_model() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kUInt8, true, {{1, {}}, {4, {}}, {4, {}}, {3, {}}}};
  g.add_input(x);
  auto typed = [&](const std::string& name, Shape shape) {
    Value* v = g.add_value(name);
    v->type() = TensorType{DType::kFloat32, true, {}};
    for (int64_t d : shape) v->type().dims.push_back(Dim{d, ""});
    return v;
  };
  Value* xf = typed("x_float", {1, 4, 4, 3});
  Node* cast = g.add_node("Cast", {x}, {xf}, "cast_in");
  cast->set_attr("to", test::attr_int(1));
  Value* xt = typed("x_nchw", {1, 3, 4, 4});
  g.add_node("Transpose", {xf}, {xt}, "to_nchw")->set_attr("perm", test::attr_ints({0, 3, 1, 2}));
  Value* w = g.add_value("w");
  g.set_initializer(w, test::random_tensor({2, 3, 1, 1}, 3));
  Value* c = typed("c", {1, 2, 4, 4});
  g.add_node("Conv", {xt, w}, {c}, "conv");
  Value* r = typed("r", {1, 2, 4, 4});
  g.add_node("Relu", {c}, {r}, "relu");
  Value* t = typed("t", {1, 4, 4, 2});
  g.add_node("Transpose", {c}, {t}, "to_nhwc")->set_attr("perm", test::attr_ints({0, 2, 3, 1}));
  Value* y = typed("y", {1, 4, 4, 2});
  g.add_node("Softmax", {t}, {y}, "softmax");
  g.add_output(y);
  g.verify();
  return g;
}

std::vector<std::string> input_names(const Graph& g) {
  std::vector<std::string> names;
  for (const Value* v : g.inputs()) names.push_back(v->name());
  return names;
}

std::vector<std::string> output_names(const Graph& g) {
  std::vector<std::string> names;
  for (const Value* v : g.outputs()) names.push_back(v->name());
  return names;
}

}  // namespace

TEST_CASE("boundary surgery removes op types at both ends repeatedly and reports them", "[passes]") {
  Graph g = tail_model();
  const Graph original = tail_model();
  const std::vector<RemovedNode> removed = remove_boundary_nodes(g, {{"Softmax", "Transpose", "Cast"}, {}});
  g.verify();
  // The Cast, then the Transpose behind it at the input; the Softmax, then the Transpose
  // before it at the output. The Conv stays (not a listed type).
  REQUIRE(removed.size() == 4);
  std::vector<std::string> names;
  for (const RemovedNode& r : removed) names.push_back(r.name + (r.at_input ? "@in" : "@out"));
  std::sort(names.begin(), names.end());
  REQUIRE(names == std::vector<std::string>{"cast_in@in", "softmax@out", "to_nchw@in", "to_nhwc@out"});
  REQUIRE(input_names(g) == std::vector<std::string>{"x_nchw"});
  REQUIRE(output_names(g) == std::vector<std::string>{"c"});
  REQUIRE(g.find_node("relu") == nullptr);  // it fed no output
  const RemovedNode& softmax = *std::find_if(removed.begin(), removed.end(),
                                             [](const RemovedNode& r) { return r.op_type == "Softmax"; });
  REQUIRE(softmax.inputs == std::vector<std::string>{"t"});
  REQUIRE(softmax.outputs == std::vector<std::string>{"y"});
  const std::string json = removed_nodes_json(removed);
  REQUIRE_THAT(json, Catch::Contains("\"boundary\": \"input\"") && Catch::Contains("\"perm\": [") &&
                         Catch::Contains("\"op_type\": \"Cast\""));
  // Running the removed nodes around the surgered graph gives the original model's output.
  Tensor x(DType::kUInt8, {1, 4, 4, 3});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<uint8_t>()[i] = static_cast<uint8_t>((i * 37) % 251);
  const Tensor want = Simulator(original).run({{"x", x}}).at("y");
  TensorMap inner;
  Simulator(original).run({{"x", x}}, [&](const Value& v, const Tensor& t) {
    if (v.name() == "x_nchw") inner["x_nchw"] = t;
  });
  const Tensor c = Simulator(g).run(inner).at("c");
  Tensor y(DType::kFloat32, {1, 4, 4, 2});
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t w = 0; w < 4; ++w) {
      const float a = c.data<float>()[h * 4 + w], b = c.data<float>()[16 + h * 4 + w];
      const float m = std::max(a, b), ea = std::exp(a - m), eb = std::exp(b - m);
      y.data<float>()[(h * 4 + w) * 2] = ea / (ea + eb);
      y.data<float>()[(h * 4 + w) * 2 + 1] = eb / (ea + eb);
    }
  test::require_close(y, want, 1e-6, 1e-6);
}

TEST_CASE("boundary surgery by name, extra outputs and its errors", "[passes]") {
  SECTION("a name at the boundary") {
    Graph g = tail_model();
    const auto removed = remove_boundary_nodes(g, {{}, {"softmax"}});
    REQUIRE(removed.size() == 1);
    REQUIRE(output_names(g) == std::vector<std::string>{"t"});
  }
  SECTION("names removed inward in any order") {
    Graph g = tail_model();
    REQUIRE(remove_boundary_nodes(g, {{}, {"to_nhwc", "softmax"}}).size() == 2);
    REQUIRE(output_names(g) == std::vector<std::string>{"c"});
  }
  SECTION("a node inside the model") {
    Graph g = tail_model();
    REQUIRE_THROWS_WITH(remove_boundary_nodes(g, {{}, {"conv"}}),
                        Catch::Contains("Conv node \"conv\"") && Catch::Contains("not at the model's boundary"));
  }
  SECTION("a misspelt name and op type") {
    Graph g = tail_model();
    REQUIRE_THROWS_WITH(remove_boundary_nodes(g, {{}, {"sofmax"}}),
                        Catch::Contains("no node has that name") && Catch::Contains("did you mean \"softmax\"?"));
    REQUIRE_THROWS_WITH(remove_boundary_nodes(g, {{"Sofmax"}, {}}),
                        Catch::Contains("the model has none") && Catch::Contains("did you mean \"Softmax\"?"));
  }
  SECTION("extra outputs") {
    Graph g = tail_model();
    add_outputs(g, {"r", "c"});
    REQUIRE(output_names(g) == std::vector<std::string>{"y", "r", "c"});
    REQUIRE_THROWS_WITH(add_outputs(g, {"relu_out"}), Catch::Contains("did you mean \"r\"?") ||
                                                          Catch::Contains("did you mean"));
    REQUIRE_THROWS_WITH(add_outputs(g, {"w"}), Catch::Contains("it is a constant"));
  }
}
