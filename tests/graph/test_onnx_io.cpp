#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "kernel_test_util.hpp"
#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"

using namespace lq;
namespace fs = std::filesystem;

namespace {

using test::random_tensor;

Value* constant(Graph& g, const std::string& name, Tensor t) {
  Value* v = g.add_value(name);
  g.set_initializer(v, std::move(t));
  return v;
}

// x[1,3,8,8] -> Conv(4x3x3x3, pad 1) -> BatchNormalization -> Relu -> Identity -> y
Graph conv_bn_graph() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {8, {}}, {8, {}}}};
  g.add_input(x);
  Value* w = constant(g, "w", random_tensor({4, 3, 3, 3}, 1));
  Value* b = constant(g, "b", random_tensor({4}, 2));
  Value* conv_out = g.add_value("conv_out");
  Node* conv = g.add_node("Conv", {x, w, b}, {conv_out}, "conv");
  conv->set_attr("pads", test::attr_ints({1, 1, 1, 1}));
  Tensor var = random_tensor({4}, 6);
  for (int i = 0; i < 4; ++i) var.data<float>()[i] = 0.5f + var.data<float>()[i] * var.data<float>()[i];
  Value* bn_out = g.add_value("bn_out");
  g.add_node("BatchNormalization",
             {conv_out, constant(g, "gamma", random_tensor({4}, 3)), constant(g, "beta", random_tensor({4}, 4)),
              constant(g, "mean", random_tensor({4}, 5)), constant(g, "var", std::move(var))},
             {bn_out}, "bn");
  Value* relu_out = g.add_value("relu_out");
  g.add_node("Relu", {bn_out}, {relu_out}, "relu");
  Value* y = g.add_value("y");
  g.add_node("Identity", {relu_out}, {y}, "id");
  g.add_output(y);
  return g;
}

Tensor run_single(const Graph& g, const Tensor& x) {
  Simulator sim(g);
  return sim.run({{"x", x}}).at("y");
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / name).string();
}

}  // namespace

TEST_CASE("ONNX export then import keeps structure and results", "[onnx]") {
  const Graph g = conv_bn_graph();
  const std::string bytes = serialize_onnx(g);
  const Graph back = parse_onnx(bytes.data(), bytes.size());
  REQUIRE(back.num_nodes() == g.num_nodes());
  REQUIRE(back.opset("") == 13);
  REQUIRE(back.inputs().size() == 1);
  REQUIRE(back.inputs()[0]->type().str() == "float32[1,3,8,8]");
  REQUIRE(back.find_node("bn")->op_type() == "BatchNormalization");
  // ONNX shape inference filled in the intermediate shapes.
  REQUIRE(back.value("conv_out").type().str() == "float32[1,4,8,8]");
  const Tensor x = random_tensor({1, 3, 8, 8}, 9);
  test::require_close(run_single(back, x), run_single(g, x), 0.0, 0.0);
}

TEST_CASE("optimize fuses BN, removes Identity and keeps results", "[onnx][passes]") {
  Graph g = conv_bn_graph();
  const Tensor x = random_tensor({1, 3, 8, 8}, 10);
  const Tensor before = run_single(g, x);
  const auto applied = optimize(g);
  REQUIRE(std::find(applied.begin(), applied.end(), "fuse_batchnorm") != applied.end());
  std::vector<std::string> ops;
  for (const Node* n : g.nodes()) ops.push_back(n->op_type());
  // The Identity feeds the graph output, so it stays to keep the output's name.
  REQUIRE(ops == std::vector<std::string>{"Conv", "Relu", "Identity"});
  REQUIRE(g.find_value("gamma") == nullptr);  // BN parameters are gone
  test::require_close(run_single(g, x), before, 1e-5, 1e-5);
}

