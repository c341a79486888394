// The compiler (lib/compiler) on small hand-built graphs: which kernel each op lowers to,
// and that the fixed Simulator agrees with fake quantization: exactly for tables (Lookup),
// data movement (Gather) and CPU nodes, within 1 LSB where a requantization rounds. Also the
// errors a user meets: dynamic inputs, misnamed input shapes, bad run() inputs, unknown
// targets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "kernel_test_util.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

using namespace lq;
using test::attr_int;
using test::attr_ints;
using test::attr_string;

namespace {

// ---- Building graphs ----------------------------------------------------------------------

class Builder {
 public:
  explicit Builder(int64_t opset = 13) { g.set_opset("", opset); }

  Value* input(const std::string& name, const Shape& shape) {
    Value* v = g.add_value(name);
    v->type() = TensorType{DType::kFloat32, true, {}};
    for (int64_t d : shape) v->type().dims.push_back(Dim{d, {}});
    g.add_input(v);
    return v;
  }
  Value* constant(const std::string& name, Tensor data) {
    Value* v = g.add_value(name);
    g.set_initializer(v, std::move(data));
    return v;
  }
  Value* ints(const std::string& name, const std::vector<int64_t>& values) {
    return constant(name,
                    Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values));
  }
  Value* floats(const std::string& name, const std::vector<float>& values) {
    return constant(name,
                    Tensor::from_vector<float>({static_cast<int64_t>(values.size())}, values));
  }
  // A node named `name` writing the value `name`.
  Value* node(const std::string& op, const std::vector<Value*>& inputs, const std::string& name,
              const std::map<std::string, Attribute>& attrs = {}) {
    Value* out = g.add_value(name);
    Node* n = g.add_node(op, inputs, {out}, name);
    for (const auto& [key, a] : attrs) n->set_attr(key, a);
    return out;
  }
  void output(Value* v) { g.add_output(v); }

  Graph g;
};

// ---- Quantizing, compiling, comparing -----------------------------------------------------

TensorMap random_inputs(const Graph& g, uint32_t seed, float range = 2.0f) {
  TensorMap feeds;
  for (const Value* in : g.inputs()) {
    feeds[in->name()] = test::random_tensor(in->type().static_shape(), seed++, -range, range);
  }
  return feeds;
}

struct Compiled {
  QuantizedGraph q;
  Program program;
};

Compiled compile(const Graph& g, const QuantConfig& config = {},
                 const CompileOptions& options = {}) {
  Calibrator calibrator(g);
  for (uint32_t s = 0; s < 4; ++s) calibrator.add_sample(random_inputs(g, 10 * s + 1));
  Compiled c{Quantizer(config).quantize(g, calibrator.table()), Program()};
  c.program = Compiler(options).compile(c.q);
  return c;
}

// The kernels of each node's instructions, in order.
std::map<std::string, std::vector<std::string>> kernels_by_node(const Program& program) {
  std::map<std::string, std::vector<std::string>> out;
  for (const LayerInfo& layer : program.layers()) out[layer.node].push_back(layer.kernel);
  return out;
}

using Kernels = std::vector<std::string>;

const compiler::Instruction& instruction_of(const Program& program, const std::string& node) {
  const auto& all = program.data().instructions;
  const auto it = std::find_if(all.begin(), all.end(),
                               [&](const compiler::Instruction& ins) { return ins.node == node; });
  REQUIRE(it != all.end());
  return *it;
}

const ProgramTensorInfo& tensor_info(const Program& program, const std::string& name) {
  const auto& all = program.data().tensors;
  const auto it = std::find_if(all.begin(), all.end(), [&](const compiler::ProgramTensor& t) {
    return t.info.name == name;
  });
  REQUIRE(it != all.end());
  return it->info;
}

// Largest |fixed − fake| in codes over every output and a few random inputs; float outputs
// (of CPU nodes) must agree exactly.
int64_t max_code_difference(const Compiled& c, int runs = 3) {
  const Simulator fake = fake_quant_simulator(c.q);
  const FixedSimulator fixed(c.program);
  int64_t worst = 0;
  for (int r = 0; r < runs; ++r) {
    const TensorMap feeds = random_inputs(c.q.graph, 1000 + 17 * static_cast<uint32_t>(r));
    const TensorMap want = fake.run(feeds);
    const TensorMap got = fixed.run(feeds);
    for (const ProgramTensorInfo& out : c.program.outputs()) {
      INFO("output " << out.name);
      const Tensor& g = got.at(out.name);
      if (!out.quantized) {
        REQUIRE(g.to_doubles() == want.at(out.name).to_doubles());
        continue;
      }
      const Tensor w = quantize_tensor(want.at(out.name), out.quant);
      REQUIRE(g.dtype() == w.dtype());
      REQUIRE(g.shape() == w.shape());
      const auto a = g.to_int64s();
      const auto b = w.to_int64s();
      for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    }
  }
  return worst;
}

// x[1,2,6,6] -> `op` -> y with the attributes given.
Graph unary(const std::string& op, const std::map<std::string, Attribute>& attrs = {},
            const Shape& shape = {1, 2, 6, 6}, int64_t opset = 13) {
  Builder b(opset);
  b.output(b.node(op, {b.input("x", shape)}, "y", attrs));
  return std::move(b.g);
}

