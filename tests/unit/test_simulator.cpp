#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

#include "kernel_test_util.hpp"
#include "kernels/thread_pool.hpp"
#include "libquant/simulator.hpp"

using namespace lq;

namespace {

// x[N,4] (N dynamic) -> Relu -> y
Graph relu_graph() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{-1, "N"}, {4, {}}}};
  g.add_input(x);
  Value* y = g.add_value("y");
  g.add_node("Relu", {x}, {y}, "act");
  g.add_output(y);
  return g;
}

}  // namespace

TEST_CASE("Simulator runs a graph and reports every produced value", "[simulator]") {
  const Graph g = relu_graph();
  Simulator sim(g);
  std::vector<std::string> seen;
  const auto out = sim.run({{"x", Tensor::from_vector<float>({2, 4}, {-1, 2, -3, 4, 5, -6, 7, -8})}},
                           [&](const Value& v, const Tensor&) { seen.push_back(v.name()); });
  REQUIRE(out.at("y").to_doubles() == std::vector<double>{0, 2, 0, 4, 5, 0, 7, 0});
  REQUIRE(seen == std::vector<std::string>{"y"});
}

TEST_CASE("Simulator input errors name the input and the expectation", "[simulator][errors]") {
  const Graph g = relu_graph();
  Simulator sim(g);
  REQUIRE_THROWS_WITH(sim.run({}), Catch::Contains("input \"x\" (float32[N,4]) was not given"));
  REQUIRE_THROWS_WITH(sim.run({{"x", Tensor(DType::kFloat32, {2, 5})}}),
                      Catch::Contains("input \"x\": got shape [2,5], the model expects float32[N,4]"));
  REQUIRE_THROWS_WITH(sim.run({{"x", Tensor(DType::kInt32, {2, 4})}}),
                      Catch::Contains("got dtype int32, the model expects float32"));
  REQUIRE_THROWS_WITH(sim.run({{"x", Tensor(DType::kFloat32, {1, 4})}, {"z", Tensor(DType::kFloat32, {1})}}),
                      Catch::Contains("\"z\" is not an input of the model"));
}

TEST_CASE("unknown ops are rejected with the nearest supported op", "[simulator][errors]") {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  g.add_input(x);
  Value* y = g.add_value("y");
  g.add_node("Reluu", {x}, {y}, "typo");
  g.add_output(y);
  try {
    Simulator sim(g);
    FAIL("an unknown op was accepted");
  } catch (const Error& e) {
    REQUIRE(e.code() == StatusCode::kUnsupported);
    REQUIRE_THAT(e.what(), Catch::Contains("Reluu node \"typo\"") &&
                               Catch::Contains("nearest supported op is Relu"));
  }
  Graph custom;
  custom.set_opset("", 13);
  Value* a = custom.add_value("a");
  custom.add_input(a);
  Value* b = custom.add_value("b");
  custom.add_node("Relu", {a}, {b}, "vendor_relu", "com.vendor");
  custom.add_output(b);
  REQUIRE_THROWS_WITH(Simulator(custom), Catch::Contains("op com.vendor.Relu is not supported"));
}

TEST_CASE("supported_ops lists the claimed ops sorted", "[simulator]") {
  const auto ops = supported_ops();
  REQUIRE(std::is_sorted(ops.begin(), ops.end()));
  for (const char* op : {"Conv", "Relu", "Add", "Resize", "Softmax", "MatMul"}) {
    REQUIRE(std::find(ops.begin(), ops.end(), op) != ops.end());
  }
}

TEST_CASE("ThreadPool covers the range once and propagates errors", "[simulator][threads]") {
  for (int threads : {1, 2, 3, 5}) {
    kernels::ThreadPool pool(threads);
    REQUIRE(pool.size() == threads);
    for (int64_t n : {0, 1, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) REQUIRE(h.load() == 1);
    }
    REQUIRE_THROWS_WITH(pool.parallel_for(100, [](int64_t begin, int64_t) {
                          if (begin >= 0) throw std::runtime_error("boom");
                        }),
                        "boom");
    // The pool still works after an error.
    std::atomic<int64_t> sum{0};
    pool.parallel_for(10, [&](int64_t b, int64_t e) { sum += e - b; });
    REQUIRE(sum == 10);
  }
}

TEST_CASE("propagate_shapes makes every value's shape static", "[simulator][shapes]") {
  Graph g = relu_graph();
  REQUIRE_FALSE(g.value("y").type().is_static());
  propagate_shapes(g, {{"x", {3, 4}}});
  REQUIRE(g.value("x").type().str() == "float32[3,4]");
  REQUIRE(g.value("y").type().str() == "float32[3,4]");
  Graph again = relu_graph();
  REQUIRE_THROWS_WITH(propagate_shapes(again, {{"x", {3, 5}}}),
                      Catch::Contains("shape [3,5] does not fit the declared float32[N,4]"));
  REQUIRE_THROWS_WITH(propagate_shapes(again, {}), Catch::Contains("has dynamic shape"));
  REQUIRE_THROWS_WITH(propagate_shapes(again, {{"nope", {1}}}), Catch::Contains("\"nope\" is not an input"));
}
