// Elementwise math, activations, normalization and reduction kernels, checked against
// independent naive computations in this file.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "kernel_test_util.hpp"

namespace {

using lq::DType;
using lq::Shape;
using lq::Tensor;
using lq::test::attr_float;
using lq::test::attr_int;
using lq::test::attr_ints;
using lq::test::OpSpec;
using lq::test::require_close;
using lq::test::run_op;

using lq::test::f32;
Tensor i64(Shape shape, std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(std::move(shape), values);
}


// This file's data spans [-3, 3) unless a test asks otherwise.
Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -3.0f, float hi = 3.0f) {
  return lq::test::random_tensor(shape, seed, lo, hi);
}

Tensor run1(const std::string& op, std::vector<Tensor> inputs,
            std::map<std::string, lq::Attribute> attrs = {}, int64_t opset = 17, int threads = 1) {
  OpSpec spec;
  spec.op_type = op;
  spec.inputs = std::move(inputs);
  spec.attrs = std::move(attrs);
  spec.opset = opset;
  spec.threads = threads;
  return run_op(spec)[0];
}

// Element index into `in` for output multi-index `index` under numpy broadcasting.
int64_t broadcast_source(const Shape& in, const Shape& out, const std::vector<int64_t>& index) {
  int64_t offset = 0;
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    offset = offset * in[i] + (in[i] == 1 ? 0 : index[lead + i]);
  }
  return offset;
}

Shape naive_broadcast_shape(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// out = f(a, b) with broadcasting, computed one element at a time.
Tensor naive_binary(const Tensor& a, const Tensor& b, const std::function<float(float, float)>& f) {
  const Shape shape = naive_broadcast_shape(a.shape(), b.shape());
  Tensor out(DType::kFloat32, shape);
  const auto va = a.to_doubles();
  const auto vb = b.to_doubles();
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t i = 0; i < out.numel(); ++i) {
    int64_t rest = i;
    for (size_t axis = shape.size(); axis-- > 0;) {
      index[axis] = rest % shape[axis];
      rest /= shape[axis];
    }
    out.data<float>()[i] = f(static_cast<float>(va[broadcast_source(a.shape(), shape, index)]),
                             static_cast<float>(vb[broadcast_source(b.shape(), shape, index)]));
  }
  return out;
}

void require_identical(const Tensor& a, const Tensor& b) {
  REQUIRE(a.dtype() == b.dtype());
  REQUIRE(a.shape() == b.shape());
  REQUIRE(std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

}  // namespace

TEST_CASE("binary arithmetic broadcasts like numpy on every shape pattern", "[kernels][math]") {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}},  // same shape
      {{2, 3, 4, 5}, {}},            // scalar
      {{1}, {2, 3, 4, 5}},           // scalar of rank 1, on the left
      {{2, 3, 4, 5}, {1, 3, 1, 1}},  // per channel
      {{3, 1, 1}, {2, 3, 4, 5}},     // per channel, on the left
      {{2, 3, 4, 5}, {5}},           // per row
      {{2, 1, 4, 1}, {1, 3, 1, 5}},  // both sides broadcast
      {{2, 3, 4, 5}, {2, 1, 4, 1}},  // strided repeats
      {{3, 1}, {1, 4}},              // outer product
      {{0, 3}, {1, 3}},              // empty
  };
  const std::vector<std::pair<std::string, std::function<float(float, float)>>> ops = {
      {"Add", [](float a, float b) { return a + b; }},
      {"Sub", [](float a, float b) { return a - b; }},
      {"Mul", [](float a, float b) { return a * b; }},
      {"Div", [](float a, float b) { return a / b; }},
  };
  uint32_t seed = 1;
  for (const auto& [sa, sb] : cases) {
    const Tensor a = random_tensor(sa, seed++);
    const Tensor b = random_tensor(sb, seed++, 0.5f, 2.0f);
    for (const auto& [op, f] : ops) {
      INFO(op << " " << lq::shape_str(sa) << " with " << lq::shape_str(sb));
      const Tensor expected = naive_binary(a, b, f);
      const Tensor got = run1(op, {a, b});
      require_close(got, expected, 0.0, 0.0);
    }
  }
}

TEST_CASE("elementwise results do not depend on the thread count", "[kernels][math]") {
  const Tensor x = random_tensor({2, 16, 48, 40}, 11);
  const Tensor per_channel = random_tensor({1, 16, 1, 1}, 12, 0.5f, 2.0f);
  for (const std::string op : {"Mul", "Div", "Sub"}) {
    const Tensor one = run1(op, {x, per_channel}, {}, 17, 1);
    const Tensor three = run1(op, {x, per_channel}, {}, 17, 3);
    require_identical(one, three);
    require_close(one,
                  naive_binary(x, per_channel,
                               [&](float a, float b) {
                                 return op == "Mul" ? a * b : op == "Div" ? a / b : a - b;
                               }),
                  0.0, 0.0);
  }
  for (const std::string op : {"Sigmoid", "HardSwish", "Exp"}) {
    require_identical(run1(op, {x}, {}, 17, 1), run1(op, {x}, {}, 17, 3));
  }
  require_identical(run1("Softmax", {x}, {{"axis", attr_int(1)}}, 17, 1),
                    run1("Softmax", {x}, {{"axis", attr_int(1)}}, 17, 3));
  require_identical(run1("ReduceMean", {x}, {{"axes", attr_ints({2, 3})}}, 17, 1),
                    run1("ReduceMean", {x}, {{"axes", attr_ints({2, 3})}}, 17, 3));
  require_identical(run1("ReduceSum", {x, i64({1}, {1})}, {}, 17, 1),
                    run1("ReduceSum", {x, i64({1}, {1})}, {}, 17, 3));
}