QuantConfig with_dtype(DType dtype) {
  QuantConfig config;
  config.model.activation_dtype = dtype;
  config.model.weight_dtype = dtype;
  return config;
}

// x[1,3,6,6] -> Conv(w[4,3,3,3], b[4], pads 1) -> c, then -> Relu -> y when `relu`.
Graph conv_graph(bool relu = true) {
  Builder b;
  Value* x = b.input("x", {1, 3, 6, 6});
  // Channels of very different magnitude, so per-channel scales differ.
  std::vector<float> w = test::random_floats(4 * 27, 7, -1.0f, 1.0f);
  for (size_t i = 0; i < w.size(); ++i) w[i] *= static_cast<float>(1 << (i / 27));
  Value* conv = b.node("Conv",
                       {x, b.constant("w", Tensor::from_vector<float>({4, 3, 3, 3}, w)),
                        b.floats("b", {0.5f, -0.25f, 1.0f, 0.0f})},
                       "c", {{"pads", attr_ints({1, 1, 1, 1})}});
  b.output(relu ? b.node("Relu", {conv}, "y") : conv);
  return std::move(b.g);
}

}  // namespace

// ---- Linear ops ---------------------------------------------------------------------------

TEST_CASE("Conv + bias + Relu: per-channel weights, int32 bias, the Relu fused as a clamp", "[compiler]") {
  const Compiled c = compile(conv_graph());
  // The Quantizer quantizes the pair once, after the Relu; the Conv writes y directly.
  REQUIRE(c.q.find("c") == nullptr);
  REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"c", {"Conv"}}});
  const ProgramTensorInfo& w = tensor_info(c.program, "w");
  REQUIRE(w.quant.axis == 0);
  REQUIRE(w.quant.scale.size() == 4);
  REQUIRE(w.quant.scale[3] > 4 * w.quant.scale[0]);
  const compiler::Instruction& conv = instruction_of(c.program, "c");
  REQUIRE(conv.macs == 4 * 6 * 6 * 3 * 3 * 3);
  REQUIRE(c.program.data().tensors[static_cast<size_t>(conv.outputs[0])].info.name == "y");
  const compiler::ProgramTensor& bias =
      c.program.data().tensors[static_cast<size_t>(conv.inputs[2])];
  REQUIRE(bias.constant);
  REQUIRE(bias.data.dtype() == DType::kInt32);
  const integer::ConvParams& params = conv.params_as<integer::ConvParams>();
  REQUIRE(params.quant.multipliers.size() == 4);
  const ProgramTensorInfo& yi = tensor_info(c.program, "y");
  REQUIRE(params.quant.output.min == yi.quant.zero_point[0]);  // the Relu: codes of 0 and up

  // The fused output is within 1 LSB of fake quantization (Conv in float, Relu, quantize).
  const Simulator fake = fake_quant_simulator(c.q);
  const FixedSimulator fixed(c.program);
  for (uint32_t seed = 0; seed < 3; ++seed) {
    const TensorMap feeds = random_inputs(c.q.graph, 500 + seed);
    const auto got = fixed.run(feeds).at("y").to_int64s();
    const auto want = quantize_tensor(fake.run(feeds).at("y"), yi.quant).to_int64s();
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("element " << i);
      REQUIRE(std::abs(got[i] - want[i]) <= 1);
      REQUIRE(got[i] >= yi.quant.zero_point[0]);
    }
  }
}

TEST_CASE("Gemm with transB and bias lowers to the Gemm kernel", "[compiler]") {
  Builder b;
  Value* a = b.input("a", {4, 8});
  Value* w = b.constant("w", test::random_tensor({6, 8}, 3));
  b.output(b.node("Gemm", {a, w, b.floats("bias", {1, -1, 0.5f, 0, 2, -2})}, "y",
                  {{"transB", attr_int(1)}}));
  const Compiled c = compile(b.g);
  REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"Gemm"}}});
  REQUIRE(instruction_of(c.program, "y").macs == 4 * 6 * 8);
  REQUIRE(tensor_info(c.program, "w").quant.axis == 0);  // output channels of B^T
  REQUIRE(max_code_difference(c) <= 1);
}

TEST_CASE("MatMul with constant weights and with two data inputs", "[compiler]") {
  SECTION("constant B") {
    Builder b;
    b.output(b.node(
        "MatMul", {b.input("a", {2, 3, 8}), b.constant("w", test::random_tensor({8, 5}, 4))}, "y"));
    const Compiled c = compile(b.g);
    REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"MatMul"}}});
    REQUIRE(instruction_of(c.program, "y").macs == 2 * 3 * 5 * 8);
    REQUIRE(max_code_difference(c) <= 1);
  }
  SECTION("two data inputs, batch broadcast") {
    Builder b;
    b.output(b.node("MatMul", {b.input("a", {2, 4, 8}), b.input("b", {1, 8, 3})}, "y"));
    const Compiled c = compile(b.g);
    REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"MatMul"}}});
    const compiler::Instruction& ins = instruction_of(c.program, "y");
    REQUIRE_FALSE(c.program.data().tensors[static_cast<size_t>(ins.inputs[1])].constant);
    REQUIRE(max_code_difference(c) <= 1);
  }
}

