// Resource limits before allocation: hostile tiny models (a few hundred bytes each) whose
// shape-computing ops ask for terabytes. Each is refused with kResourceExhausted naming the
// node, the size asked for and the limit, in constant folding (optimize), in the float
// Simulator, in shape propagation, and for the compiler's memory plan and a .lqm arena.
#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"

using namespace lq;

namespace {

template <typename Fn>
Error limit_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no lq::Error was thrown");
  return Error(StatusCode::kOk, "");
}

// Restores the process-wide limits when a test that changes them ends (or fails).
struct ScopedLimits {
  ResourceLimits saved;
  explicit ScopedLimits(const ResourceLimits& set) { set_default_resource_limits(set); }
  ~ScopedLimits() { set_default_resource_limits(saved); }
};

void add_int64s(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& values) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
}

void add_floats(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                const std::vector<float>& values) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
}

void add_scalar(onnx::GraphProto* g, const std::string& name, float value) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_float_data(value);
}

// A model of one node "hostile" (op_type, reading `inputs`) followed by Relu -> y.
// `fill` adds the initializers; `x_shape` (if not empty) declares a float input x.
template <typename Fill>
std::string hostile_model(const std::string& op_type, const std::vector<std::string>& inputs,
                          Fill fill, const std::vector<int64_t>& x_shape = {}) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("hostile");
  if (!x_shape.empty()) {
    onnx::ValueInfoProto* x = g->add_input();
    x->set_name("x");
    auto* tt = x->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : x_shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  fill(g);
  onnx::NodeProto* node = g->add_node();
  node->set_op_type(op_type);
  node->set_name("hostile");
  for (const std::string& in : inputs) node->add_input(in);
  node->add_output("big");
  onnx::NodeProto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("act");
  relu->add_input("big");
  relu->add_output("y");
  onnx::ValueInfoProto* y = g->add_output();
  y->set_name("y");
  y->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return model.SerializeAsString();
}

void require_names_node_size_limit(const Error& e, const std::string& node, const std::string& asked,
                                   const std::string& limit) {
  INFO(e.what());
  REQUIRE(e.code() == StatusCode::kResourceExhausted);
  REQUIRE_THAT(std::string(e.what()), Catch::Contains(node) && Catch::Contains(asked) &&
                                          Catch::Contains("limit of " + limit + " bytes"));
}

}  // namespace

TEST_CASE("limits: Expand to 10^6 x 10^6 is refused in constant folding, naming the node",
          "[limits]") {
  const std::string bytes = hostile_model("Expand", {"one", "shape"}, [](onnx::GraphProto* g) {
    add_floats(g, "one", {1}, {1.0f});
    add_int64s(g, "shape", {1000000, 1000000});
  });
  Graph g = parse_onnx(bytes.data(), bytes.size());
  require_names_node_size_limit(limit_error_of([&] { optimize(g); }), "Expand node \"hostile\" output 0",
                                "needs 4000000000000 bytes", "8589934592");
}

TEST_CASE("limits: Expand to 0 x 10^15 is refused before its per-axis tables", "[limits]") {
  // No element, but the kernel's offset table for the second axis would hold 10^15 entries.
  const std::string bytes = hostile_model("Expand", {"one", "shape"}, [](onnx::GraphProto* g) {
    add_floats(g, "one", {1}, {1.0f});
    add_int64s(g, "shape", {0, 1000000000000000});
  });
  Graph g = parse_onnx(bytes.data(), bytes.size());
  require_names_node_size_limit(limit_error_of([&] { optimize(g); }), "Expand node \"hostile\"",
                                "[0,1000000000000000]", "8589934592");
}