TEST_CASE("integer arithmetic truncates, wraps and rejects division by zero", "[kernels][math]") {
  const auto i32 = [](Shape s, std::vector<int32_t> v) {
    return Tensor::from_vector<int32_t>(std::move(s), v);
  };
  const int32_t big = std::numeric_limits<int32_t>::max();
  const int32_t low = std::numeric_limits<int32_t>::lowest();
  REQUIRE(run1("Div", {i32({4}, {-7, 7, 7, low}), i32({4}, {2, -2, 2, -1})}).to_int64s() ==
          std::vector<int64_t>{-3, -3, 3, low});
  REQUIRE(run1("Add", {i32({2}, {big, 1}), i32({}, {1})}).to_int64s() ==
          std::vector<int64_t>{low, 2});
  REQUIRE(run1("Sub", {i32({1}, {low}), i32({1}, {1})}).to_int64s() == std::vector<int64_t>{big});
  REQUIRE(run1("Mul", {i64({2}, {3, -4}), i64({2, 1}, {5, 6})}).to_int64s() ==
          std::vector<int64_t>{15, -20, 18, -24});
  const Tensor u8 = Tensor::from_vector<uint8_t>({3}, {250, 10, 7});
  const Tensor u8b = Tensor::from_vector<uint8_t>({3}, {10, 20, 2});
  REQUIRE(run1("Add", {u8, u8b}).to_int64s() == std::vector<int64_t>{4, 30, 9});
  REQUIRE(run1("Sub", {u8, u8b}).to_int64s() == std::vector<int64_t>{240, 246, 5});
  REQUIRE(run1("Div", {u8, u8b}).to_int64s() == std::vector<int64_t>{25, 0, 3});
  REQUIRE_THROWS_WITH(run1("Div", {i32({2}, {1, 2}), i32({2}, {1, 0})}),
                      Catch::Contains("node_under_test") && Catch::Contains("(input 1)") &&
                          Catch::Contains("division by zero"));
}

TEST_CASE("binary ops reject mismatched dtypes and shapes", "[kernels][math]") {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  REQUIRE_THROWS_WITH(run1("Add", {a, i64({1}, {1})}), Catch::Contains("(input 1)") &&
                                                           Catch::Contains("int64") &&
                                                           Catch::Contains("float32"));
  REQUIRE_THROWS_WITH(run1("Mul", {a, f32({2}, {1, 2})}),
                      Catch::Contains("does not broadcast") && Catch::Contains("[2]"));
  const Tensor b = Tensor::from_vector<bool>({1}, {true});
  REQUIRE_THROWS_AS(run1("Add", {b, b}), lq::Error);
  REQUIRE_THROWS_WITH(run1("Sqrt", {i64({1}, {4})}),
                      Catch::Contains("int64") && Catch::Contains("float32"));
}

TEST_CASE("float16 inputs compute in float32 and round once", "[kernels][math]") {
  const std::vector<float> av = {1.5f, -2.25f, 1000.0f, 0.1f};
  const std::vector<float> bv = {0.3f, 4.0f, 0.7f, 3.0f};
  const Tensor a = f32({4}, av).cast(DType::kFloat16);
  const Tensor b = f32({4}, bv).cast(DType::kFloat16);
  const Tensor sum = run1("Add", {a, b});
  const Tensor mx = run1("Max", {a, b});
  const Tensor md = run1("Mod", {a, b}, {{"fmod", attr_int(1)}});
  REQUIRE(sum.dtype() == DType::kFloat16);
  const auto ha = a.to_doubles();
  const auto hb = b.to_doubles();
  for (size_t i = 0; i < av.size(); ++i) {
    const float fa = static_cast<float>(ha[i]);
    const float fb = static_cast<float>(hb[i]);
    CHECK(sum.data<uint16_t>()[i] == lq::float_to_half(fa + fb));
    CHECK(mx.data<uint16_t>()[i] == lq::float_to_half(std::max(fa, fb)));
    CHECK(md.data<uint16_t>()[i] == lq::float_to_half(std::fmod(fa, fb)));
  }
}

TEST_CASE("Pow keeps the base dtype for every exponent dtype", "[kernels][math]") {
  const Tensor base = f32({4}, {2.0f, 9.0f, 0.5f, -2.0f});
  const Tensor exps = f32({4}, {10.0f, 0.5f, -1.0f, 3.0f});
  REQUIRE(run1("Pow", {base, exps}).to_doubles() == std::vector<double>{1024.0, 3.0, 2.0, -8.0});
  const Tensor got = run1("Pow", {base, i64({}, {2})});
  REQUIRE(got.dtype() == DType::kFloat32);
  REQUIRE(got.to_doubles() == std::vector<double>{4.0, 81.0, 0.25, 4.0});
  const Tensor ib = i64({5}, {3, -2, 7, 1, 2});
  REQUIRE(run1("Pow", {ib, i64({5}, {4, 3, 0, -5, -1})}).to_int64s() ==
          std::vector<int64_t>{81, -8, 1, 1, 0});
  const Tensor from_float = run1("Pow", {ib, f32({}, {1.5f})});
  REQUIRE(from_float.dtype() == DType::kInt64);
  // 3^1.5 = 5.196, 7^1.5 = 18.52: truncated; (-2)^1.5 is NaN -> 0.
  REQUIRE(from_float.to_int64s() == std::vector<int64_t>{5, 0, 18, 1, 2});
  REQUIRE(run1("Pow", {ib, Tensor::from_vector<uint32_t>({}, {3})}).to_int64s() ==
          std::vector<int64_t>{27, -8, 343, 1, 8});
}