// ---- Elementwise arithmetic ---------------------------------------------------------------

TEST_CASE("Add, Sub and Mul with a broadcast constant", "[compiler]") {
  for (const char* op : {"Add", "Sub", "Mul"}) {
    for (DType dtype : {DType::kInt8, DType::kInt16}) {
      INFO(op << " " << dtype_name(dtype));
      Builder b;
      Value* x = b.input("x", {1, 3, 4, 4});
      Value* k = b.constant("k", Tensor::from_vector<float>({1, 3, 1, 1}, {0.5f, -3.0f, 1.25f}));
      b.output(b.node(op, {x, k}, "y"));
      const Compiled c = compile(b.g, with_dtype(dtype));
      // Sub is the Add kernel with subtract set.
      const std::string kernel = std::string(op) == "Mul" ? "Mul" : "Add";
      REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {kernel}}});
      if (std::string(op) == "Sub") {
        REQUIRE(instruction_of(c.program, "y").params_as<integer::AddParams>().subtract);
      }
      REQUIRE(max_code_difference(c) <= 1);
    }
  }
}

TEST_CASE("Concat rescales inputs of different scales to the output's", "[compiler]") {
  Builder b;
  Value* small = b.input("small", {1, 2, 3});
  Value* large = b.node("Mul", {b.input("large", {1, 3, 3}), b.floats("ten", {10.0f})}, "large10");
  b.output(b.node("Concat", {small, large}, "y", {{"axis", attr_int(1)}}));
  const Compiled c = compile(b.g);
  const ProgramTensorInfo& s = tensor_info(c.program, "small");
  const ProgramTensorInfo& l = tensor_info(c.program, "large10");
  const ProgramTensorInfo& y = tensor_info(c.program, "y");
  REQUIRE(l.quant.scale[0] > 5 * s.quant.scale[0]);
  REQUIRE(kernels_by_node(c.program).at("y") == Kernels{"Concat"});
  const auto& params = instruction_of(c.program, "y").params_as<integer::ConcatParams>();
  REQUIRE(params.axis == 1);
  REQUIRE(params.inputs.size() == 2);
  REQUIRE(params.inputs[0].multiplier != params.inputs[1].multiplier);
  REQUIRE(y.quant.scale[0] >= l.quant.scale[0]);
  // The Mul is a table (a scalar constant), exact; the Concat rounds once more.
  REQUIRE(kernels_by_node(c.program).at("large10") == Kernels{"Lookup"});
  REQUIRE(max_code_difference(c) <= 1);
}

// ---- Pooling ------------------------------------------------------------------------------

TEST_CASE("MaxPool, AveragePool and GlobalAveragePool", "[compiler]") {
  SECTION("MaxPool keeps the input's parameters: exact") {
    const Compiled c = compile(
        unary("MaxPool", {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}}));
    REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"MaxPool"}}});
    REQUIRE(max_code_difference(c) == 0);
  }
  SECTION("AveragePool with pads, not counting them") {
    const Compiled c = compile(unary(
        "AveragePool", {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}}));
    REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"AveragePool"}}});
    REQUIRE(max_code_difference(c) <= 1);
  }
  SECTION("GlobalAveragePool") {
    const Compiled c = compile(unary("GlobalAveragePool"));
    REQUIRE(kernels_by_node(c.program) ==
            std::map<std::string, Kernels>{{"y", {"GlobalAveragePool"}}});
    REQUIRE(max_code_difference(c) <= 1);
  }
}

// ---- Data movement ------------------------------------------------------------------------

TEST_CASE("Resize nearest is a Gather, exact", "[compiler]") {
  Builder b;
  Value* x = b.input("x", {1, 2, 3, 4});
  b.output(b.node("Resize", {x, nullptr, b.floats("scales", {1, 1, 2, 2})}, "y",
                  {{"mode", attr_string("nearest")}}));
  const Compiled c = compile(b.g);
  REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"Gather"}}});
  REQUIRE(tensor_info(c.program, "y").shape == Shape{1, 2, 6, 8});
  REQUIRE(max_code_difference(c) == 0);
}

TEST_CASE("Transpose, Reshape, Slice and Pad are Gathers", "[compiler]") {
  Builder b;
  Value* x = b.input("x", {1, 2, 3, 4});
  Value* t = b.node("Transpose", {x}, "t", {{"perm", attr_ints({0, 3, 1, 2})}});
  Value* r = b.node("Reshape", {t, b.ints("shape", {1, 4, 6})}, "r");
  Value* s = b.node("Slice",
                    {r, b.ints("starts", {1, 5}), b.ints("ends", {4, 0}), b.ints("axes", {1, 2}),
                     b.ints("steps", {1, -2})},
                    "s");
  b.output(s);
  b.output(b.node("Pad", {x, b.ints("pads", {0, 0, 1, 2, 0, 0, 0, 1}), b.floats("value", {0.75f})},
                  "p"));
  const Compiled c = compile(b.g);
  const auto k = kernels_by_node(c.program);
  REQUIRE(k.at("t") == Kernels{"Gather"});
  REQUIRE(k.at("r") == Kernels{"Gather"});
  REQUIRE(k.at("s") == Kernels{"Gather"});
  REQUIRE(tensor_info(c.program, "s").shape == Shape{1, 3, 3});
  // Pad's output has parameters of its own, here equal to the input's (the pad value lies
  // inside its range): one Gather.
  REQUIRE(k.at("p") == Kernels{"Gather"});
  REQUIRE(max_code_difference(c) == 0);
}