TEST_CASE("Add, Mul and BatchNormalization after a grouped ConvTranspose fold into it", "[passes]") {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {4, {}}, {5, {}}, {5, {}}}};
  g.add_input(x);
  // 4 input channels in 2 groups, 3 outputs per group: 6 output channels.
  Value* deconv_out = g.add_value("deconv_out");
  Node* deconv = g.add_node("ConvTranspose",
                            {x, constant(g, "w", random_tensor({4, 3, 2, 2}, 21)), constant(g, "b", random_tensor({6}, 22))},
                            {deconv_out}, "deconv");
  deconv->set_attr("group", test::attr_int(2));
  deconv->set_attr("strides", test::attr_ints({2, 2}));
  // A per-channel bias Add and scale Mul (det's ConvTranspose is followed by both spellings).
  Value* biased = g.add_value("biased");
  g.add_node("Add", {deconv_out, constant(g, "shift", random_tensor({1, 6, 1, 1}, 28))}, {biased}, "add");
  Value* scaled = g.add_value("scaled");
  g.add_node("Mul", {biased, constant(g, "gain", random_tensor({6, 1, 1}, 29))}, {scaled}, "mul");
  Tensor var = random_tensor({6}, 23);
  for (int i = 0; i < 6; ++i) var.data<float>()[i] = 0.5f + var.data<float>()[i] * var.data<float>()[i];
  Value* y = g.add_value("y");
  g.add_node("BatchNormalization",
             {scaled, constant(g, "gamma", random_tensor({6}, 24)), constant(g, "beta", random_tensor({6}, 25)),
              constant(g, "mean", random_tensor({6}, 26)), constant(g, "var", std::move(var))},
             {y}, "bn");
  Value* out = g.add_value("out");
  g.add_node("Relu", {y}, {out}, "relu");
  g.add_output(out);
  const Tensor input = random_tensor({1, 4, 5, 5}, 27);
  const Tensor before = Simulator(g).run({{"x", input}}).at("out");
  propagate_shapes(g, {});  // fuse_conv_affine needs the output's rank
  const auto applied = optimize(g);
  REQUIRE(std::find(applied.begin(), applied.end(), "fuse_batchnorm") != applied.end());
  REQUIRE(std::find(applied.begin(), applied.end(), "fuse_conv_affine") != applied.end());
  std::vector<std::string> ops;
  for (const Node* n : g.nodes()) ops.push_back(n->op_type());
  REQUIRE(ops == std::vector<std::string>{"ConvTranspose", "Relu"});
  test::require_close(Simulator(g).run({{"x", input}}).at("out"), before, 1e-5, 1e-5);
}

TEST_CASE("fold_constants evaluates constant subgraphs", "[passes]") {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type().dtype = DType::kFloat32;
  g.add_input(x);
  Value* c = g.add_value("c");
  Node* k = g.add_node("Constant", {}, {c}, "const");
  Attribute value;
  value.type = AttrType::kTensor;
  value.t = Tensor::from_vector<float>({2}, {1.0f, -3.0f});
  k->set_attr("value", value);
  Value* nc = g.add_value("nc");
  g.add_node("Neg", {c}, {nc}, "neg_const");
  Value* dead = g.add_value("dead");
  g.add_node("Relu", {x}, {dead}, "unused");
  Value* y = g.add_value("y");
  g.add_node("Add", {x, nc}, {y}, "add");
  g.add_output(y);
  optimize(g);
  REQUIRE(g.num_nodes() == 1);
  REQUIRE(g.nodes()[0]->op_type() == "Add");
  REQUIRE(g.value("nc").initializer()->to_doubles() == std::vector<double>{-1.0, 3.0});
  REQUIRE(g.find_value("dead") == nullptr);
}

TEST_CASE("corrupt, truncated and missing models give clear errors", "[onnx][errors]") {
  const std::string garbage = "this is not a protobuf \xff\xff\xff";
  REQUIRE_THROWS_WITH(parse_onnx(garbage.data(), garbage.size()),
                      Catch::Contains("not a valid ONNX model"));
  const std::string bytes = serialize_onnx(conv_bn_graph());
  for (size_t cut : {size_t{1}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 3}) {
    INFO("truncated to " << cut << " bytes");
    REQUIRE_THROWS_AS(parse_onnx(bytes.data(), cut), Error);
  }
  REQUIRE_THROWS_WITH(load_onnx("/nonexistent/model.onnx"),
                      Catch::Contains("cannot open model file '/nonexistent/model.onnx'"));
  try {
    load_onnx("/nonexistent/model.onnx");
  } catch (const Error& e) {
    REQUIRE(e.code() == StatusCode::kNotFound);
  }
}