TEST_CASE("Mod follows the divisor's sign, or the dividend's with fmod=1", "[kernels][math]") {
  const Tensor a = i64({6}, {-4, 7, 5, 4, -7, 8});
  const Tensor b = i64({6}, {2, -3, 8, -2, 3, 5});
  REQUIRE(run1("Mod", {a, b}).to_int64s() == std::vector<int64_t>{0, -2, 5, 0, 2, 3});
  REQUIRE(run1("Mod", {a, b}, {{"fmod", attr_int(1)}}).to_int64s() ==
          std::vector<int64_t>{0, 1, 5, 0, -1, 3});
  const Tensor fa = f32({3}, {-4.5f, 7.25f, 5.0f});
  const Tensor fb = f32({3}, {2.0f, -3.0f, 8.0f});
  REQUIRE(run1("Mod", {fa, fb}, {{"fmod", attr_int(1)}}).to_doubles() ==
          std::vector<double>{-0.5, 1.25, 5.0});
  REQUIRE_THROWS_WITH(run1("Mod", {fa, fb}), Catch::Contains("fmod=1"));
  REQUIRE_THROWS_WITH(run1("Mod", {a, i64({1}, {0})}), Catch::Contains("by zero"));
}

TEST_CASE("PRelu applies a per-channel slope and checks its shape", "[kernels][math]") {
  const Tensor x = f32({1, 2, 1, 3}, {-1, 2, -3, -4, 5, -6});
  const Tensor slope = f32({2, 1, 1}, {0.5f, 0.25f});
  REQUIRE(run1("PRelu", {x, slope}).to_doubles() ==
          std::vector<double>{-0.5, 2, -1.5, -1, 5, -1.5});
  REQUIRE_THROWS_WITH(run1("PRelu", {x, f32({2, 1, 1, 1, 1}, {1, 2})}),
                      Catch::Contains("(input 1)") && Catch::Contains("does not broadcast"));
}

TEST_CASE("comparisons and logic ops produce bool tensors", "[kernels][math]") {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = f32({3}, {2, 2, 7});
  const auto bools = [](const Tensor& t) {
    REQUIRE(t.dtype() == DType::kBool);
    return t.to_int64s();
  };
  REQUIRE(bools(run1("Greater", {a, b})) == std::vector<int64_t>{0, 0, 0, 1, 1, 0});
  REQUIRE(bools(run1("Less", {a, b})) == std::vector<int64_t>{1, 0, 1, 0, 0, 1});
  REQUIRE(bools(run1("GreaterOrEqual", {a, b})) == std::vector<int64_t>{0, 1, 0, 1, 1, 0});
  REQUIRE(bools(run1("LessOrEqual", {a, b})) == std::vector<int64_t>{1, 1, 1, 0, 0, 1});
  REQUIRE(bools(run1("Equal", {i64({3}, {1, 2, 3}), i64({1}, {2})})) ==
          std::vector<int64_t>{0, 1, 0});
  const Tensor p = Tensor::from_vector<bool>({2, 2}, {true, true, false, false});
  const Tensor q = Tensor::from_vector<bool>({2}, {true, false});
  REQUIRE(bools(run1("And", {p, q})) == std::vector<int64_t>{1, 0, 0, 0});
  REQUIRE(bools(run1("Or", {p, q})) == std::vector<int64_t>{1, 1, 1, 0});
  REQUIRE(bools(run1("Xor", {p, q})) == std::vector<int64_t>{0, 1, 1, 0});
  REQUIRE(bools(run1("Not", {q})) == std::vector<int64_t>{0, 1});
  REQUIRE(bools(run1("Equal", {p, q})) == std::vector<int64_t>{1, 0, 0, 1});
  REQUIRE_THROWS_WITH(run1("And", {p, i64({1}, {1})}),
                      Catch::Contains("input 1") && Catch::Contains("bool"));
}

TEST_CASE("Min, Max, Sum and Mean fold any number of broadcast inputs", "[kernels][math]") {
  const Tensor a = f32({2, 2}, {1, 8, -3, 4});
  const Tensor b = f32({2}, {2, 5});
  const Tensor c = f32({}, {3});
  REQUIRE(run1("Max", {a, b, c}).to_doubles() == std::vector<double>{3, 8, 3, 5});
  REQUIRE(run1("Min", {a, b, c}).to_doubles() == std::vector<double>{1, 3, -3, 3});
  REQUIRE(run1("Sum", {a, b, c}).to_doubles() == std::vector<double>{6, 16, 2, 12});
  require_close(run1("Mean", {a, b, c}), f32({2, 2}, {2, 16.0f / 3, 2.0f / 3, 4}), 1e-6);
  REQUIRE(run1("Max", {a}).to_doubles() == a.to_doubles());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  REQUIRE(std::isnan(run1("Max", {f32({1}, {1}), f32({1}, {nan})}).to_doubles()[0]));
  const Tensor u = Tensor::from_vector<uint16_t>({2}, {65535, 3});
  REQUIRE(run1("Min", {u, Tensor::from_vector<uint16_t>({1}, {7})}).to_int64s() ==
          std::vector<int64_t>{7, 3});
  REQUIRE_THROWS_WITH(run1("Mean", {i64({1}, {1}), i64({1}, {3})}), Catch::Contains("int64"));
}

