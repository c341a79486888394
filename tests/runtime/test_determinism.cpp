// Determinism of the fixed-point Simulator: a small but real-shaped conv net (stem conv,
// depthwise conv, 1x1 conv with a residual Add, pooling, a MatMul head), compiled int8 and
// int16, gives bit-identical integer outputs across runs, across 1, 2, 3 and 4 threads and
// with every SIMD path this CPU has forced in turn (kernels/simd.hpp: portable, avx2,
// avx512). PP-OCR models are not needed: the net is built here.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "kernel_test_util.hpp"
#include "kernels/float/optimized/sgemm.hpp"
#include "kernels/integer/optimized/elementwise_kernels.hpp"
#include "kernels/integer/optimized/int8_kernels.hpp"
#include "kernels/simd.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"

using namespace lq;

namespace {

Value* weight(Graph& g, const std::string& name, const Shape& shape, uint32_t seed, float scale) {
  Value* v = g.add_value(name);
  g.set_initializer(v, test::random_tensor(shape, seed, -scale, scale));
  return v;
}

Value* node(Graph& g, const std::string& op, const std::vector<Value*>& in, const std::string& name,
            const std::map<std::string, Attribute>& attrs = {}) {
  Value* out = g.add_value(name + "_out");
  Node* n = g.add_node(op, in, {out}, name);
  for (const auto& [key, a] : attrs) n->set_attr(key, a);
  return out;
}

// x[1,3,32,32] -> Conv 3->16 3x3 s2 + Relu -> depthwise 3x3 + Relu -> Conv 1x1 16->16
// -> Add (residual) -> Relu -> GlobalAveragePool -> Flatten -> MatMul 16->10 -> Add -> y
Graph conv_net() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {32, {}}, {32, {}}}};
  g.add_input(x);
  using test::attr_int;
  using test::attr_ints;
  Value* c1 = node(g, "Conv", {x, weight(g, "w1", {16, 3, 3, 3}, 1, 0.4f), weight(g, "b1", {16}, 2, 0.1f)}, "stem",
                   {{"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}});
  Value* r1 = node(g, "Relu", {c1}, "stem_relu");
  Value* c2 = node(g, "Conv", {r1, weight(g, "w2", {16, 1, 3, 3}, 3, 0.5f), weight(g, "b2", {16}, 4, 0.1f)}, "dw",
                   {{"group", attr_int(16)}, {"pads", attr_ints({1, 1, 1, 1})}});
  Value* r2 = node(g, "Relu", {c2}, "dw_relu");
  Value* c3 = node(g, "Conv", {r2, weight(g, "w3", {16, 16, 1, 1}, 5, 0.3f), weight(g, "b3", {16}, 6, 0.1f)}, "pw");
  Value* sum = node(g, "Add", {c3, r1}, "residual");
  Value* r3 = node(g, "Relu", {sum}, "res_relu");
  Value* pooled = node(g, "GlobalAveragePool", {r3}, "pool");
  Value* flat = node(g, "Flatten", {pooled}, "flatten");
  Value* logits = node(g, "MatMul", {flat, weight(g, "wh", {16, 10}, 7, 0.5f)}, "head");
  Value* y = node(g, "Add", {logits, weight(g, "bh", {10}, 8, 0.1f)}, "head_bias");
  g.add_output(y);
  return g;
}

Program compiled(const Graph& g, DType activations) {
  Calibrator calibrator(g);
  add_random_samples(calibrator, g, {}, 4, 11);
  QuantConfig config;
  config.model.method = RangeMethod::kMax;
  config.model.activation_dtype = activations;
  return Compiler().compile(Quantizer(config).quantize(g, calibrator.table()));
}

std::string bytes_of(const TensorMap& outputs) {
  std::string all;
  for (const auto& [name, t] : outputs) {
    all += name + ":" + dtype_name(t.dtype()) + shape_str(t.shape()) + ":";
    all.append(static_cast<const char*>(t.raw()), t.nbytes());
  }
  return all;
}

// Restores the SIMD limit when the test ends.
struct SimdScope {
  kernels::SimdLevel saved = kernels::simd_limit();
  ~SimdScope() { kernels::set_simd_limit(saved); }
};

}  // namespace

TEST_CASE("fixed-point outputs are bit-identical across runs, 1-4 threads and every SIMD path",
          "[determinism][runtime]") {
  const Graph g = conv_net();
  const DType widths[] = {DType::kInt8, DType::kInt16};
  const std::vector<kernels::SimdLevel> levels = kernels::supported_simd_levels();
  REQUIRE(levels.front() == kernels::SimdLevel::kPortable);
  SimdScope scope;
  for (DType activations : widths) {
    const Program program = compiled(g, activations);
    INFO("activations " << dtype_name(activations));
    REQUIRE(program.cpu_instruction_count() == 0);  // every node on the integer kernels
    // Several inputs, so that more than one rounding pattern is exercised.
    std::vector<TensorMap> inputs;
    for (uint32_t s = 0; s < 3; ++s) inputs.push_back({{"x", test::random_tensor({1, 3, 32, 32}, 100 + s, -1.5f, 1.5f)}});
    std::vector<std::string> expected;
    kernels::set_simd_limit(kernels::SimdLevel::kPortable);
    const FixedSimulator portable(program, FixedSimulatorOptions{1});
    for (const TensorMap& in : inputs) expected.push_back(bytes_of(portable.run(in)));
    REQUIRE(expected[0] != expected[1]);  // the inputs do reach the output
    for (kernels::SimdLevel level : levels) {
      kernels::set_simd_limit(level);
      for (int threads = 1; threads <= 4; ++threads) {
        INFO("SIMD " << kernels::simd_level_name(level) << ", " << threads << " threads");
        const FixedSimulator simulator(program, FixedSimulatorOptions{threads});
        for (int repeat = 0; repeat < 2; ++repeat) {
          for (size_t i = 0; i < inputs.size(); ++i) REQUIRE(bytes_of(simulator.run(inputs[i])) == expected[i]);
        }
      }
    }
  }
}

TEST_CASE("the SIMD limit selects each kernel family's path", "[determinism]") {
  namespace io = integer::optimized;
  namespace fo = kernels::optimized;
  SimdScope scope;
  REQUIRE(std::string(kernels::simd_level_name(kernels::SimdLevel::kPortable)) == "portable");
  REQUIRE(std::string(kernels::simd_level_name(kernels::SimdLevel::kAvx512)) == "avx512");
  kernels::set_simd_limit(kernels::SimdLevel::kPortable);
  REQUIRE(&io::best_int8_kernels() == &io::portable_int8_kernels());
  REQUIRE(&io::best_elementwise_kernels() == &io::portable_elementwise_kernels());
  REQUIRE(&fo::best_micro_kernel() == fo::available_micro_kernels().front());
  kernels::set_simd_limit(kernels::SimdLevel::kAvx2);
  REQUIRE(&io::best_int8_kernels() == &io::portable_int8_kernels());  // no AVX2 integer path
  if (fo::available_micro_kernels().size() > 1) {  // [portable, avx2, (avx512)]
    REQUIRE(&fo::best_micro_kernel() == fo::available_micro_kernels()[1]);
  }
  kernels::set_simd_limit(kernels::SimdLevel::kAvx512);
  REQUIRE(&io::best_int8_kernels() == io::available_int8_kernels().back());
  REQUIRE(&io::best_elementwise_kernels() == io::available_elementwise_kernels().back());
  REQUIRE(&fo::best_micro_kernel() == fo::available_micro_kernels().back());
}
