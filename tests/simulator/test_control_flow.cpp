// If with a run-time condition and Loop run in float by the Simulator (their subgraphs node
// by node), and the Compiler keeps them as listed CPU nodes that the fixed Simulator runs.
#include <catch2/catch.hpp>

#include <memory>

#include "kernel_test_util.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

using namespace lq;

namespace {

Value* typed(Graph& g, const std::string& name, DType dtype, Shape shape) {
  Value* v = g.add_value(name);
  v->type() = TensorType{dtype, true, {}};
  for (int64_t d : shape) v->type().dims.push_back(Dim{d, ""});
  return v;
}

Attribute graph_attr(std::shared_ptr<Graph> g, size_t declared) {
  Attribute a;
  a.type = AttrType::kGraph;
  a.graph = std::move(g);
  a.graph_declared_inputs = declared;
  return a;
}

// y = If(cond, then: Relu(x) * 2, else: Neg(x)); both branches capture x.
Graph if_model() {
  Graph g;
  g.set_opset("", 13);
  Value* x = typed(g, "x", DType::kFloat32, {1, 4});
  Value* cond = typed(g, "cond", DType::kBool, {});
  g.add_input(x);
  g.add_input(cond);
  auto then_g = std::make_shared<Graph>();
  then_g->set_name("then");
  then_g->set_opset("", 13);
  Value* tx = typed(*then_g, "x", DType::kFloat32, {1, 4});
  then_g->add_input(tx);
  Value* two = then_g->add_value("two");
  then_g->set_initializer(two, Tensor::from_vector<float>({1}, {2.0f}));
  Value* r = typed(*then_g, "t_relu", DType::kFloat32, {1, 4});
  then_g->add_node("Relu", {tx}, {r}, "t_relu");
  Value* t_out = typed(*then_g, "t_out", DType::kFloat32, {1, 4});
  then_g->add_node("Mul", {r, two}, {t_out}, "t_mul");
  then_g->add_output(t_out);
  auto else_g = std::make_shared<Graph>();
  else_g->set_name("else");
  else_g->set_opset("", 13);
  Value* ex = typed(*else_g, "x", DType::kFloat32, {1, 4});
  else_g->add_input(ex);
  Value* e_out = typed(*else_g, "e_out", DType::kFloat32, {1, 4});
  else_g->add_node("Neg", {ex}, {e_out}, "e_neg");
  else_g->add_output(e_out);
  Value* y = typed(g, "y", DType::kFloat32, {1, 4});
  Node* node = g.add_node("If", {cond, x}, {y}, "branch");
  node->set_attr("then_branch", graph_attr(then_g, 0));
  node->set_attr("else_branch", graph_attr(else_g, 0));
  g.add_output(y);
  return g;
}

Tensor boolean(bool b) {
  Tensor t(DType::kBool, {});
  t.data<bool>()[0] = b;
  return t;
}

}  // namespace

TEST_CASE("an If with a run-time condition runs the branch the condition picks", "[simulator]") {
  const Graph g = if_model();
  const Tensor x = test::f32({1, 4}, {-1.5f, -0.25f, 0.5f, 3.0f});
  const Simulator sim(g);
  test::require_close(sim.run({{"x", x}, {"cond", boolean(true)}}).at("y"), test::f32({1, 4}, {0, 0, 1, 6}), 0, 0);
  test::require_close(sim.run({{"x", x}, {"cond", boolean(false)}}).at("y"),
                      test::f32({1, 4}, {1.5f, 0.25f, -0.5f, -3.0f}), 0, 0);
  // Quantized and compiled, the If is a listed CPU node the fixed Simulator runs in float.
  Calibrator calibrator(g);
  for (int s = 0; s < 4; ++s) {
    calibrator.add_sample({{"x", s == 0 ? x : test::random_tensor({1, 4}, static_cast<uint32_t>(s), -3.0f, 3.0f)},
                           {"cond", boolean(s % 2 == 0)}});
  }
  QuantConfig config;
  config.model.method = RangeMethod::kMax;
  const Program program = Compiler().compile(Quantizer(config).quantize(g, calibrator.table()));
  REQUIRE(program.layers().size() == 1);
  REQUIRE(program.layers()[0].kernel == "CPU");
  REQUIRE_THAT(program.layers()[0].cpu_reason, Catch::Contains("If"));
  const std::string bytes = program.serialize();
  const FixedSimulator fixed(Program::parse(bytes.data(), bytes.size()));
  for (const bool c : {true, false}) {
    const Tensor want = sim.run({{"x", x}, {"cond", boolean(c)}}).at("y");
    // One int8 step of x's and of y's range (6 / 255 each, about 0.024) at most.
    test::require_close(fixed.run_float({{"x", x}, {"cond", boolean(c)}}).at("y"), want, 0.05, 0.0);
  }
}