TEST_CASE("Pad whose constant lies outside the input's range: Rescale, then Gather", "[compiler]") {
  // The pad value 5 is outside the input's range [-2, 2], so the output has parameters of
  // its own and the fill must be quantized with them: rescaling first, then moving with the
  // output's fill code, gives what fake quantization gives. (Moving first, the fill was the
  // input's saturated code, 109 output codes off; the lowering also read the input's
  // parameters through a reference that appending the output tensor had invalidated.)
  for (DType dtype : {DType::kInt8, DType::kInt16}) {
    INFO(dtype_name(dtype));
    Builder b;
    b.output(b.node("Pad",
                    {b.input("x", {1, 3, 4, 5}), b.ints("pads", {0, 0, 1, 2, 0, 0, 3, 1}),
                     b.floats("value", {5.0f})},
                    "y"));
    const Compiled c = compile(b.g, with_dtype(dtype));
    REQUIRE(kernels_by_node(c.program) ==
            std::map<std::string, Kernels>{{"y", {"Rescale", "Gather"}}});
    const ProgramTensorInfo& x = tensor_info(c.program, "x");
    const ProgramTensorInfo& y = tensor_info(c.program, "y");
    REQUIRE(y.quant.scale[0] > x.quant.scale[0]);
    const compiler::Instruction& gather = c.program.data().instructions.at(1);
    const ProgramTensorInfo& rescaled =
        c.program.data().tensors[static_cast<size_t>(gather.inputs[0])].info;
    REQUIRE(rescaled.shape == x.shape);
    REQUIRE(rescaled.quant.scale == y.quant.scale);
    REQUIRE(rescaled.quant.zero_point == y.quant.zero_point);
    REQUIRE(gather.params_as<integer::GatherOp>().fill ==
            quantize_value(5.0f, y.quant.scale[0], y.quant.zero_point[0], y.quant.qmin(),
                           y.quant.qmax()));
    REQUIRE(max_code_difference(c) <= 1);
  }
}

// ---- Tables and Softmax -------------------------------------------------------------------

TEST_CASE("Sigmoid and HardSwish are exact tables, int8 and int16", "[compiler]") {
  for (const char* op : {"Sigmoid", "HardSwish"}) {
    for (DType dtype : {DType::kInt8, DType::kInt16}) {
      INFO(op << " " << dtype_name(dtype));
      const Compiled c = compile(unary(op, {}, {1, 2, 6, 6}, 14), with_dtype(dtype));
      REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"Lookup"}}});
      const auto& table = instruction_of(c.program, "y").params_as<integer::LookupTable>();
      REQUIRE(table.values.size() == (dtype == DType::kInt16 ? 65536u : 256u));
      REQUIRE(max_code_difference(c) == 0);
    }
  }
}

// x -> Conv -> c; c * HardSigmoid(c) -> Mul by 0.5 -> Add 0.25 -> y (PP-LCNet's HardSwish and
// affine block); c * Sigmoid(c) -> z (SiLU); Sigmoid(c) + Tanh(x) -> u (two roots: no chain).
Graph chains_graph() {
  Builder b;
  Value* x = b.input("x", {1, 3, 6, 6});
  Value* c = b.node("Conv", {x, b.constant("w", test::random_tensor({3, 3, 1, 1}, 21))}, "c");
  Value* gate = b.node("HardSigmoid", {c}, "gate", {{"alpha", test::attr_float(1.0f / 6)}, {"beta", test::attr_float(0.5f)}});
  Value* hswish = b.node("Mul", {c, gate}, "hswish");
  Value* scaled = b.node("Mul", {hswish, b.floats("a", {0.5f})}, "scaled");
  b.output(b.node("Add", {scaled, b.floats("bias", {0.25f})}, "y"));
  b.output(b.node("Mul", {b.node("Sigmoid", {c}, "sig"), c}, "z"));
  b.output(b.node("Add", {b.node("Sigmoid", {c}, "sig2"), b.node("Tanh", {x}, "tanh")}, "u"));
  return std::move(b.g);
}