TEST_CASE("import rejects unsupported opsets and undefined values", "[onnx][errors]") {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_version(19);
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type("Relu");
  node->set_name("r");
  node->add_input("nowhere");
  node->add_output("y");
  model.mutable_graph()->add_output()->set_name("y");
  std::string bytes = model.SerializeAsString();
  REQUIRE_THROWS_WITH(parse_onnx(bytes.data(), bytes.size()),
                      Catch::Contains("opset 19") && Catch::Contains("7..18"));
  opset->set_version(13);
  bytes = model.SerializeAsString();
  REQUIRE_THROWS_WITH(parse_onnx(bytes.data(), bytes.size()),
                      Catch::Contains("Relu node \"r\" (input 0)") && Catch::Contains("\"nowhere\""));
}

TEST_CASE("initializers in external data files are loaded beside the model", "[onnx]") {
  const fs::path dir = fs::temp_directory_path() / "lq_external_data_test";
  fs::create_directories(dir);
  const Tensor weight = random_tensor({3}, 11);
  {
    std::ofstream data(dir / "weights.bin", std::ios::binary);
    data.write("pad!", 4);  // the tensor starts at offset 4
    data.write(static_cast<const char*>(weight.raw()), static_cast<std::streamsize>(weight.nbytes()));
  }
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  auto* init = graph->add_initializer();
  init->set_name("w");
  init->set_data_type(onnx::TensorProto::FLOAT);
  init->add_dims(3);
  init->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const char* key, const std::string& value) {
    auto* e = init->add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add_entry("location", "weights.bin");
  add_entry("offset", "4");
  add_entry("length", std::to_string(weight.nbytes()));
  auto* node = graph->add_node();
  node->set_op_type("Neg");
  node->add_input("w");
  node->add_output("y");
  graph->add_output()->set_name("y");
  {
    std::ofstream file(dir / "model.onnx", std::ios::binary);
    file << model.SerializeAsString();
  }
  const Graph g = load_onnx((dir / "model.onnx").string());
  REQUIRE(g.value("w").initializer()->to_doubles() == weight.to_doubles());

  fs::remove(dir / "weights.bin");
  REQUIRE_THROWS_WITH(load_onnx((dir / "model.onnx").string()),
                      Catch::Contains("initializer \"w\"") && Catch::Contains("weights.bin"));
  fs::remove_all(dir);
}

TEST_CASE("save_onnx writes atomically and load_onnx reads it back", "[onnx]") {
  const std::string path = temp_path("lq_saved_model.onnx");
  save_onnx(conv_bn_graph(), path);
  REQUIRE_FALSE(fs::exists(path + ".tmp"));
  const Graph g = load_onnx(path);
  REQUIRE(g.num_nodes() == 4);
  fs::remove(path);
  REQUIRE_THROWS_AS(save_onnx(conv_bn_graph(), "/nonexistent/dir/model.onnx"), Error);
}

namespace {

Value* input4d(Graph& g, const std::string& name, Shape shape) {
  Value* x = g.add_value(name);
  x->type() = TensorType{DType::kFloat32, true, {}};
  for (int64_t d : shape) x->type().dims.push_back(Dim{d, {}});
  g.add_input(x);
  return x;
}

Node* chain(Graph& g, Value*& cur, const std::string& op, const std::string& name,
            std::vector<Value*> extra = {}) {
  Value* out = g.add_value(name + "_out");
  std::vector<Value*> ins = {cur};
  ins.insert(ins.end(), extra.begin(), extra.end());
  Node* n = g.add_node(op, ins, {out}, name);
  cur = out;
  return n;
}

}  // namespace

