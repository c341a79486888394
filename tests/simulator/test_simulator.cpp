#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "kernel_test_util.hpp"
#include "kernels/buffer_pool.hpp"
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

TEST_CASE("BufferPool reuses large buffers zero-filled, and its tensors may outlive it", "[simulator]") {
  auto pool = std::make_shared<kernels::BufferPool>();
  const Shape big = {64, 1024};  // 256 KiB of float32
  const void* first = nullptr;
  {
    Tensor a = pool->allocate(DType::kFloat32, big);
    first = a.raw();
    for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = 7.0f;
    Tensor copy = a;  // the buffer goes back only when the last copy does
    a = Tensor();
    REQUIRE(pool->cached_bytes() == 0);
  }
  REQUIRE(pool->cached_bytes() == 64 * 1024 * sizeof(float));
  Tensor b = pool->allocate(DType::kFloat32, big);
  REQUIRE(b.raw() == first);  // reused
  REQUIRE(pool->cached_bytes() == 0);
  for (int64_t i = 0; i < b.numel(); ++i) REQUIRE(b.data<float>()[i] == 0.0f);
  Tensor small = pool->allocate(DType::kFloat32, {4, 4});  // below the threshold: not pooled
  small = Tensor();
  REQUIRE(pool->cached_bytes() == 0);
  REQUIRE_THROWS_WITH(pool->allocate(DType::kFloat32, {-1, 4}), Catch::Contains("negative dimension"));
  pool.reset();  // b outlives the pool and frees its own buffer (ASan checks)
  b.data<float>()[0] = 1.0f;
}

TEST_CASE("BufferPool hands a reused buffer out unzeroed only when asked", "[simulator]") {
  auto pool = std::make_shared<kernels::BufferPool>();
  const Shape big = {64, 1024};  // 256 KiB of float32
  Tensor fresh = pool->allocate_uninitialized(DType::kFloat32, big);
  for (int64_t i = 0; i < fresh.numel(); ++i) REQUIRE(fresh.data<float>()[i] == 0.0f);  // new: zeroed
  const void* first = fresh.raw();
  for (int64_t i = 0; i < fresh.numel(); ++i) fresh.data<float>()[i] = 3.0f;
  fresh = Tensor();
  Tensor again = pool->allocate_uninitialized(DType::kFloat32, big);
  REQUIRE(again.raw() == first);
  REQUIRE(again.data<float>()[again.numel() - 1] == 3.0f);  // not zero-filled again
  again = Tensor();
  Tensor zeroed = pool->allocate(DType::kFloat32, big);
  REQUIRE(zeroed.raw() == first);
  for (int64_t i = 0; i < zeroed.numel(); ++i) REQUIRE(zeroed.data<float>()[i] == 0.0f);
}

TEST_CASE("BufferPool serves several threads at once", "[simulator][threads]") {
  auto pool = std::make_shared<kernels::BufferPool>();
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Tensor x = pool->allocate(DType::kFloat32, {static_cast<int64_t>(16384 * (1 + (i + t) % 3))});
        if (x.data<float>()[x.numel() - 1] != 0.0f) ++bad;
        x.data<float>()[x.numel() - 1] = static_cast<float>(t + 1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(bad == 0);
  REQUIRE(pool->cached_bytes() > 0);
}

TEST_CASE("Simulator outputs kept by the caller survive later runs", "[simulator]") {
  // y = Relu(x) for x of 64 x 1024: outputs large enough to come from the buffer pool.
  const Graph g = relu_graph();
  const Simulator sim(g);
  Tensor x(DType::kFloat32, {16384, 4});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i % 7) - 3.0f;
  const Tensor kept = sim.run({{"x", x}}).at("y");
  Tensor other(DType::kFloat32, {16384, 4});
  for (int64_t i = 0; i < other.numel(); ++i) other.data<float>()[i] = 5.0f;
  for (int r = 0; r < 3; ++r) REQUIRE(sim.run({{"x", other}}).at("y").data<float>()[0] == 5.0f);
  for (int64_t i = 0; i < kept.numel(); ++i) {
    REQUIRE(kept.data<float>()[i] == std::max(0.0f, static_cast<float>(i % 7) - 3.0f));
  }
}