TEST_CASE("An elementwise chain of one tensor is one exact table", "[compiler]") {
  for (DType dtype : {DType::kInt8, DType::kInt16}) {
    INFO(dtype_name(dtype));
    const Compiled c = compile(chains_graph(), with_dtype(dtype));
    // Inside the chains nothing is quantized; where a second tensor joins, everything is.
    for (const char* inner : {"gate", "hswish", "scaled", "sig"}) REQUIRE(c.q.find(inner) == nullptr);
    for (const char* quantized : {"c", "y", "z", "sig2", "tanh", "u"}) REQUIRE(c.q.find(quantized) != nullptr);
    const auto kernels = kernels_by_node(c.program);
    REQUIRE(kernels.at("y") == Kernels{"Lookup"});
    REQUIRE(kernels.at("z") == Kernels{"Lookup"});
    for (const char* inner : {"gate", "hswish", "scaled", "sig"}) REQUIRE(kernels.count(inner) == 0);
    REQUIRE(kernels.at("u") == Kernels{"Add"});
    const auto& table = instruction_of(c.program, "y").params_as<integer::LookupTable>();
    REQUIRE(table.values.size() == (dtype == DType::kInt16 ? 65536u : 256u));
    REQUIRE(instruction_of(c.program, "y").inputs.size() == 1);
    REQUIRE(c.program.data().tensors[static_cast<size_t>(instruction_of(c.program, "y").inputs[0])].info.name == "c");
    // The chain's end equals fake quantization, which computes the chain in float: given
    // the same codes of c, the same codes out.
    TensorMap fake_values;
    fake_quant_simulator(c.q).run(random_inputs(c.q.graph, 77), [&](const Value& v, const Tensor& t) {
      fake_values[v.name()] = t.clone();
    });
    const ProgramTensorInfo& ci = tensor_info(c.program, "c");
    const auto codes = quantize_tensor(fake_values.at("c"), ci.quant).to_int64s();
    for (const char* end : {"y", "z"}) {
      const auto& t = instruction_of(c.program, end).params_as<integer::LookupTable>();
      const auto want = quantize_tensor(fake_values.at(end), tensor_info(c.program, end).quant).to_int64s();
      for (size_t i = 0; i < want.size(); ++i) {
        REQUIRE(t.values[static_cast<size_t>(codes[i] - ci.quant.qmin())] == want[i]);
      }
    }
    // End to end, the Conv's one-code differences pass through the tables' slopes.
    if (dtype == DType::kInt8) REQUIRE(max_code_difference(c) <= 1);
  }
}

TEST_CASE("A chain whose end cannot be a table lowers its inner nodes after all", "[compiler]") {
  SECTION("the end is kept on the CPU by the target") {
    CompileOptions options;
    options.target.keep_on_cpu("Add");
    const Compiled c = compile(chains_graph(), {}, options);
    const auto kernels = kernels_by_node(c.program);
    REQUIRE(kernels.at("y") == Kernels{"CPU"});
    REQUIRE(kernels.at("scaled") == Kernels{"CPU"});  // float: no parameters of its own
    REQUIRE(kernels.count("gate") == 1);
    REQUIRE(max_code_difference(c) <= 1);
  }
  SECTION("the end stays in float (quantize: false)") {
    QuantConfig config;
    config.nodes["y"].quantize = false;
    const Compiled c = compile(chains_graph(), config);
    REQUIRE(c.q.find("y") == nullptr);
    REQUIRE(c.q.find("scaled") != nullptr);  // the chain now ends at the last quantized node
    REQUIRE(kernels_by_node(c.program).at("scaled") == Kernels{"Lookup"});
    REQUIRE(kernels_by_node(c.program).at("y") == Kernels{"CPU"});
    REQUIRE(max_code_difference(c) <= 1);
  }
}

TEST_CASE("The Compiler lowers by the Quantizer's decisions, and derives them only when absent", "[compiler]") {
  const Compiled chains = compile(chains_graph());
  REQUIRE(chains.q.decisions.has_value());
  REQUIRE(chains.q.decisions->chains ==
          std::map<std::string, std::string>{{"gate", "c"}, {"hswish", "c"}, {"scaled", "c"}, {"sig", "c"}});
  const Compiled conv = compile(conv_graph());
  REQUIRE(conv.q.decisions->fusions == std::map<std::string, std::string>{{"c", "y"}});
  // Built by hand (no decisions): the Compiler derives the same ones, the same program.
  for (const Compiled* c : {&chains, &conv}) {
    QuantizedGraph by_hand;
    by_hand.graph = c->q.graph.clone();
    by_hand.params = c->q.params;
    REQUIRE(Compiler().compile(by_hand).serialize() == c->program.serialize());
  }
  // Without the records, no table covers the chain and no Conv writes the Relu's output.
  QuantizedGraph unchained;
  unchained.graph = chains.q.graph.clone();
  unchained.params = chains.q.params;
  unchained.decisions = QuantDecisions{};
  REQUIRE(kernels_by_node(Compiler().compile(unchained)).at("gate") == Kernels{"CPU"});
  QuantizedGraph unfused;
  unfused.graph = conv.q.graph.clone();
  unfused.params = conv.q.params;
  unfused.decisions = QuantDecisions{};
  REQUIRE(kernels_by_node(Compiler().compile(unfused)).at("c") == Kernels{"CPU"});
}