TEST_CASE("Where selects with three-way broadcasting for any dtype", "[kernels][math]") {
  const Tensor cond = Tensor::from_vector<bool>({2, 1}, {true, false});
  const Tensor x = i64({3}, {1, 2, 3});
  const Tensor y = i64({2, 3}, {10, 20, 30, 40, 50, 60});
  REQUIRE(run1("Where", {cond, x, y}).to_int64s() == std::vector<int64_t>{1, 2, 3, 40, 50, 60});
  const Tensor hx = f32({1}, {1.5f}).cast(DType::kFloat16);
  const Tensor hy = f32({1}, {-2.0f}).cast(DType::kFloat16);
  const Tensor h = run1("Where", {cond, hx, hy});
  REQUIRE(h.dtype() == DType::kFloat16);
  REQUIRE(h.to_doubles() == std::vector<double>{1.5, -2.0});
  REQUIRE_THROWS_WITH(run1("Where", {cond, x, f32({1}, {1})}), Catch::Contains("(input 2)"));
}

TEST_CASE("unary math functions match the C library", "[kernels][math]") {
  const std::vector<float> v = {-2.5f, -1.5f, -0.5f, 0.0f, 0.5f, 1.5f, 2.5f, 0.75f, 3.2f};
  const Tensor x = f32({3, 3}, v);
  const std::vector<std::pair<std::string, std::function<float(float)>>> ops = {
      {"Exp", [](float a) { return std::exp(a); }},
      {"Neg", [](float a) { return -a; }},
      {"Abs", [](float a) { return std::fabs(a); }},
      {"Floor", [](float a) { return std::floor(a); }},
      {"Ceil", [](float a) { return std::ceil(a); }},
      {"Erf", [](float a) { return std::erf(a); }},
      {"Tanh", [](float a) { return std::tanh(a); }},
      {"Sin", [](float a) { return std::sin(a); }},
      {"Cos", [](float a) { return std::cos(a); }},
      {"Relu", [](float a) { return a > 0 ? a : 0.0f; }},
      {"Sigmoid", [](float a) { return 1.0f / (1.0f + std::exp(-a)); }},
      {"Softsign", [](float a) { return a / (1.0f + std::fabs(a)); }},
      {"Softplus", [](float a) { return static_cast<float>(std::log(std::exp(double{a}) + 1)); }},
      {"HardSwish", [](float a) { return a * std::max(0.0f, std::min(1.0f, a / 6 + 0.5f)); }},
      {"HardSigmoid", [](float a) { return std::max(0.0f, std::min(1.0f, 0.2f * a + 0.5f)); }},
      {"LeakyRelu", [](float a) { return a < 0 ? 0.01f * a : a; }},
      {"Elu", [](float a) { return a < 0 ? std::exp(a) - 1 : a; }},
      {"Selu",
       [](float a) {
         const double alpha = 1.6732632423543772, gamma = 1.0507009873554805;
         return static_cast<float>(a > 0 ? gamma * a : gamma * alpha * (std::exp(double{a}) - 1));
       }},
  };
  for (const auto& [op, f] : ops) {
    INFO(op);
    std::vector<float> expected;
    for (float a : v) expected.push_back(f(a));
    require_close(run1(op, {x}), f32({3, 3}, expected), 1e-6, 1e-6);
  }
  const Tensor positive = f32({3}, {0.25f, 4.0f, 10.0f});
  require_close(run1("Reciprocal", {positive}), f32({3}, {4.0f, 0.25f, 0.1f}), 0, 0);
  require_close(run1("Sqrt", {positive}), f32({3}, {0.5f, 2.0f, std::sqrt(10.0f)}), 0, 0);
  require_close(run1("Log", {positive}),
                f32({3}, {std::log(0.25f), std::log(4.0f), std::log(10.0f)}), 0, 0);
  // Round is half to even; Sign keeps zero.
  REQUIRE(run1("Round", {x}).to_doubles() == std::vector<double>{-2, -2, -0.0, 0, 0, 2, 2, 1, 3});
  REQUIRE(run1("Sign", {x}).to_doubles() == std::vector<double>{-1, -1, -1, 0, 1, 1, 1, 1, 1});
  REQUIRE(run1("Abs", {i64({3}, {-5, 0, 7})}).to_int64s() == std::vector<int64_t>{5, 0, 7});
  REQUIRE(run1("Neg", {i64({2}, {-5, 7})}).to_int64s() == std::vector<int64_t>{5, -7});
  REQUIRE(run1("Relu", {i64({2}, {-5, 7})}).to_int64s() == std::vector<int64_t>{0, 7});
}