TEST_CASE("upgrade_opset rewrites opset-9 idioms and computes the same", "[onnx][passes]") {
  Graph g;
  g.set_opset("", 9);
  Value* cur = input4d(g, "x", {1, 3, 4, 6});
  Node* slice = chain(g, cur, "Slice", "slice");
  slice->set_attr("starts", test::attr_ints({0, 1}));
  slice->set_attr("ends", test::attr_ints({1, 6}));
  slice->set_attr("axes", test::attr_ints({0, 3}));
  Node* clip = chain(g, cur, "Clip", "clip");
  clip->set_attr("min", test::attr_float(-0.5f));
  clip->set_attr("max", test::attr_float(0.75f));
  Node* up = chain(g, cur, "Upsample", "up", {constant(g, "scales", Tensor::from_vector<float>({4}, {1, 1, 2, 2}))});
  up->set_attr("mode", test::attr_string("nearest"));
  chain(g, cur, "Softmax", "soft")->set_attr("axis", test::attr_int(2));  // 2-D coercion
  chain(g, cur, "Squeeze", "squeeze")->set_attr("axes", test::attr_ints({0}));
  g.add_output(cur);
  const Tensor x = random_tensor({1, 3, 4, 6}, 21);
  const Tensor before = Simulator(g).run({{"x", x}}).at(cur->name());

  Graph upgraded = g.clone();
  REQUIRE(upgrade_opset(upgraded, 13));
  REQUIRE(upgraded.opset("") == 13);
  for (const Node* n : upgraded.nodes()) {
    REQUIRE(n->op_type() != "Upsample");
    REQUIRE_FALSE(n->has_attr("starts"));
    REQUIRE_FALSE(n->has_attr("min"));
  }
  upgraded.verify();
  const std::string bytes = serialize_onnx(upgraded);
  const Graph reloaded = parse_onnx(bytes.data(), bytes.size());
  test::require_close(Simulator(reloaded).run({{"x", x}}).at(cur->name()), before, 0.0, 0.0);
  REQUIRE_FALSE(upgrade_opset(upgraded, 13));  // already there
}

TEST_CASE("upgrade_opset refuses an op it cannot rewrite, naming it", "[onnx][passes][errors]") {
  Graph g;
  g.set_opset("", 9);
  Value* cur = input4d(g, "x", {1, 4});
  chain(g, cur, "Scatter", "old_scatter",
        {constant(g, "idx", Tensor::from_vector<int64_t>({1, 1}, {0})),
         constant(g, "upd", Tensor::from_vector<float>({1, 1}, {1.0f}))});
  g.add_output(cur);
  REQUIRE_THROWS_WITH(upgrade_opset(g, 13), Catch::Contains("Scatter node \"old_scatter\""));
}

TEST_CASE("Conv followed by per-channel Mul and Add folds into the Conv", "[passes]") {
  Graph g;
  g.set_opset("", 13);
  Value* cur = input4d(g, "x", {1, 3, 5, 5});
  chain(g, cur, "Conv", "conv", {constant(g, "w", random_tensor({4, 3, 3, 3}, 31)), constant(g, "b", random_tensor({4}, 32))});
  chain(g, cur, "Mul", "scale", {constant(g, "s", random_tensor({4, 1, 1}, 33))});
  chain(g, cur, "Add", "shift", {constant(g, "t", random_tensor({1, 4, 1, 1}, 34))});
  chain(g, cur, "Relu", "relu");
  g.add_output(cur);
  const Tensor x = random_tensor({1, 3, 5, 5}, 35);
  const Tensor before = Simulator(g).run({{"x", x}}).at(cur->name());
  propagate_shapes(g, {});
  optimize(g);
  REQUIRE(g.num_nodes() == 2);  // Conv, Relu
  test::require_close(Simulator(g).run({{"x", x}}).at(cur->name()), before, 1e-5, 1e-5);
}

TEST_CASE("x * Clip(x + 3, 0, 6) / 6 becomes x * HardSigmoid(x)", "[passes]") {
  Graph g;
  g.set_opset("", 13);
  Value* x = input4d(g, "x", {1, 2, 3, 3});
  Value* cur = x;
  chain(g, cur, "Add", "plus3", {constant(g, "three", Tensor::scalar<float>(3.0f))});
  chain(g, cur, "Clip", "clip", {constant(g, "zero", Tensor::scalar<float>(0.0f)), constant(g, "six", Tensor::scalar<float>(6.0f))});
  Value* gate = cur;
  Value* prod = g.add_value("prod");
  g.add_node("Mul", {x, gate}, {prod}, "mul");
  cur = prod;
  chain(g, cur, "Div", "div", {constant(g, "six_again", Tensor::scalar<float>(6.0f))});
  chain(g, cur, "Relu", "after");  // keeps the Div output off the graph outputs
  g.add_output(cur);
  Tensor in = random_tensor({1, 2, 3, 3}, 41);
  for (int64_t i = 0; i < in.numel(); ++i) in.data<float>()[i] *= 5.0f;  // cover both knees
  const Tensor before = Simulator(g).run({{"x", in}}).at(cur->name());
  optimize(g);
  std::vector<std::string> ops;
  for (const Node* n : g.nodes()) ops.push_back(n->op_type());
  REQUIRE(ops == std::vector<std::string>{"HardSigmoid", "Mul", "Relu"});
  test::require_close(Simulator(g).run({{"x", in}}).at(cur->name()), before, 1e-6, 1e-6);
}