TEST_CASE("ReduceMean over any axes: a gather to (1, kept, reduced), then an average", "[compiler]") {
  for (const std::vector<int64_t>& axes : {std::vector<int64_t>{1}, {0, 2}, {-1}}) {
    Builder b;
    Value* x = b.input("x", {2, 3, 5});
    b.output(b.node("ReduceMean", {x}, "y", {{"axes", attr_ints(axes)}, {"keepdims", attr_int(0)}}));
    const Compiled c = compile(b.g);
    INFO("axes " << axes.size() << " first " << axes[0]);
    REQUIRE(kernels_by_node(c.program) ==
            std::map<std::string, Kernels>{{"y", {"Gather", "GlobalAveragePool"}}});
    REQUIRE(max_code_difference(c) <= 1);
  }
}

TEST_CASE("Softmax lowers to the integer Softmax, within 1 LSB", "[compiler]") {
  const Compiled c = compile(unary("Softmax", {{"axis", attr_int(-1)}}));
  REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"Softmax"}}});
  REQUIRE(max_code_difference(c) <= 1);
  const Compiled wide =
      compile(unary("Softmax", {{"axis", attr_int(-1)}}), with_dtype(DType::kInt16));
  REQUIRE(max_code_difference(wide) <= 1);
  // Kept on the CPU by the target: exact.
  CompileOptions cpu_softmax;
  cpu_softmax.target.keep_on_cpu("Softmax");
  const Compiled cpu = compile(unary("Softmax", {{"axis", attr_int(-1)}}), {}, cpu_softmax);
  REQUIRE(kernels_by_node(cpu.program) == std::map<std::string, Kernels>{{"y", {"CPU"}}});
  REQUIRE(max_code_difference(cpu) == 0);
}

TEST_CASE("Relu and Clip on int16 are clamped rescales", "[compiler]") {
  Builder b;
  Value* x = b.input("x", {1, 2, 6, 6});
  b.output(b.node("Relu", {x}, "relu"));
  b.output(b.node("Clip",
                  {x, b.constant("lo", Tensor::scalar<float>(-0.5f)),
                   b.constant("hi", Tensor::scalar<float>(0.75f))},
                  "clip"));
  const Compiled c = compile(b.g, with_dtype(DType::kInt16));
  REQUIRE(kernels_by_node(c.program) ==
          std::map<std::string, Kernels>{{"relu", {"Rescale"}}, {"clip", {"Rescale"}}});
  REQUIRE(max_code_difference(c) <= 1);
  // On the int8 target int16 tensors are not integer: the nodes run on the CPU, which
  // dequantizes the int16 codes and quantizes its results again, exactly as fake
  // quantization does.
  CompileOptions int8_target;
  int8_target.target = Target::named("int8");
  const Compiled cpu = compile(b.g, with_dtype(DType::kInt16), int8_target);
  REQUIRE(kernels_by_node(cpu.program) ==
          std::map<std::string, Kernels>{{"relu", {"CPU"}}, {"clip", {"CPU"}}});
  for (const ProgramTensorInfo& out : cpu.program.outputs()) REQUIRE(out.dtype == DType::kInt16);
  REQUIRE(max_code_difference(cpu) == 0);
}

// ---- CPU nodes ----------------------------------------------------------------------------

TEST_CASE("Target::cpu_ops keeps an op on the CPU, with the reason", "[compiler]") {
  CompileOptions options;
  options.target.keep_on_cpu("Sigmoid");
  const Compiled c = compile(unary("Sigmoid"), {}, options);
  const LayerInfo layer = c.program.layers().at(0);
  REQUIRE(layer.kernel == "CPU");
  REQUIRE_THAT(layer.cpu_reason, Catch::Contains("target \"generic\" keeps Sigmoid on the CPU"));
  REQUIRE(c.program.instruction_count() == static_cast<int64_t>(c.program.layers().size()));
  REQUIRE(c.program.cpu_instruction_count() == 1);
  REQUIRE(max_code_difference(c) == 0);  // dequantize, the same float op, quantize
}

TEST_CASE("ConvTranspose: integer, grouped, output_padding, bias and a fused Relu", "[compiler]") {
  Builder b;
  Value* x = b.input("x", {1, 4, 4, 4});
  // 2 groups of 2 input and 3 output channels; per-channel weight scales along axis 1.
  Value* y = b.node("ConvTranspose",
                    {x, b.constant("w", test::random_tensor({4, 3, 3, 3}, 9)),
                     b.floats("b", {0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.4f})},
                    "y",
                    {{"strides", attr_ints({2, 2})},
                     {"pads", attr_ints({1, 1, 1, 1})},
                     {"output_padding", attr_ints({1, 0})},
                     {"group", attr_int(2)}});
  b.output(b.node("Relu", {y}, "r"));
  const Compiled c = compile(b.g);
  REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"ConvTranspose"}}});
  REQUIRE(c.program.outputs().at(0).shape == Shape{1, 6, 8, 7});
  REQUIRE(max_code_difference(c) <= 1);
}

TEST_CASE("ConvTranspose with weights computed at run time stays on the CPU, exactly", "[compiler]") {
  Builder b;
  Value* x = b.input("x", {1, 2, 4, 4});
  Value* w = b.input("w", {2, 3, 3, 3});
  b.output(b.node("ConvTranspose", {x, w}, "y", {{"strides", attr_ints({2, 2})}}));
  const Compiled c = compile(b.g);
  const LayerInfo layer = c.program.layers().at(0);
  REQUIRE(layer.kernel == "CPU");
  REQUIRE(layer.cpu_reason == "ConvTranspose weights are computed at run time");
  REQUIRE(max_code_difference(c) == 0);
}