TEST_CASE("activation attributes change the result", "[kernels][math]") {
  const Tensor x = f32({4}, {-2.0f, -0.5f, 0.5f, 3.0f});
  REQUIRE(run1("LeakyRelu", {x}, {{"alpha", attr_float(0.5f)}}).to_doubles() ==
          std::vector<double>{-1.0, -0.25, 0.5, 3.0});
  require_close(run1("Elu", {x}, {{"alpha", attr_float(2.0f)}}),
                f32({4}, {2 * (std::exp(-2.0f) - 1), 2 * (std::exp(-0.5f) - 1), 0.5f, 3.0f}));
  require_close(run1("Selu", {x}, {{"alpha", attr_float(2.0f)}, {"gamma", attr_float(3.0f)}}),
                f32({4}, {6 * (std::exp(-2.0f) - 1), 6 * (std::exp(-0.5f) - 1), 1.5f, 9.0f}));
  REQUIRE(run1("HardSigmoid", {x}, {{"alpha", attr_float(0.25f)}, {"beta", attr_float(0.25f)}})
              .to_doubles() == std::vector<double>{0.0, 0.125, 0.375, 1.0});
}

TEST_CASE("Clip reads bounds from attributes before opset 11 and inputs after", "[kernels][math]") {
  const Tensor x = f32({5}, {-3, -1, 0, 2, 9});
  REQUIRE(
      run1("Clip", {x}, {{"min", attr_float(-1.5f)}, {"max", attr_float(2.5f)}}, 6).to_doubles() ==
      std::vector<double>{-1.5, -1, 0, 2, 2.5});
  REQUIRE(run1("Clip", {x}, {{"max", attr_float(0.5f)}}, 6).to_doubles() ==
          std::vector<double>{-3, -1, 0, 0.5, 0.5});
  REQUIRE(run1("Clip", {x, f32({}, {-1.5f}), f32({}, {2.5f})}, {}, 13).to_doubles() ==
          std::vector<double>{-1.5, -1, 0, 2, 2.5});
  REQUIRE(run1("Clip", {x, Tensor(), f32({}, {1.0f})}, {}, 13).to_doubles() ==
          std::vector<double>{-3, -1, 0, 1, 1});
  REQUIRE(run1("Clip", {x}, {}, 13).to_doubles() == x.to_doubles());
  // min > max: everything becomes max.
  REQUIRE(run1("Clip", {x, f32({}, {4.0f}), f32({}, {1.0f})}, {}, 13).to_doubles() ==
          std::vector<double>{1, 1, 1, 1, 1});
  const Tensor i8 = Tensor::from_vector<int8_t>({3}, {-100, 5, 100});
  REQUIRE(run1("Clip", {i8, Tensor::from_vector<int8_t>({}, {0})}, {}, 13).to_int64s() ==
          std::vector<int64_t>{0, 5, 100});
  REQUIRE_THROWS_WITH(run1("Clip", {x, f32({2}, {0, 1})}, {}, 13),
                      Catch::Contains("(input 1)") && Catch::Contains("scalar"));
}

namespace {

// Softmax (or LogSoftmax) of x viewed as [outer, n, inner] along n, in double.
std::vector<double> naive_softmax(const std::vector<double>& x, int64_t outer, int64_t n,
                                  int64_t inner, bool log) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const auto at = [&](int64_t k) { return static_cast<size_t>((o * n + k) * inner + i); };
      double max = -INFINITY, sum = 0;
      for (int64_t k = 0; k < n; ++k) max = std::max(max, x[at(k)]);
      for (int64_t k = 0; k < n; ++k) sum += std::exp(x[at(k)] - max);
      for (int64_t k = 0; k < n; ++k) {
        y[at(k)] = log ? x[at(k)] - max - std::log(sum) : std::exp(x[at(k)] - max) / sum;
      }
    }
  }
  return y;
}

Tensor doubles_to_f32(const Shape& shape, const std::vector<double>& v) {
  return f32(shape, std::vector<float>(v.begin(), v.end()));
}

}  // namespace

TEST_CASE("Softmax axis semantics follow the opset", "[kernels][math]") {
  const Shape shape = {2, 3, 4};
  const Tensor x = random_tensor(shape, 21, -5.0f, 5.0f);
  const auto v = x.to_doubles();
  for (const bool log : {false, true}) {
    const std::string op = log ? "LogSoftmax" : "Softmax";
    INFO(op);
    // Opset 13: along axis 1 only; default is the last axis.
    require_close(run1(op, {x}, {{"axis", attr_int(1)}}, 13),
                  doubles_to_f32(shape, naive_softmax(v, 2, 3, 4, log)), 1e-6);
    require_close(run1(op, {x}, {}, 13), doubles_to_f32(shape, naive_softmax(v, 6, 4, 1, log)),
                  1e-6);
    // Opset 11: coerced to [2, 12] at axis 1 (the default); axis -2 is the same.
    require_close(run1(op, {x}, {}, 11), doubles_to_f32(shape, naive_softmax(v, 2, 12, 1, log)),
                  1e-6);
    require_close(run1(op, {x}, {{"axis", attr_int(-2)}}, 11),
                  doubles_to_f32(shape, naive_softmax(v, 2, 12, 1, log)), 1e-6);
    require_close(run1(op, {x}, {{"axis", attr_int(0)}}, 11),
                  doubles_to_f32(shape, naive_softmax(v, 1, 24, 1, log)), 1e-6);
    REQUIRE_THROWS_WITH(run1(op, {x}, {{"axis", attr_int(3)}}, 13),
                        Catch::Contains("axis 3 is out of range"));
  }
  // Large inputs do not overflow.
  const Tensor big = f32({3}, {1000, 1001, 1002});
  require_close(run1("Softmax", {big}),
                doubles_to_f32({3}, naive_softmax({0, 1, 2}, 1, 3, 1, false)), 1e-6);
}