TEST_CASE("a Loop carries its values and stacks its scan outputs", "[simulator]") {
  // Loop(M, cond=true, v=0): body(i, c, v) -> (c, v + x * i, v * 2); M = 4.
  Graph g;
  g.set_opset("", 13);
  Value* x = typed(g, "x", DType::kFloat32, {3});
  Value* m = typed(g, "m", DType::kInt64, {});
  g.add_input(x);
  g.add_input(m);
  Value* cond = g.add_value("cond0");
  g.set_initializer(cond, [] {
    Tensor t(DType::kBool, {});
    t.data<bool>()[0] = true;
    return t;
  }());
  Value* v0 = g.add_value("v0");
  g.set_initializer(v0, Tensor::from_vector<float>({3}, {0, 0, 0}));
  auto body = std::make_shared<Graph>();
  body->set_name("body");
  body->set_opset("", 13);
  Value* iter = typed(*body, "i", DType::kInt64, {});
  Value* c_in = typed(*body, "c", DType::kBool, {});
  Value* v_in = typed(*body, "v", DType::kFloat32, {3});
  Value* bx = typed(*body, "x", DType::kFloat32, {3});
  for (Value* v : {iter, c_in, v_in, bx}) body->add_input(v);
  Value* fi = typed(*body, "fi", DType::kFloat32, {});
  body->add_node("Cast", {iter}, {fi}, "cast")->set_attr("to", test::attr_int(1));
  Value* xi = typed(*body, "xi", DType::kFloat32, {3});
  body->add_node("Mul", {bx, fi}, {xi}, "mul");
  Value* v_out = typed(*body, "v_out", DType::kFloat32, {3});
  body->add_node("Add", {v_in, xi}, {v_out}, "add");
  Value* c_out = typed(*body, "c_out", DType::kBool, {});
  body->add_node("Identity", {c_in}, {c_out}, "keep");
  Value* two = body->add_value("two");
  body->set_initializer(two, Tensor::from_vector<float>({1}, {2.0f}));
  Value* scan = typed(*body, "scan", DType::kFloat32, {3});
  body->add_node("Mul", {v_in, two}, {scan}, "double");
  body->add_output(c_out);
  body->add_output(v_out);
  body->add_output(scan);
  Value* v_final = typed(g, "v_final", DType::kFloat32, {3});
  Value* scans = typed(g, "scans", DType::kFloat32, {4, 3});
  Node* loop = g.add_node("Loop", {m, cond, v0, x}, {v_final, scans}, "loop");
  loop->set_attr("body", graph_attr(body, 3));
  g.add_output(v_final);
  g.add_output(scans);
  const TensorMap out = Simulator(g).run({{"x", test::f32({3}, {1, -2, 0.5f})}, {"m", Tensor::scalar<int64_t>(4)}});
  // v after i = 0..3: x * (0 + 1 + 2 + 3); scans: 2 * v before each iteration.
  test::require_close(out.at("v_final"), test::f32({3}, {6, -12, 3}), 0, 0);
  test::require_close(out.at("scans"), test::f32({4, 3}, {0, 0, 0, 0, 0, 0, 2, -4, 1, 6, -12, 3}), 0, 0);
}