// ---- Weight and scale variants ------------------------------------------------------------

TEST_CASE("int4 weights: codes from -8 to 7, the integer Conv within 1 LSB", "[compiler]") {
  QuantConfig config;
  config.model.weight_dtype = DType::kInt4;
  Builder b;
  Value* x = b.input("x", {1, 3, 6, 6});
  b.output(b.node("Conv",
                  {x, b.constant("w", test::random_tensor({4, 3, 3, 3}, 21)),
                   b.floats("b", {0.1f, 0.2f, -0.3f, 0.0f})},
                  "y"));
  const Compiled c = compile(b.g, config);
  REQUIRE(kernels_by_node(c.program) == std::map<std::string, Kernels>{{"y", {"Conv"}}});
  const compiler::Instruction& conv = instruction_of(c.program, "y");
  const compiler::ProgramTensor& w = c.program.data().tensors[static_cast<size_t>(conv.inputs[1])];
  REQUIRE(w.info.quant.dtype == DType::kInt4);
  const auto codes = w.data.to_int64s();
  REQUIRE(*std::min_element(codes.begin(), codes.end()) >= -8);
  REQUIRE(*std::max_element(codes.begin(), codes.end()) <= 7);
  REQUIRE(*std::max_element(codes.begin(), codes.end()) >= 6);  // the range is used
  REQUIRE(max_code_difference(c) <= 1);
}

TEST_CASE("power-of-two scales make every requantization a shift", "[compiler]") {
  QuantConfig config;
  config.model.scale_kind = ScaleKind::kPowerOfTwo;
  const Compiled c = compile(conv_graph(false), config);
  REQUIRE(kernels_by_node(c.program).at("c") == Kernels{"Conv"});
  for (const compiler::ProgramTensor& t : c.program.data().tensors) {
    if (!t.info.quantized || t.info.quant.dtype == DType::kInt32) continue;
    for (float s : t.info.quant.scale) {
      INFO(t.info.name << " scale " << s);
      REQUIRE(std::exp2(std::round(std::log2(s))) == s);
    }
  }
  const auto& conv = instruction_of(c.program, "c").params_as<integer::ConvParams>();
  for (const Multiplier& m : conv.quant.multipliers) REQUIRE(m.is_power_of_two());
  REQUIRE(max_code_difference(c) <= 1);
}

// ---- Errors -------------------------------------------------------------------------------

TEST_CASE("dynamic inputs need CompileOptions::input_shapes, misnamed ones get a suggestion",
          "[compiler][errors]") {
  Builder b;
  Value* x = b.g.add_value("image");
  x->type() = TensorType{DType::kFloat32, true, {{-1, "N"}, {4, {}}}};
  b.g.add_input(x);
  b.output(b.node("Sigmoid", {x}, "y"));
  Calibrator calibrator(b.g);
  calibrator.add_sample({{"image", test::random_tensor({2, 4}, 1)}});
  const QuantizedGraph q = Quantizer(QuantConfig{}).quantize(b.g, calibrator.table());

  REQUIRE_THROWS_WITH(Compiler().compile(q),
                      Catch::Contains("model input \"image\" has dynamic shape") &&
                          Catch::Contains("CompileOptions::input_shapes"));
  CompileOptions misnamed;
  misnamed.input_shapes["imagee"] = {2, 4};
  REQUIRE_THROWS_WITH(Compiler(misnamed).compile(q),
                      Catch::Contains("\"imagee\", which is not a model input") &&
                          Catch::Contains("did you mean \"image\"?"));
  CompileOptions sized;
  sized.input_shapes["image"] = {3, 4};
  const Program program = Compiler(sized).compile(q);
  REQUIRE(program.inputs().at(0).shape == Shape{3, 4});
}

TEST_CASE("FixedSimulator::run names the input and what is wrong with it", "[compiler][errors]") {
  const Compiled c = compile(unary("Sigmoid", {}, {1, 4}));
  const FixedSimulator sim(c.program);
  const Tensor good = test::random_tensor({1, 4}, 5);
  REQUIRE_THROWS_WITH(sim.run({}),
                      Catch::Contains("program input \"x\" (int8[1,4]) was not given"));
  REQUIRE_THROWS_WITH(
      sim.run({{"x", test::random_tensor({1, 5}, 5)}}),
      Catch::Contains("input \"x\" has shape [1,5], the program was compiled for [1,4]"));
  REQUIRE_THROWS_WITH(sim.run({{"x", Tensor(DType::kInt32, {1, 4})}}),
                      Catch::Contains("input \"x\" has dtype int32, expected int8 or float32"));
  REQUIRE_THROWS_WITH(sim.run({{"x", good}, {"z", good}}),
                      Catch::Contains("\"z\" is not an input of the program (inputs: x)"));
  try {
    sim.run({});
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.code() == StatusCode::kInvalidArgument);
  }
  // Integer codes are accepted as they are and give the same result as the float input.
  const Tensor codes = quantize_tensor(good, c.program.inputs().at(0).quant);
  REQUIRE(sim.run({{"x", codes}}).at("y").to_int64s() ==
          sim.run({{"x", good}}).at("y").to_int64s());
}