TEST_CASE("BatchNormalization normalizes per channel in inference mode", "[kernels][math]") {
  const Shape shape = {2, 3, 2, 2};
  const Tensor x = random_tensor(shape, 31);
  const std::vector<float> scale = {0.5f, 1.5f, -1.0f}, bias = {0.1f, -0.2f, 0.3f},
                           mean = {0.2f, -0.1f, 0.0f}, var = {1.0f, 0.25f, 4.0f};
  const float eps = 1e-3f;
  const auto xv = x.to_doubles();
  std::vector<double> expected(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) {
    const size_t c = (i / 4) % 3;
    expected[i] = (xv[i] - mean[c]) / std::sqrt(var[c] + double{eps}) * scale[c] + bias[c];
  }
  const std::vector<Tensor> inputs = {x, f32({3}, scale), f32({3}, bias), f32({3}, mean),
                                      f32({3}, var)};
  for (const int64_t opset : {7, 9, 14, 15}) {
    INFO("opset " << opset);
    require_close(run1("BatchNormalization", inputs, {{"epsilon", attr_float(eps)}}, opset),
                  doubles_to_f32(shape, expected), 1e-5);
  }
  REQUIRE_THROWS_WITH(run1("BatchNormalization", inputs, {{"training_mode", attr_int(1)}}, 15),
                      Catch::Contains("training_mode=1") && Catch::Contains("not supported"));
  std::vector<Tensor> bad = inputs;
  bad[3] = f32({2}, {0, 0});
  REQUIRE_THROWS_WITH(run1("BatchNormalization", bad, {}, 15),
                      Catch::Contains("(input 3)") && Catch::Contains("[3]"));
}

TEST_CASE("BatchNormalization spatial=0 has one parameter per element (opset 7)",
          "[kernels][math]") {
  const Tensor x = f32({2, 2, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor scale = f32({2, 1, 2}, {1, 2, 3, 4});
  const Tensor zeros = f32({2, 1, 2}, {0, 0, 0, 0});
  const Tensor ones = f32({2, 1, 2}, {1, 1, 1, 1});
  const Tensor y = run1("BatchNormalization", {x, scale, zeros, zeros, ones},
                        {{"spatial", attr_int(0)}, {"epsilon", attr_float(0.0f)}}, 7);
  REQUIRE(y.to_doubles() == std::vector<double>{1, 4, 9, 16, 5, 12, 21, 32});
}

TEST_CASE("LayerNormalization normalizes trailing axes and returns its statistics",
          "[kernels][math]") {
  const Shape shape = {2, 3, 4};
  const Tensor x = random_tensor(shape, 41);
  const auto xv = x.to_doubles();
  for (const int64_t axis : {-1, 1}) {
    INFO("axis " << axis);
    const int64_t n = axis == -1 ? 4 : 12;
    const int64_t rows = 24 / n;
    const Shape param_shape = axis == -1 ? Shape{4} : Shape{3, 4};
    const Tensor scale = random_tensor(param_shape, 42);
    const Tensor bias = random_tensor(param_shape, 43);
    const auto sv = scale.to_doubles();
    const auto bv = bias.to_doubles();
    std::vector<double> expected(24), means(static_cast<size_t>(rows)), inv(means.size());
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += xv[r * n + i] / n;
      for (int64_t i = 0; i < n; ++i) var += (xv[r * n + i] - mean) * (xv[r * n + i] - mean) / n;
      means[r] = mean;
      inv[r] = 1 / std::sqrt(var + 1e-5);
      for (int64_t i = 0; i < n; ++i) {
        expected[r * n + i] = (xv[r * n + i] - mean) * inv[r] * sv[i] + bv[i];
      }
    }
    OpSpec spec;
    spec.op_type = "LayerNormalization";
    spec.inputs = {x, scale, bias};
    spec.attrs = {{"axis", attr_int(axis)}};
    spec.num_outputs = 3;
    const auto out = run_op(spec);
    require_close(out[0], doubles_to_f32(shape, expected), 1e-5);
    const Shape stats = axis == -1 ? Shape{2, 3, 1} : Shape{2, 1, 1};
    require_close(out[1], doubles_to_f32(stats, means), 1e-6);
    require_close(out[2], doubles_to_f32(stats, inv), 1e-5);
  }
  // Scale may broadcast over the normalized shape; B is optional.
  const Tensor y = run1("LayerNormalization", {x, f32({1}, {2.0f})}, {{"axis", attr_int(1)}});
  const Tensor unit = run1("LayerNormalization", {x, f32({3, 4}, std::vector<float>(12, 1.0f))},
                           {{"axis", attr_int(1)}});
  const auto uv = unit.to_doubles();
  std::vector<double> doubled;
  for (double u : uv) doubled.push_back(2 * u);
  require_close(y, doubles_to_f32(shape, doubled), 1e-6);
  REQUIRE_THROWS_WITH(run1("LayerNormalization", {x, f32({3}, {1, 1, 1})}),
                      Catch::Contains("(input 1)") && Catch::Contains("[4]"));
}

TEST_CASE("InstanceNormalization normalizes each sample and channel plane", "[kernels][math]") {
  const Tensor x = f32({1, 2, 2, 2}, {1, 2, 3, 4, 10, 10, 20, 20});
  const Tensor y = run1("InstanceNormalization", {x, f32({2}, {2, 1}), f32({2}, {0, 1})},
                        {{"epsilon", attr_float(0.0f)}});
  // Plane 0: mean 2.5, var 1.25; plane 1: mean 15, var 25.
  const double s0 = 2 / std::sqrt(1.25);
  require_close(
      y, doubles_to_f32({1, 2, 2, 2}, {-1.5 * s0, -0.5 * s0, 0.5 * s0, 1.5 * s0, 0, 0, 2, 2}),
      1e-6);
  REQUIRE_THROWS_WITH(run1("InstanceNormalization", {x, f32({3}, {1, 1, 1}), f32({2}, {0, 0})}),
                      Catch::Contains("(input 1)"));
}

namespace {

// Reduces x over `axes` with f(acc, value) from `init`, then finish(acc, count).
std::vector<double> naive_reduce(const std::vector<double>& x, const Shape& shape,
                                 const std::vector<int64_t>& axes, double init,
                                 const std::function<double(double, double)>& f,
                                 const std::function<double(double, int64_t)>& finish) {
  std::vector<bool> reduced(shape.size(), axes.empty());
  for (int64_t a : axes) reduced[static_cast<size_t>(a < 0 ? a + shape.size() : a)] = true;
  Shape out_shape;
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    out_shape.push_back(reduced[i] ? 1 : shape[i]);
    if (reduced[i]) count *= shape[i];
  }
  std::vector<double> acc(static_cast<size_t>(lq::shape_numel(out_shape)), init);
  for (size_t e = 0; e < x.size(); ++e) {
    int64_t rest = static_cast<int64_t>(e), out_index = 0, stride = 1;
    for (size_t axis = shape.size(); axis-- > 0;) {
      const int64_t coord = rest % shape[axis];
      rest /= shape[axis];
      if (!reduced[axis]) out_index += coord * stride;
      stride *= out_shape[axis];
    }
    acc[static_cast<size_t>(out_index)] = f(acc[static_cast<size_t>(out_index)], x[e]);
  }
  for (double& a : acc) a = finish(a, count);
  return acc;
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& axes, bool keepdims) {
  Shape out;
  for (size_t i = 0; i < shape.size(); ++i) {
    bool r = axes.empty();
    for (int64_t a : axes) r = r || static_cast<size_t>(a < 0 ? a + shape.size() : a) == i;
    if (!r) out.push_back(shape[i]);
    if (r && keepdims) out.push_back(1);
  }
  return out;
}

}  // namespace