TEST_CASE("limits: Tile by 10^9 x 10^9 and by repeats that overflow int64 are refused", "[limits]") {
  const std::string big = hostile_model("Tile", {"data", "repeats"}, [](onnx::GraphProto* g) {
    add_floats(g, "data", {2, 2}, {1, 2, 3, 4});
    add_int64s(g, "repeats", {1000000000, 1000000000});
  });
  Graph g = parse_onnx(big.data(), big.size());
  require_names_node_size_limit(limit_error_of([&] { optimize(g); }), "Tile node \"hostile\" output 0",
                                "[2000000000,2000000000]", "8589934592");
  const std::string overflow = hostile_model("Tile", {"data", "repeats"}, [](onnx::GraphProto* g) {
    add_floats(g, "data", {2, 2}, {1, 2, 3, 4});
    add_int64s(g, "repeats", {INT64_MAX / 2 + 1, 1});
  });
  Graph h = parse_onnx(overflow.data(), overflow.size());
  const Error e = limit_error_of([&] { optimize(h); });
  REQUIRE(e.code() == StatusCode::kResourceExhausted);
  REQUIRE_THAT(std::string(e.what()), Catch::Contains("Tile node \"hostile\"") &&
                                          Catch::Contains("more elements than 64 bits count"));
}

TEST_CASE("limits: Range over 10^12 steps, and over an infinite one, is refused", "[limits]") {
  const std::string big = hostile_model("Range", {"start", "limit", "delta"}, [](onnx::GraphProto* g) {
    add_scalar(g, "start", 0.0f);
    add_scalar(g, "limit", 1e12f);
    add_scalar(g, "delta", 1.0f);
  });
  Graph g = parse_onnx(big.data(), big.size());
  require_names_node_size_limit(limit_error_of([&] { optimize(g); }), "Range node \"hostile\" output 0",
                                "[999999995904]", "8589934592");
  const std::string inf = hostile_model("Range", {"start", "limit", "delta"}, [](onnx::GraphProto* g) {
    add_scalar(g, "start", 0.0f);
    add_scalar(g, "limit", INFINITY);
    add_scalar(g, "delta", 1.0f);
  });
  Graph h = parse_onnx(inf.data(), inf.size());
  require_names_node_size_limit(limit_error_of([&] { optimize(h); }), "Range node \"hostile\"",
                                "[9223372036854775807]", "8589934592");
  const std::string nan = hostile_model("Range", {"start", "limit", "delta"}, [](onnx::GraphProto* g) {
    add_scalar(g, "start", 0.0f);
    add_scalar(g, "limit", NAN);
    add_scalar(g, "delta", 1.0f);
  });
  Graph n = parse_onnx(nan.data(), nan.size());
  REQUIRE_THROWS_WITH(optimize(n), Catch::Contains("Range node \"hostile\"") && Catch::Contains("give no length"));
}

TEST_CASE("limits: Pad by 10^12 at run time in the Simulator, and by pads that overflow", "[limits]") {
  // x is a model input, so nothing folds: the Simulator's kernel refuses it.
  const std::string big = hostile_model(
      "Pad", {"x", "pads"}, [](onnx::GraphProto* g) { add_int64s(g, "pads", {0, 0, 0, 1000000000000}); },
      {2, 2});
  Graph g = parse_onnx(big.data(), big.size());
  const TensorMap feeds{{"x", Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4})}};
  require_names_node_size_limit(limit_error_of([&] { Simulator(g).run(feeds); }),
                                "Pad node \"hostile\" output 0", "[2,1000000000002]", "8589934592");
  const std::string overflow = hostile_model(
      "Pad", {"x", "pads"}, [](onnx::GraphProto* g) { add_int64s(g, "pads", {0, 0, 0, INT64_MAX}); },
      {2, 2});
  Graph h = parse_onnx(overflow.data(), overflow.size());
  optimize(h);  // fuse_pad_pool read 2^63 - 1 through a double (UB under UBSan: fuzz regression)
  const Error e = limit_error_of([&] { Simulator(h).run(feeds); });
  REQUIRE(e.code() == StatusCode::kResourceExhausted);
  REQUIRE_THAT(std::string(e.what()), Catch::Contains("Pad node \"hostile\"") &&
                                          Catch::Contains("more elements than 64 bits count"));
}