TEST_CASE("Target::named knows generic and int8 and lists them otherwise", "[compiler][errors]") {
  REQUIRE(Target::named("generic").int16());
  REQUIRE_FALSE(Target::named("int8").int16());
  REQUIRE(Target::named("int8").name() == "int8");
  REQUIRE_THROWS_WITH(Target::named("bogus"), Catch::Contains("unknown target \"bogus\"") &&
                                                  Catch::Contains("generic, int8"));
}

TEST_CASE("Target: the built-in profiles' capabilities, and the default is generic", "[compiler]") {
  REQUIRE(Target::names() == std::vector<std::string>{"generic", "int8", "pow2-npu", "small-npu"});
  REQUIRE(Target().name() == "generic");
  const Target generic = Target::named("generic");
  REQUIRE(generic.int16_activations());
  REQUIRE(generic.int16_weights());
  REQUIRE(generic.weight_bits() == std::vector<int>{4, 8, 16});
  REQUIRE(generic.per_channel());
  REQUIRE_FALSE(generic.power_of_two_scales());
  REQUIRE(generic.cpu_ops().empty());
  const Target int8 = Target::named("int8");
  REQUIRE_FALSE(int8.int16_activations());
  REQUIRE_FALSE(int8.int16_weights());
  REQUIRE(int8.allows_weight_bits(8));
  REQUIRE_FALSE(int8.allows_weight_bits(16));
}

TEST_CASE("Target: cpu_reason and keep_on_cpu, a copy keeps its own CPU ops", "[compiler]") {
  Builder b;
  Value* x = b.input("x", {1, 4});
  b.output(b.node("Sigmoid", {x}, "y"));
  const Node& sigmoid = *b.g.find_node("y");
  Target target = Target::named("int8");
  REQUIRE(target.cpu_reason(sigmoid).empty());
  const Target before = target;
  target.keep_on_cpu("Sigmoid");
  REQUIRE(target.cpu_reason(sigmoid) == "target \"int8\" keeps Sigmoid on the CPU");
  REQUIRE(before.cpu_reason(sigmoid).empty());
  REQUIRE(Target::named("int8").cpu_ops().empty());
}

TEST_CASE("Target: the cost hook is a roofline of MACs and bytes", "[compiler]") {
  TargetProfile profile = Target::named("generic").profile();
  profile.name = "roofline";
  profile.cost = TargetCostModel{4.0, 2.0, 5e8};
  const Target t(profile);
  REQUIRE(t.cycles(LayerWork{}) == 0);
  REQUIRE(t.cycles(LayerWork{400, 10, 10}) == 100);   // compute-bound: 400 / 4
  REQUIRE(t.cycles(LayerWork{4, 300, 100}) == 200);   // memory-bound: 400 / 2
  REQUIRE(t.cycles(LayerWork{1, 0, 0}) == 1);         // a partial cycle is a cycle
  REQUIRE(t.seconds(LayerWork{400, 0, 0}) == Approx(100 / 5e8));
}

TEST_CASE("Target registry: a profile added at run time is compiled for by name", "[compiler]") {
  TargetRegistry registry = TargetRegistry::builtin();
  TargetProfile npu = Target::named("int8").profile();
  npu.name = "test_npu";
  npu.unsupported = [](const Node& node) {
    return node.op_type() == "Sigmoid" ? std::string("test_npu has no Sigmoid unit") : std::string();
  };
  registry.add(npu);
  REQUIRE(registry.names() == std::vector<std::string>{"generic", "int8", "pow2-npu", "small-npu", "test_npu"});
  REQUIRE_THROWS_WITH(Target::named("test_npu"), Catch::Contains("generic, int8"));  // builtin unchanged

  CompileOptions options;
  options.target = registry.named("test_npu");
  const Compiled sigmoid = compile(unary("Sigmoid"), {}, options);
  REQUIRE(sigmoid.program.layers().at(0).kernel == "CPU");
  REQUIRE(sigmoid.program.layers().at(0).cpu_reason == "test_npu has no Sigmoid unit");
  REQUIRE(max_code_difference(sigmoid) == 0);
  const Compiled relu = compile(unary("Relu"), {}, options);
  REQUIRE(relu.program.layers().at(0).kernel != "CPU");

  REQUIRE_THROWS_WITH(registry.add(npu), Catch::Contains("target \"test_npu\" is already registered"));
  npu.name = "Test";
  REQUIRE_THROWS_WITH(registry.add(npu), Catch::Contains("lower case"));
  npu.name = "slow";
  npu.cost.macs_per_cycle = 0.0;
  REQUIRE_THROWS_WITH(registry.add(npu), Catch::Contains("cost.macs_per_cycle is 0"));
  REQUIRE_THROWS_WITH(registry.named("slow"), Catch::Contains("expected one of generic, int8, pow2-npu, small-npu, test_npu"));
}