namespace {

// The error a call throws (its code and message), for checks on both.
template <typename Fn>
Error error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no lq::Error was thrown");
  return Error(StatusCode::kOk, "");
}

// shape (constant) -> ConstantOfShape "huge" -> y: asks for 10^12 float32 zeros.
onnx::ModelProto huge_constant_of_shape_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("huge");
  onnx::TensorProto* shape = g->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(1000000);
  shape->add_int64_data(1000000);
  onnx::NodeProto* node = g->add_node();
  node->set_op_type("ConstantOfShape");
  node->set_name("huge");
  node->add_input("shape");
  node->add_output("zeros");
  onnx::NodeProto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("act");
  relu->add_input("zeros");
  relu->add_output("y");
  onnx::ValueInfoProto* y = g->add_output();
  y->set_name("y");
  y->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return model;
}

}  // namespace

TEST_CASE("a ConstantOfShape asking for 10^12 elements is refused before allocating, naming the node",
          "[onnx][errors][limits]") {
  const std::string bytes = huge_constant_of_shape_model().SerializeAsString();
  Graph g = parse_onnx(bytes.data(), bytes.size());
  const Error e = error_of([&] { optimize(g); });
  REQUIRE(e.code() == StatusCode::kResourceExhausted);
  REQUIRE_THAT(std::string(e.what()), Catch::Contains("ConstantOfShape node \"huge\" output 0") &&
                                          Catch::Contains("[1000000,1000000]") &&
                                          Catch::Contains("needs 4000000000000 bytes") &&
                                          Catch::Contains("limit of 8589934592 bytes"));
  // The Simulator checks with its own, settable limits.
  Graph unfolded = parse_onnx(bytes.data(), bytes.size());
  SimulatorOptions options;
  options.limits.max_tensor_bytes = 1 << 20;
  const Error small = error_of([&] { Simulator(unfolded, options).run({}); });
  REQUIRE(small.code() == StatusCode::kResourceExhausted);
  REQUIRE_THAT(std::string(small.what()), Catch::Contains("limit of 1048576 bytes"));
}

TEST_CASE("an initializer whose shape asks for more than its data holds is refused before allocating",
          "[onnx][errors][limits]") {
  onnx::ModelProto model = huge_constant_of_shape_model();
  onnx::TensorProto* w = model.mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(100000);
  w->add_dims(100000);  // 40 GB declared, 2 values stored
  w->add_float_data(1.0f);
  w->add_float_data(2.0f);
  const std::string typed = model.SerializeAsString();
  const Error e = error_of([&] { parse_onnx(typed.data(), typed.size()); });
  REQUIRE(e.code() == StatusCode::kResourceExhausted);
  REQUIRE_THAT(std::string(e.what()), Catch::Contains("\"w\"") && Catch::Contains("needs 40000000000 bytes"));
  w->mutable_dims()->Set(0, 1000);
  w->mutable_dims()->Set(1, 1000);  // within the limit, but 2 values for 10^6 elements
  const std::string short_data = model.SerializeAsString();
  REQUIRE_THROWS_WITH(parse_onnx(short_data.data(), short_data.size()),
                      Catch::Contains("holds 2 values but its shape [1000,1000] needs 1000000"));
  w->clear_float_data();
  w->set_raw_data(std::string(8, '\0'));
  const std::string raw = model.SerializeAsString();
  REQUIRE_THROWS_WITH(parse_onnx(raw.data(), raw.size()),
                      Catch::Contains("raw data has 8 bytes but shape [1000,1000] of float32 needs 4000000"));
}