TEST_CASE("limits: Resize by 10^5 per axis is refused in shape propagation", "[limits]") {
  const std::string big = hostile_model(
      "Resize", {"x", "", "scales"},
      [](onnx::GraphProto* g) { add_floats(g, "scales", {4}, {1, 1, 100000, 100000}); }, {1, 1, 8, 8});
  Graph g = parse_onnx(big.data(), big.size());
  require_names_node_size_limit(limit_error_of([&] { propagate_shapes(g, {}); }),
                                "Resize node \"hostile\" output 0", "[1,1,800000,800000]", "8589934592");
}

TEST_CASE("limits: the process limits reach import, folding, shape propagation and the Simulator",
          "[limits]") {
  // 4 KiB per tensor, 64 KiB per model: a Tile to [64,64] floats (16 KiB) is too big.
  ResourceLimits small;
  small.max_tensor_bytes = 4096;
  small.max_model_bytes = 65536;
  const std::string tile = hostile_model("Tile", {"data", "repeats"}, [](onnx::GraphProto* g) {
    add_floats(g, "data", {2, 2}, {1, 2, 3, 4});
    add_int64s(g, "repeats", {32, 32});
  });
  Graph folded = parse_onnx(tile.data(), tile.size());
  Graph kept = parse_onnx(tile.data(), tile.size());
  {
    ScopedLimits scoped(small);
    require_names_node_size_limit(limit_error_of([&] { optimize(folded); }), "Tile node \"hostile\"",
                                  "needs 16384 bytes", "4096");
    require_names_node_size_limit(limit_error_of([&] { Simulator(kept).run({}); }),
                                  "Tile node \"hostile\"", "needs 16384 bytes", "4096");
    // A model input's shape in shape propagation.
    const std::string relu = hostile_model("Relu", {"x"}, [](onnx::GraphProto*) {}, {1, 2048});
    Graph r = parse_onnx(relu.data(), relu.size());
    require_names_node_size_limit(limit_error_of([&] { propagate_shapes(r, {{"x", {1, 2048}}}); }),
                                  "model input \"x\"", "needs 8192 bytes", "4096");
    // The model's initializers together: 20 of 4000 bytes each are under the tensor limit.
    onnx::ModelProto many;
    many.set_ir_version(8);
    many.add_opset_import()->set_version(13);
    for (int i = 0; i < 20; ++i) {
      add_floats(many.mutable_graph(), "w" + std::to_string(i), {1000}, std::vector<float>(1000, 1.0f));
    }
    const std::string many_bytes = many.SerializeAsString();
    require_names_node_size_limit(limit_error_of([&] { parse_onnx(many_bytes.data(), many_bytes.size()); }),
                                  "the model's initializers (up to \"w16\")", "need 68000 bytes", "65536");
  }
  // Restored: the same graphs run.
  REQUIRE(ResourceLimits{}.max_tensor_bytes == int64_t{8} << 30);
  REQUIRE(Simulator(kept).run({}).at("y").shape() == Shape({64, 64}));
  REQUIRE_THROWS_WITH(set_default_resource_limits(ResourceLimits{0, 1}), Catch::Contains("must be > 0"));
}

TEST_CASE("limits: the memory plan and a .lqm arena are held to the model limit", "[limits]") {
  // x[1,64] -> Relu -> Relu -> y, compiled with nominal ranges: a 256-byte arena or so.
  const std::string relu = hostile_model("Relu", {"x"}, [](onnx::GraphProto*) {}, {1, 64});
  Graph g = parse_onnx(relu.data(), relu.size());
  const Program program = compile_nominal(g, CompileOptions{});
  const int64_t arena = program.peak_activation_bytes();
  REQUIRE(arena > 0);
  const std::string lqm = program.serialize();
  ResourceLimits small;
  small.max_model_bytes = arena - 1;
  ScopedLimits scoped(small);
  require_names_node_size_limit(limit_error_of([&] { compile_nominal(g, CompileOptions{}); }),
                                "the memory plan of", "bytes", std::to_string(arena - 1));
  require_names_node_size_limit(limit_error_of([&] { Program::parse(lqm.data(), lqm.size(), "tiny.lqm"); }),
                                "tiny.lqm: the activation arena's bytes", "need " + std::to_string(arena),
                                std::to_string(arena - 1));
}