TEST_CASE("Reduce ops match a naive reduction for every axis pattern", "[kernels][math]") {
  const Shape shape = {2, 3, 4, 5};
  const Tensor x = random_tensor(shape, 51, 0.1f, 2.0f);
  const auto xv = x.to_doubles();
  const auto keep = [](double a, int64_t) { return a; };
  struct Case {
    std::string op;
    double init;
    std::function<double(double, double)> f;
    std::function<double(double, int64_t)> finish;
  };
  const std::vector<Case> cases = {
      {"ReduceSum", 0, [](double a, double v) { return a + v; }, keep},
      {"ReduceMean", 0, [](double a, double v) { return a + v; },
       [](double a, int64_t n) { return a / n; }},
      {"ReduceMax", -INFINITY, [](double a, double v) { return std::max(a, v); }, keep},
      {"ReduceMin", INFINITY, [](double a, double v) { return std::min(a, v); }, keep},
      {"ReduceProd", 1, [](double a, double v) { return a * v; }, keep},
      {"ReduceL1", 0, [](double a, double v) { return a + std::fabs(v); }, keep},
      {"ReduceL2", 0, [](double a, double v) { return a + v * v; },
       [](double a, int64_t) { return std::sqrt(a); }},
      {"ReduceSumSquare", 0, [](double a, double v) { return a + v * v; }, keep},
      {"ReduceLogSum", 0, [](double a, double v) { return a + v; },
       [](double a, int64_t) { return std::log(a); }},
      {"ReduceLogSumExp", 0, [](double a, double v) { return a + std::exp(v); },
       [](double a, int64_t) { return std::log(a); }},
  };
  const std::vector<std::vector<int64_t>> axis_sets = {
      {}, {0}, {1}, {3}, {-1}, {1, 2}, {0, 2}, {2, 3}, {0, 3}, {0, 1, 2, 3}, {1, 3}};
  for (const auto& c : cases) {
    for (const auto& axes : axis_sets) {
      for (const bool keepdims : {true, false}) {
        INFO(c.op << " axes " << lq::shape_str(axes) << " keepdims " << keepdims);
        const Tensor expected =
            doubles_to_f32(reduced_shape(shape, axes, keepdims),
                           naive_reduce(xv, shape, axes, c.init, c.f, c.finish));
        std::map<std::string, lq::Attribute> attrs = {{"keepdims", attr_int(keepdims)}};
        // Axes as attribute (opset 11) and as input (opset 18; ReduceSum from 13).
        std::map<std::string, lq::Attribute> with_axes = attrs;
        if (!axes.empty()) with_axes["axes"] = attr_ints(axes);
        require_close(run1(c.op, {x}, with_axes, 11), expected, 1e-5, 1e-5);
        const int64_t input_opset = c.op == "ReduceSum" ? 13 : 18;
        const Tensor axes_tensor = i64({static_cast<int64_t>(axes.size())}, axes);
        require_close(run1(c.op, {x, axes_tensor}, attrs, input_opset), expected, 1e-5, 1e-5);
      }
    }
  }
}

TEST_CASE("Reduce ops handle empty axes, integers and bad axes", "[kernels][math]") {
  const Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor no_axes = i64({0}, {});
  // Empty axes reduce everything, unless noop_with_empty_axes=1.
  REQUIRE(run1("ReduceSum", {x, no_axes}, {}, 13).to_doubles() == std::vector<double>{21});
  const Tensor same = run1("ReduceSum", {x, no_axes}, {{"noop_with_empty_axes", attr_int(1)}}, 13);
  REQUIRE(same.shape() == x.shape());
  REQUIRE(same.to_doubles() == x.to_doubles());
  REQUIRE(run1("ReduceMax", {x}, {{"keepdims", attr_int(0)}}, 13).shape() == Shape{});
  const Tensor ints = i64({2, 3}, {1, -2, 3, 4, 5, -6});
  REQUIRE(run1("ReduceSum", {ints, i64({1}, {1})}, {{"keepdims", attr_int(0)}}, 13).to_int64s() ==
          std::vector<int64_t>{2, 3});
  REQUIRE(run1("ReduceMin", {ints}, {{"axes", attr_ints({0})}}, 13).to_int64s() ==
          std::vector<int64_t>{1, -2, -6});
  REQUIRE(run1("ReduceMean", {ints}, {{"axes", attr_ints({1})}}, 13).to_int64s() ==
          std::vector<int64_t>{0, 1});
  REQUIRE_THROWS_WITH(run1("ReduceMean", {x}, {{"axes", attr_ints({2})}}, 13),
                      Catch::Contains("reduce axis 2 is out of range"));
  REQUIRE_THROWS_WITH(run1("ReduceMean", {x}, {{"axes", attr_ints({1, -1})}}, 13),
                      Catch::Contains("given twice"));
  REQUIRE_THROWS_WITH(run1("ReduceSum", {x, f32({1}, {1})}, {}, 13), Catch::Contains("input 1"));
}

TEST_CASE("ArgMax and ArgMin pick first or last ties along an axis", "[kernels][math]") {
  const Tensor x = f32({2, 3}, {2, 7, 7, 5, 1, 5});
  REQUIRE(run1("ArgMax", {x}, {{"axis", attr_int(1)}}).to_int64s() == std::vector<int64_t>{1, 0});
  REQUIRE(run1("ArgMax", {x}, {{"axis", attr_int(1)}, {"select_last_index", attr_int(1)}})
              .to_int64s() == std::vector<int64_t>{2, 2});
  REQUIRE(run1("ArgMin", {x}, {{"axis", attr_int(-1)}, {"select_last_index", attr_int(1)}})
              .to_int64s() == std::vector<int64_t>{0, 1});
  const Tensor along0 = run1("ArgMin", {x}, {{"keepdims", attr_int(0)}});
  REQUIRE(along0.dtype() == DType::kInt64);
  REQUIRE(along0.shape() == Shape{3});
  REQUIRE(along0.to_int64s() == std::vector<int64_t>{0, 1, 1});
  REQUIRE(run1("ArgMax", {x}).shape() == Shape{1, 3});
  REQUIRE(run1("ArgMax", {i64({4}, {3, 9, -1, 9})}).to_int64s() == std::vector<int64_t>{1});
  REQUIRE_THROWS_WITH(run1("ArgMax", {x}, {{"axis", attr_int(2)}}),
                      Catch::Contains("axis 2 is out of range"));
}

TEST_CASE("Pow with a scalar exponent of 2 squares exactly", "[kernels][math]") {
  const Tensor x = random_tensor({3, 5}, 61);
  const auto xv = x.to_doubles();
  std::vector<float> squares;
  for (double v : xv) squares.push_back(static_cast<float>(v) * static_cast<float>(v));
  require_close(run1("Pow", {x, f32({}, {2.0f})}), f32({3, 5}, squares), 0, 0);
  // A [1, 1] exponent still broadcasts a rank-1 base to rank 2.
  REQUIRE(run1("Pow", {f32({2}, {3, 4}), f32({1, 1}, {2})}).shape() == Shape{1, 2});
}

TEST_CASE("variadic ops name the input that does not broadcast", "[kernels][math]") {
  REQUIRE_THROWS_WITH(run1("Sum", {f32({2}, {1, 2}), f32({1}, {1}), f32({3}, {1, 2, 3})}),
                      Catch::Contains("(input 2)"));
  REQUIRE_THROWS_WITH(run1("Max", {f32({2}, {1, 2}), i64({1}, {1})}),
                      Catch::Contains("(input 1)") && Catch::Contains("int64"));
}

TEST_CASE("BatchNormalization passes running statistics through to extra outputs",
          "[kernels][math]") {
  const Tensor x = f32({1, 2, 1, 1}, {3, 5});
  const Tensor mean = f32({2}, {1, 2});
  const Tensor var = f32({2}, {4, 9});
  OpSpec spec;
  spec.op_type = "BatchNormalization";
  spec.inputs = {x, f32({2}, {1, 1}), f32({2}, {0, 0}), mean, var};
  spec.attrs = {{"epsilon", attr_float(0.0f)}};
  spec.num_outputs = 5;
  spec.opset = 9;
  const auto out = run_op(spec);
  REQUIRE(out[0].to_doubles() == std::vector<double>{1, 1});
  REQUIRE(out[1].to_doubles() == mean.to_doubles());
  REQUIRE(out[2].to_doubles() == var.to_doubles());
  REQUIRE(out[3].to_doubles() == mean.to_doubles());
  REQUIRE(out[4].to_doubles() == var.to_doubles());
}
