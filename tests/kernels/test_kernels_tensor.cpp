// Shape, data-movement, gather/scatter, pad and resize kernels, checked against hand
// computed values and naive loops written independently in this file.
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

using Catch::Contains;
using lq::Attribute;
using lq::DType;
using lq::Shape;
using lq::Tensor;
using lq::test::attr_float;
using lq::test::attr_floats;
using lq::test::attr_int;
using lq::test::attr_ints;
using lq::test::attr_string;
using lq::test::OpSpec;
using lq::test::require_close;
using lq::test::run_op;
using Attrs = std::map<std::string, Attribute>;

using lq::test::f32;
Tensor i64(Shape shape, std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(std::move(shape), values);
}
Tensor i64s(std::vector<int64_t> values) {
  const auto n = static_cast<int64_t>(values.size());
  return i64({n}, std::move(values));
}

// 0, 1, 2, ... in the given shape.
Tensor iota(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(lq::shape_numel(shape)));
  std::iota(v.begin(), v.end(), 0.0f);
  return f32(shape, v);
}

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  return lq::test::random_tensor(shape, seed, -3.0f, 3.0f);
}

std::vector<Tensor> run(const std::string& op, std::vector<Tensor> inputs, Attrs attrs = {},
                        int64_t opset = 17, size_t outputs = 1, int threads = 1) {
  OpSpec spec;
  spec.op_type = op;
  spec.inputs = std::move(inputs);
  spec.attrs = std::move(attrs);
  spec.opset = opset;
  spec.num_outputs = outputs;
  spec.threads = threads;
  return run_op(spec);
}

Tensor run1(const std::string& op, std::vector<Tensor> inputs, Attrs attrs = {}, int64_t opset = 17,
            int threads = 1) {
  return run(op, std::move(inputs), std::move(attrs), opset, 1, threads)[0];
}

std::vector<float> floats(const Tensor& t) {
  std::vector<float> v;
  for (double d : t.to_doubles()) v.push_back(static_cast<float>(d));
  return v;
}

// Row-major flat offset of a multi-index.
int64_t flat_index(const Shape& shape, const std::vector<int64_t>& index) {
  int64_t offset = 0;
  for (size_t d = 0; d < shape.size(); ++d) offset = offset * shape[d] + index[d];
  return offset;
}

// Visits every multi-index of `shape` in row-major order.
void for_each_index(const Shape& shape, const std::function<void(const std::vector<int64_t>&)>& f) {
  if (lq::shape_numel(shape) == 0) return;
  std::vector<int64_t> index(shape.size(), 0);
  for (;;) {
    f(index);
    size_t d = shape.size();
    while (d > 0) {
      --d;
      if (++index[d] < shape[d]) break;
      index[d] = 0;
      if (d == 0) return;
    }
    if (shape.empty()) return;
  }
}

Attribute tensor_attr(Tensor t) {
  Attribute a;
  a.type = lq::AttrType::kTensor;
  a.t = std::move(t);
  return a;
}

}  // namespace

TEST_CASE("Identity and Dropout pass data through", "[kernels][tensor]") {
  const Tensor x = random_tensor({2, 3}, 1);
  require_close(run1("Identity", {x}), x, 0, 0);

  const auto out = run("Dropout", {x}, {}, 13, 2);
  require_close(out[0], x, 0, 0);
  REQUIRE(out[1].dtype() == DType::kBool);
  REQUIRE(out[1].shape() == x.shape());
  for (double m : out[1].to_doubles()) REQUIRE(m == 1.0);

  // Before opset 10 the mask has the data's dtype.
  const auto old = run("Dropout", {x}, {{"ratio", attr_float(0.3f)}}, 9, 2);
  REQUIRE(old[1].dtype() == DType::kFloat32);
  for (double m : old[1].to_doubles()) REQUIRE(m == 1.0);

  // training_mode with ratio 0 is still a copy; with a real ratio it is random.
  const Tensor yes = Tensor::scalar<bool>(true);
  require_close(run1("Dropout", {x, Tensor::scalar<float>(0.0f), yes}, {}, 13), x, 0, 0);
  REQUIRE_THROWS_WITH(run1("Dropout", {x, Tensor::scalar<float>(0.5f), yes}, {}, 13),
                      Contains("training_mode is true"));
}

TEST_CASE("Shape honours start and end from opset 15, Size counts", "[kernels][tensor]") {
  const Tensor x(DType::kFloat32, {2, 3, 4, 5});
  REQUIRE(run1("Shape", {x}).to_int64s() == std::vector<int64_t>{2, 3, 4, 5});
  REQUIRE(run1("Shape", {x}, {{"start", attr_int(-3)}, {"end", attr_int(-1)}}, 15).to_int64s() ==
          std::vector<int64_t>{3, 4});
  REQUIRE(run1("Shape", {x}, {{"start", attr_int(-10)}, {"end", attr_int(10)}}, 15).to_int64s() ==
          std::vector<int64_t>{2, 3, 4, 5});
  REQUIRE(run1("Shape", {x}, {{"start", attr_int(3)}, {"end", attr_int(1)}}, 15).numel() == 0);
  // Before opset 15 start/end do not exist.
  REQUIRE(run1("Shape", {x}, {{"start", attr_int(2)}}, 13).numel() == 4);

  const Tensor size = run1("Size", {x});
  REQUIRE(size.rank() == 0);
  REQUIRE(size.dtype() == DType::kInt64);
  REQUIRE(size.to_int64s()[0] == 120);
}

TEST_CASE("Constant and ConstantOfShape", "[kernels][tensor]") {
  const Tensor t = i64({2}, {4, 5});
  REQUIRE(run1("Constant", {}, {{"value", tensor_attr(t)}}).to_int64s() ==
          std::vector<int64_t>{4, 5});
  const Tensor floats_out = run1("Constant", {}, {{"value_floats", attr_floats({1.5f, -2.0f})}});
  require_close(floats_out, f32({2}, {1.5f, -2.0f}), 0, 0);
  const Tensor int_out = run1("Constant", {}, {{"value_int", attr_int(7)}});
  REQUIRE(int_out.rank() == 0);
  REQUIRE(int_out.dtype() == DType::kInt64);
  REQUIRE(run1("Constant", {}, {{"value_ints", attr_ints({1, 2, 3})}}).to_int64s() ==
          std::vector<int64_t>{1, 2, 3});
  REQUIRE(run1("Constant", {}, {{"value_float", attr_float(2.5f)}}).to_doubles()[0] == 2.5);
  REQUIRE_THROWS_WITH(
      run1("Constant", {}, {{"value_int", attr_int(1)}, {"value_float", attr_float(1)}}),
      Contains("exactly one"));
  REQUIRE_THROWS_AS(run1("Constant", {}, {{"value_string", attr_string("a")}}), lq::Error);

  const Tensor filled = run1("ConstantOfShape", {i64s({2, 3})},
                             {{"value", tensor_attr(Tensor::from_vector<int32_t>({1}, {7}))}});
  REQUIRE(filled.dtype() == DType::kInt32);
  REQUIRE(filled.shape() == Shape{2, 3});
  for (double v : filled.to_doubles()) REQUIRE(v == 7);
  const Tensor zeros = run1("ConstantOfShape", {i64s({3})});
  require_close(zeros, f32({3}, {0, 0, 0}), 0, 0);
  // An empty shape gives a scalar.
  REQUIRE(run1("ConstantOfShape", {i64({0}, {})}).rank() == 0);
  REQUIRE_THROWS_WITH(run1("ConstantOfShape", {i64s({2, -1})}), Contains("negative"));
  // A value attribute that is no typed tensor has 0-byte elements, which pass any size
  // limit: a shape of 10^11 elements then looped for hours (onnx_fold fuzz regression).
  Attribute untyped = tensor_attr(Tensor());
  REQUIRE_THROWS_WITH(run1("ConstantOfShape", {i64s({51539607554, 3})}, {{"value", untyped}}),
                      Contains("one-element tensor with an element type"));
  Attribute graph_typed = tensor_attr(Tensor::from_vector<float>({1}, {1.0f}));
  graph_typed.type = lq::AttrType::kGraph;
  REQUIRE_THROWS_WITH(run1("ConstantOfShape", {i64s({2, 3})}, {{"value", graph_typed}}),
                      Contains("one-element tensor with an element type"));
}

TEST_CASE("Cast converts between every dtype, CastLike takes the second dtype",
          "[kernels][tensor]") {
  const Tensor x = f32({5}, {-1.7f, 2.9f, 0.0f, 300.5f, 0.1f});
  const Tensor as_int = run1("Cast", {x}, {{"to", attr_int(6)}});  // INT32
  REQUIRE(as_int.dtype() == DType::kInt32);
  REQUIRE(as_int.to_int64s() == std::vector<int64_t>{-1, 2, 0, 300, 0});
  const Tensor as_bool = run1("Cast", {x}, {{"to", attr_int(9)}});  // BOOL
  REQUIRE(as_bool.to_int64s() == std::vector<int64_t>{1, 1, 0, 1, 1});
  const Tensor as_half = run1("Cast", {x}, {{"to", attr_int(10)}});  // FLOAT16
  REQUIRE(as_half.dtype() == DType::kFloat16);
  const std::vector<double> half_values = as_half.to_doubles();
  REQUIRE(half_values[3] == 300.5);
  REQUIRE(std::fabs(half_values[4] - 0.1) < 1e-4);
  REQUIRE(half_values[4] != static_cast<double>(0.1f));  // rounded to 10 mantissa bits
  const Tensor as_double = run1("Cast", {as_half}, {{"to", attr_int(11)}});  // DOUBLE
  REQUIRE(as_double.to_doubles() == half_values);
  REQUIRE_THROWS_WITH(run1("Cast", {x}, {{"to", attr_int(8)}}), Contains("STRING"));
  REQUIRE_THROWS_WITH(run1("Cast", {x}, {{"to", attr_int(16)}}), Contains("BFLOAT16"));
  REQUIRE_THROWS_AS(run1("Cast", {x}), lq::Error);

  const Tensor like = run1("CastLike", {x, Tensor::from_vector<uint8_t>({1}, {0})}, {}, 15);
  REQUIRE(like.dtype() == DType::kUInt8);
  REQUIRE(like.to_int64s() == std::vector<int64_t>{0, 2, 0, 255, 0});
}

TEST_CASE("Reshape copies zeros, infers -1 and honours allowzero", "[kernels][tensor]") {
  const Tensor x = iota({2, 3, 4});
  const Tensor y = run1("Reshape", {x, i64s({0, -1})});
  REQUIRE(y.shape() == Shape{2, 12});
  REQUIRE(floats(y) == floats(x));
  REQUIRE(run1("Reshape", {x, i64s({4, 0, -1})}).shape() == Shape{4, 3, 2});
  // allowzero = 1: a 0 is a real zero-size dimension.
  const Tensor empty(DType::kFloat32, {0, 3});
  REQUIRE(run1("Reshape", {empty, i64s({3, 0})}, {{"allowzero", attr_int(1)}}, 14).shape() ==
          Shape{3, 0});
  REQUIRE_THROWS_WITH(run1("Reshape", {x, i64s({5, -1})}), Contains("cannot infer"));
  REQUIRE_THROWS_WITH(run1("Reshape", {x, i64s({-1, -1})}), Contains("more than one -1"));
  REQUIRE_THROWS_WITH(run1("Reshape", {x, i64s({7, 2})}), Contains("holds 14 elements"));
  REQUIRE_THROWS_WITH(run1("Reshape", {x, i64s({2, 3, 4, 0})}), Contains("copies dimension 3"));
}

TEST_CASE("Flatten, Squeeze and Unsqueeze reshape as specified", "[kernels][tensor]") {
  const Tensor x = iota({2, 3, 4, 5});
  REQUIRE(run1("Flatten", {x}).shape() == Shape{2, 60});
  REQUIRE(run1("Flatten", {x}, {{"axis", attr_int(0)}}).shape() == Shape{1, 120});
  REQUIRE(run1("Flatten", {x}, {{"axis", attr_int(4)}}).shape() == Shape{120, 1});
  REQUIRE(run1("Flatten", {x}, {{"axis", attr_int(-1)}}).shape() == Shape{24, 5});
  REQUIRE_THROWS_WITH(run1("Flatten", {x}, {{"axis", attr_int(5)}}), Contains("out of range"));

  const Tensor s = iota({1, 3, 1, 2});
  REQUIRE(run1("Squeeze", {s}).shape() == Shape{3, 2});
  REQUIRE(run1("Squeeze", {s, i64s({-2})}, {}, 13).shape() == Shape{1, 3, 2});
  REQUIRE(run1("Squeeze", {s}, {{"axes", attr_ints({0})}}, 11).shape() == Shape{3, 1, 2});
  REQUIRE_THROWS_WITH(run1("Squeeze", {s, i64s({1})}, {}, 13), Contains("size is not 1"));

  const Tensor u = iota({3, 4});
  REQUIRE(run1("Unsqueeze", {u, i64s({3, 0})}, {}, 13).shape() == Shape{1, 3, 4, 1});
  REQUIRE(run1("Unsqueeze", {u, i64s({-1, 1})}, {}, 13).shape() == Shape{3, 1, 4, 1});
  REQUIRE(run1("Unsqueeze", {u}, {{"axes", attr_ints({1})}}, 11).shape() == Shape{3, 1, 4});
  REQUIRE_THROWS_WITH(run1("Unsqueeze", {u, i64s({1, 1})}, {}, 13), Contains("twice"));
  REQUIRE_THROWS_WITH(run1("Unsqueeze", {u, i64s({4})}, {}, 13), Contains("out of range"));
}

TEST_CASE("Transpose permutes axes like a naive loop, for any dtype and thread count",
          "[kernels][tensor]") {
  const Shape shape{3, 4, 5, 6};
  const std::vector<int64_t> perm{2, 0, 3, 1};
  const Tensor x = random_tensor(shape, 2);
  const Tensor y = run1("Transpose", {x}, {{"perm", attr_ints(perm)}});
  REQUIRE(y.shape() == Shape{5, 3, 6, 4});
  const float* in = x.data<float>();
  for_each_index(y.shape(), [&](const std::vector<int64_t>& j) {
    std::vector<int64_t> i(4);
    for (size_t d = 0; d < 4; ++d) i[static_cast<size_t>(perm[d])] = j[d];
    REQUIRE(y.data<float>()[flat_index(y.shape(), j)] == in[flat_index(shape, i)]);
  });
  // Default: reversed axes; int8 elements move as single bytes.
  const Tensor bytes = Tensor::from_vector<int8_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor t = run1("Transpose", {bytes});
  REQUIRE(t.dtype() == DType::kInt8);
  REQUIRE(t.to_int64s() == std::vector<int64_t>{1, 4, 2, 5, 3, 6});

  const Tensor big = random_tensor({4, 64, 33, 17}, 3);
  const Tensor one = run1("Transpose", {big}, {{"perm", attr_ints({0, 2, 3, 1})}}, 17, 1);
  const Tensor two = run1("Transpose", {big}, {{"perm", attr_ints({0, 2, 3, 1})}}, 17, 2);
  REQUIRE(std::memcmp(one.raw(), two.raw(), one.nbytes()) == 0);
  REQUIRE_THROWS_WITH(run1("Transpose", {x}, {{"perm", attr_ints({0, 1, 1, 2})}}),
                      Contains("not a permutation"));
}

TEST_CASE("Concat and Split", "[kernels][tensor]") {
  const Tensor a = iota({2, 1, 3});
  const Tensor b = random_tensor({2, 2, 3}, 4);
  const Tensor c = run1("Concat", {a, b}, {{"axis", attr_int(-2)}});
  REQUIRE(c.shape() == Shape{2, 3, 3});
  for_each_index(c.shape(), [&](const std::vector<int64_t>& i) {
    const float got = c.data<float>()[flat_index(c.shape(), i)];
    const float want = i[1] == 0 ? a.data<float>()[flat_index(a.shape(), {i[0], 0, i[2]})]
                                 : b.data<float>()[flat_index(b.shape(), {i[0], i[1] - 1, i[2]})];
    REQUIRE(got == want);
  });
  REQUIRE_THROWS_WITH(run1("Concat", {a, b}, {{"axis", attr_int(2)}}), Contains("does not match"));
  REQUIRE_THROWS_WITH(run1("Concat", {a, b}), Contains("axis is missing"));

  const Tensor x = iota({2, 7});
  // Opset 18: num_outputs with an uneven, smaller last part.
  const auto parts =
      run("Split", {x}, {{"axis", attr_int(1)}, {"num_outputs", attr_int(3)}}, 18, 3);
  REQUIRE(parts[0].shape() == Shape{2, 3});
  REQUIRE(parts[2].shape() == Shape{2, 1});
  REQUIRE(floats(parts[1]) == std::vector<float>{3, 4, 5, 10, 11, 12});
  REQUIRE(floats(parts[2]) == std::vector<float>{6, 13});
  // Lengths from the attribute (opset 11) and from the input (opset 13).
  const auto by_attr =
      run("Split", {x}, {{"axis", attr_int(1)}, {"split", attr_ints({2, 5})}}, 11, 2);
  REQUIRE(floats(by_attr[0]) == std::vector<float>{0, 1, 7, 8});
  const auto by_input = run("Split", {x, i64s({6, 1})}, {{"axis", attr_int(-1)}}, 13, 2);
  REQUIRE(floats(by_input[1]) == std::vector<float>{6, 13});
  const auto rows = run("Split", {x}, {}, 13, 2);
  REQUIRE(floats(rows[1]) == std::vector<float>{7, 8, 9, 10, 11, 12, 13});
  REQUIRE_THROWS_WITH(run("Split", {x}, {{"axis", attr_int(1)}}, 13, 2), Contains("equal parts"));
  REQUIRE_THROWS_WITH(run("Split", {x, i64s({3, 3})}, {{"axis", attr_int(1)}}, 13, 2),
                      Contains("summing to the axis size 7"));
}

TEST_CASE("Slice clamps starts and ends exactly per spec", "[kernels][tensor]") {
  const Tensor x = iota({10});
  const int64_t big = std::numeric_limits<int64_t>::max();
  const int64_t small = std::numeric_limits<int64_t>::min();
  auto slice1 = [&](int64_t start, int64_t end, int64_t step) {
    return floats(run1("Slice", {x, i64s({start}), i64s({end}), i64s({0}), i64s({step})}));
  };
  // The spec's clamping followed by a plain stepping loop over 0..9.
  auto expected = [](int64_t start, int64_t end, int64_t step) {
    const int64_t n = 10;
    if (start < 0) start += n;
    if (end < 0) end += n;
    start = std::clamp<int64_t>(start, 0, step > 0 ? n : n - 1);
    end = std::clamp<int64_t>(end, step > 0 ? 0 : -1, step > 0 ? n : n - 1);
    std::vector<float> v;
    for (int64_t i = start; step > 0 ? i < end : i > end; i += step) {
      v.push_back(static_cast<float>(i));
      if (step > 0 ? i >= end - step : i <= end - step) break;  // the next step would overflow
    }
    return v;
  };
  REQUIRE(slice1(20, -100, -3) == std::vector<float>{9, 6, 3, 0});
  REQUIRE(slice1(-100, 3, 1) == std::vector<float>{0, 1, 2});
  REQUIRE(slice1(-1, small, -4) == std::vector<float>{9, 5, 1});
  for (auto [start, end, step] : std::vector<std::array<int64_t, 3>>{{0, 10, 1},
                                                                     {2, -2, 3},
                                                                     {20, -100, -3},
                                                                     {-1, small, -1},
                                                                     {-100, big, 2},
                                                                     {5, 5, 1},
                                                                     {7, 2, 1},
                                                                     {3, 8, -1},
                                                                     {-3, -8, -2},
                                                                     {0, 10, big},
                                                                     {9, 0, small + 1}}) {
    INFO("start " << start << " end " << end << " step " << step);
    REQUIRE(slice1(start, end, step) == expected(start, end, step));
  }

  const Tensor m = iota({3, 4});
  // Default axes and steps; negative axes.
  REQUIRE(floats(run1("Slice", {m, i64s({1, 1}), i64s({3, 3})})) ==
          std::vector<float>{5, 6, 9, 10});
  REQUIRE(floats(run1("Slice", {m, i64s({-1}), i64s({small}), i64s({-1}), i64s({-2})})) ==
          std::vector<float>{3, 1, 7, 5, 11, 9});
  // Opset 9: attributes, no steps.
  REQUIRE(
      floats(run1("Slice", {m},
                  {{"starts", attr_ints({1})}, {"ends", attr_ints({2})}, {"axes", attr_ints({0})}},
                  9)) == std::vector<float>{4, 5, 6, 7});
  REQUIRE_THROWS_WITH(run1("Slice", {m, i64s({0}), i64s({1}), i64s({0}), i64s({0})}),
                      Contains("step of axis 0 is 0"));
  REQUIRE_THROWS_WITH(run1("Slice", {m, i64s({0, 0}), i64s({1, 1}), i64s({1, -1})}),
                      Contains("sliced twice"));
}

TEST_CASE("Expand and Tile", "[kernels][tensor]") {
  const Tensor x = f32({3, 1}, {1, 2, 3});
  const Tensor e = run1("Expand", {x, i64s({2, 1, 4})});
  REQUIRE(e.shape() == Shape{2, 3, 4});
  for_each_index(e.shape(), [&](const std::vector<int64_t>& i) {
    REQUIRE(e.data<float>()[flat_index(e.shape(), i)] == static_cast<float>(i[1] + 1));
  });
  // The target may be smaller than the data (bidirectional broadcast).
  REQUIRE(run1("Expand", {iota({2, 3}), i64s({1})}).shape() == Shape{2, 3});
  REQUIRE_THROWS_WITH(run1("Expand", {x, i64s({2, 2})}), Contains("does not broadcast"));

  const Tensor t = run1("Tile", {iota({2, 3}), i64s({2, 3})});
  REQUIRE(t.shape() == Shape{4, 9});
  for_each_index(t.shape(), [&](const std::vector<int64_t>& i) {
    REQUIRE(t.data<float>()[flat_index(t.shape(), i)] ==
            static_cast<float>(i[0] % 2 * 3 + i[1] % 3));
  });
  REQUIRE_THROWS_WITH(run1("Tile", {iota({2, 3}), i64s({2})}), Contains("one entry per axis"));
}

TEST_CASE("Gather, GatherElements and GatherND", "[kernels][tensor]") {
  const Tensor x = iota({3, 4});
  const Tensor g = run1("Gather", {x, i64({2, 2}, {0, -1, 3, 1})}, {{"axis", attr_int(1)}});
  REQUIRE(g.shape() == Shape{3, 2, 2});
  for_each_index(g.shape(), [&](const std::vector<int64_t>& i) {
    const int64_t column = std::vector<int64_t>{0, 3, 3, 1}[static_cast<size_t>(i[1] * 2 + i[2])];
    REQUIRE(g.data<float>()[flat_index(g.shape(), i)] == static_cast<float>(i[0] * 4 + column));
  });
  const Tensor rows = run1("Gather", {x, Tensor::from_vector<int32_t>({}, {2})});
  REQUIRE(floats(rows) == std::vector<float>{8, 9, 10, 11});
  REQUIRE_THROWS_WITH(run1("Gather", {x, i64s({3})}), Contains("index 3 is out of range [-3, 2]"));

  const Tensor ge =
      run1("GatherElements", {x, i64({2, 4}, {2, -1, 0, 1, 0, 0, 2, 2})}, {{"axis", attr_int(0)}});
  REQUIRE(floats(ge) == std::vector<float>{8, 9, 2, 7, 0, 1, 10, 11});
  REQUIRE_THROWS_WITH(run1("GatherElements", {x, i64({3, 5}, std::vector<int64_t>(15, 0))}),
                      Contains("no larger dimension"));

  // batch_dims = 1: each batch indexes its own [3, 2] slice.
  const Tensor data = iota({2, 3, 2});
  const Tensor nd =
      run1("GatherND", {data, i64({2, 2, 1}, {2, 0, -1, 1})}, {{"batch_dims", attr_int(1)}});
  REQUIRE(nd.shape() == Shape{2, 2, 2});
  REQUIRE(floats(nd) == std::vector<float>{4, 5, 0, 1, 10, 11, 8, 9});
  const Tensor points = run1("GatherND", {data, i64({2, 3}, {1, 2, 1, 0, 0, 0})});
  REQUIRE(floats(points) == std::vector<float>{11, 0});
  REQUIRE_THROWS_WITH(run1("GatherND", {data, i64({1, 4}, {0, 0, 0, 0})}), Contains("do not fit"));
}

TEST_CASE("ScatterElements and ScatterND with reductions", "[kernels][tensor]") {
  const Tensor data = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor indices = i64({2, 2}, {2, 0, -1, 2});
  const Tensor updates = f32({2, 2}, {10, 20, 30, 40});
  const Tensor set = run1("ScatterElements", {data, indices, updates}, {{"axis", attr_int(1)}});
  REQUIRE(floats(set) == std::vector<float>{20, 2, 10, 4, 5, 40});  // the last update wins
  const Tensor add = run1("ScatterElements", {data, indices, updates},
                          {{"axis", attr_int(1)}, {"reduction", attr_string("add")}}, 16);
  REQUIRE(floats(add) == std::vector<float>{21, 2, 13, 4, 5, 76});
  const Tensor max = run1("ScatterElements", {data, i64({1, 2}, {1, 1}), f32({1, 2}, {-5, 9})},
                          {{"reduction", attr_string("max")}}, 18);
  REQUIRE(floats(max) == std::vector<float>{1, 2, 3, 4, 9, 6});
  const Tensor legacy = run1("Scatter", {data, i64({1, 1}, {1}), f32({1, 1}, {7})}, {}, 9);
  REQUIRE(floats(legacy) == std::vector<float>{1, 2, 3, 7, 5, 6});
  REQUIRE_THROWS_WITH(run1("ScatterElements", {data, indices, f32({1, 2}, {1, 2})}),
                      Contains("must have the shape of indices"));
  REQUIRE_THROWS_WITH(run1("ScatterElements", {data, i64({1, 1}, {2}), f32({1, 1}, {1})}),
                      Contains("out of range"));
  const Tensor bools = Tensor::from_vector<bool>({2}, {false, false});
  REQUIRE_THROWS_WITH(
      run1("ScatterElements", {bools, i64s({0}), Tensor::from_vector<bool>({1}, {true})},
           {{"reduction", attr_string("add")}}, 16),
      Contains("not supported for dtype bool"));

  // Rows of a [3, 2] matrix: updates to row 2 and row 0, then row 2 again (mul).
  const Tensor m = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor rows = i64({3, 1}, {2, 0, -1});
  const Tensor row_updates = f32({3, 2}, {2, 3, 10, 10, 4, 5});
  const Tensor nd_set = run1("ScatterND", {m, i64({2, 1}, {2, 0}), f32({2, 2}, {7, 8, 9, 10})});
  REQUIRE(floats(nd_set) == std::vector<float>{9, 10, 3, 4, 7, 8});
  const Tensor nd_mul =
      run1("ScatterND", {m, rows, row_updates}, {{"reduction", attr_string("mul")}}, 16);
  REQUIRE(floats(nd_mul) == std::vector<float>{10, 20, 3, 4, 40, 90});
  const Tensor nd_point = run1("ScatterND", {m, i64({1, 2}, {1, 1}), f32({1}, {-1})},
                               {{"reduction", attr_string("min")}}, 18);
  REQUIRE(floats(nd_point) == std::vector<float>{1, 2, 3, -1, 5, 6});
  REQUIRE_THROWS_WITH(run1("ScatterND", {m, rows, f32({3, 1}, {1, 2, 3})}),
                      Contains("must have shape [3,2]"));
  REQUIRE_THROWS_WITH(
      run1("ScatterND", {m, rows, row_updates}, {{"reduction", attr_string("sub")}}),
      Contains("reduction 'sub'"));
}

TEST_CASE("Pad modes, negative pads, axes and legacy attributes", "[kernels][tensor]") {
  const Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor constant = run1("Pad", {x, i64s({0, 2, 1, 0}), f32({}, {9})}, {}, 13);
  REQUIRE(constant.shape() == Shape{3, 5});
  REQUIRE(floats(constant) == std::vector<float>{9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9, 9, 9, 9});
  // Reflect wider than the axis repeats the mirror image as numpy.pad does.
  const Tensor row = f32({1, 3}, {1, 2, 3});
  REQUIRE(floats(run1("Pad", {row, i64s({0, 5, 0, 5})}, {{"mode", attr_string("reflect")}})) ==
          std::vector<float>{2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2});
  REQUIRE(floats(run1("Pad", {row, i64s({0, 2, 0, 1})}, {{"mode", attr_string("edge")}})) ==
          std::vector<float>{1, 1, 1, 2, 3, 3});
  REQUIRE(floats(run1("Pad", {row, i64s({0, 4, 0, 1})}, {{"mode", attr_string("wrap")}})) ==
          std::vector<float>{3, 1, 2, 3, 1, 2, 3, 1});
  // Negative pads crop, then the remaining range is padded from.
  REQUIRE(floats(run1("Pad", {row, i64s({0, -1, 0, 2})}, {{"mode", attr_string("reflect")}})) ==
          std::vector<float>{2, 3, 2, 3});
  // Opset 18 axes: pads only the listed axes.
  REQUIRE(run1("Pad", {x, i64s({1, 1}), Tensor(), i64s({-1})}, {}, 18).shape() == Shape{2, 5});
  // Before opset 11 pads and value are attributes; int32 data converts the value.
  const Tensor ints = Tensor::from_vector<int32_t>({2}, {5, 6});
  const Tensor legacy =
      run1("Pad", {ints}, {{"pads", attr_ints({1, 2})}, {"value", attr_float(-3.0f)}}, 2 + 8);
  REQUIRE(legacy.to_int64s() == std::vector<int64_t>{-3, 5, 6, -3, -3});
  REQUIRE_THROWS_WITH(run1("Pad", {x, i64s({0, 1})}, {}, 13), Contains("must hold 2 x 2 values"));
  REQUIRE_THROWS_WITH(run1("Pad", {x, i64s({0, -4, 0, 0})}, {}, 13), Contains("remove more than"));
  REQUIRE_THROWS_WITH(run1("Pad", {x, i64s({0, 1, 0, 0})}, {{"mode", attr_string("mirror")}}),
                      Contains("mode 'mirror'"));
}

TEST_CASE("Range, Trilu, OneHot and NonZero", "[kernels][tensor]") {
  require_close(run1("Range", {f32({}, {1}), f32({}, {2}), f32({}, {0.3f})}),
                f32({4}, {1, 1.3f, 1.6f, 1.9f}));
  const Tensor down = run1("Range", {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(4),
                                     Tensor::scalar<int32_t>(-3)});
  REQUIRE(down.dtype() == DType::kInt32);
  REQUIRE(down.to_int64s() == std::vector<int64_t>{10, 7});
  REQUIRE(run1("Range", {i64({}, {5}), i64({}, {1}), i64({}, {2})}).numel() == 0);
  REQUIRE_THROWS_WITH(run1("Range", {i64({}, {0}), i64({}, {1}), i64({}, {0})}),
                      Contains("delta is 0"));

  const Tensor m = iota({2, 3, 4});
  for (int64_t upper : {0, 1}) {
    for (int64_t k : {-5, -1, 0, 2, 7}) {
      const Tensor t = run1("Trilu", {m, i64({}, {k})}, {{"upper", attr_int(upper)}}, 14);
      for_each_index(m.shape(), [&](const std::vector<int64_t>& i) {
        const bool keep = upper ? i[2] - i[1] >= k : i[2] - i[1] <= k;
        const float want = keep ? static_cast<float>(flat_index(m.shape(), i)) : 0.0f;
        REQUIRE(t.data<float>()[flat_index(m.shape(), i)] == want);
      });
    }
  }

  const Tensor hot = run1("OneHot", {i64s({1, -1, 5}), f32({}, {3}), f32({2}, {0, 2})},
                          {{"axis", attr_int(0)}}, 11);
  REQUIRE(hot.shape() == Shape{3, 3});
  REQUIRE(floats(hot) == std::vector<float>{0, 0, 0, 2, 0, 0, 0, 2, 0});
  REQUIRE_THROWS_WITH(run1("OneHot", {i64s({1}), f32({}, {0}), f32({2}, {0, 1})}, {}, 11),
                      Contains("depth 0"));

  const Tensor nz = run1("NonZero", {f32({2, 3}, {0, 1, -0.0f, 2, 0, 3})}, {}, 13);
  REQUIRE(nz.shape() == Shape{2, 3});
  REQUIRE(nz.to_int64s() == std::vector<int64_t>{0, 1, 1, 1, 0, 2});
  REQUIRE(run1("NonZero", {Tensor::scalar<int32_t>(4)}, {}, 13).shape() == Shape{1, 1});
  const Tensor halves = f32({4}, {0.0f, -0.0f, 1e-7f, 2.0f}).cast(DType::kFloat16);
  REQUIRE(run1("NonZero", {halves}, {}, 13).to_int64s() == std::vector<int64_t>{2, 3});
}

TEST_CASE("TopK selects like a sort that keeps ties in index order", "[kernels][tensor]") {
  const Tensor x = f32({2, 5}, {3, 1, 3, 7, 1, 0, -2, 5, 5, 4});
  const auto largest = run("TopK", {x, i64s({3})}, {}, 11, 2);
  REQUIRE(floats(largest[0]) == std::vector<float>{7, 3, 3, 5, 5, 4});
  REQUIRE(largest[1].to_int64s() == std::vector<int64_t>{3, 0, 2, 2, 3, 4});
  const auto smallest =
      run("TopK", {x, i64s({2})}, {{"largest", attr_int(0)}, {"axis", attr_int(0)}}, 11, 2);
  REQUIRE(floats(smallest[0]) == std::vector<float>{0, -2, 3, 5, 1, 3, 1, 5, 7, 4});
  REQUIRE(smallest[1].to_int64s() == std::vector<int64_t>{1, 1, 0, 1, 0, 0, 0, 1, 0, 1});
  const auto legacy = run("TopK", {x}, {{"k", attr_int(1)}}, 9, 2);
  REQUIRE(floats(legacy[0]) == std::vector<float>{7, 5});
  const auto ints =
      run("TopK", {Tensor::from_vector<int32_t>({4}, {4, 9, -1, 9}), i64s({2})}, {}, 11, 2);
  REQUIRE(ints[0].to_int64s() == std::vector<int64_t>{9, 9});
  REQUIRE(ints[1].to_int64s() == std::vector<int64_t>{1, 3});
  REQUIRE_THROWS_WITH(run("TopK", {x, i64s({6})}, {}, 11, 2), Contains("K = 6"));
  // NaN ranks as the largest value, so it comes first for largest and last for smallest.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor with_nan = f32({4}, {1, nan, 3, 2});
  REQUIRE(run("TopK", {with_nan, i64s({2})}, {}, 11, 2)[1].to_int64s() ==
          std::vector<int64_t>{1, 2});
  REQUIRE(run("TopK", {with_nan, i64s({3})}, {{"largest", attr_int(0)}}, 11, 2)[1].to_int64s() ==
          std::vector<int64_t>{0, 3, 2});
}

TEST_CASE("DepthToSpace and SpaceToDepth follow the reshape-transpose definitions",
          "[kernels][tensor]") {
  const int64_t b = 2, n = 1, c = 8, h = 2, w = 3;
  const Tensor x = iota({n, c, h, w});
  const Tensor dcr = run1("DepthToSpace", {x}, {{"blocksize", attr_int(b)}});
  const Tensor crd =
      run1("DepthToSpace", {x}, {{"blocksize", attr_int(b)}, {"mode", attr_string("CRD")}}, 13);
  REQUIRE(dcr.shape() == Shape{n, c / 4, h * b, w * b});
  for_each_index(dcr.shape(), [&](const std::vector<int64_t>& i) {
    const int64_t bh = i[2] % b, bw = i[3] % b;
    const int64_t dcr_channel = (bh * b + bw) * (c / 4) + i[1];
    const int64_t crd_channel = i[1] * b * b + bh * b + bw;
    const int64_t y = i[2] / b, xx = i[3] / b;
    REQUIRE(dcr.data<float>()[flat_index(dcr.shape(), i)] ==
            static_cast<float>(flat_index(x.shape(), {i[0], dcr_channel, y, xx})));
    REQUIRE(crd.data<float>()[flat_index(crd.shape(), i)] ==
            static_cast<float>(flat_index(x.shape(), {i[0], crd_channel, y, xx})));
  });
  // SpaceToDepth inverts DCR DepthToSpace.
  const Tensor back = run1("SpaceToDepth", {dcr}, {{"blocksize", attr_int(b)}});
  REQUIRE(floats(back) == floats(x));
  REQUIRE_THROWS_WITH(run1("DepthToSpace", {iota({1, 6, 2, 2})}, {{"blocksize", attr_int(2)}}),
                      Contains("blocksize 2"));
  REQUIRE_THROWS_WITH(run1("SpaceToDepth", {iota({1, 1, 3, 2})}, {{"blocksize", attr_int(2)}}),
                      Contains("divide the spatial size"));
}

namespace {

// Independent 1-D resampling per the ONNX Resize definition (reference semantics),
// applied axis by axis: N-linear / N-cubic interpolation is separable.
struct Resample1d {
  std::string mode = "nearest";
  std::string coordinates = "half_pixel";
  std::string nearest = "round_prefer_floor";
  double a = -0.75;
  bool exclude_outside = false;
};

std::vector<double> resample(const std::vector<double>& in, double scale, int64_t out_len,
                             const Resample1d& r) {
  const auto n = static_cast<int64_t>(in.size());
  std::vector<double> out;
  for (int64_t x = 0; x < out_len; ++x) {
    double s = 0;
    if (r.coordinates == "half_pixel") s = (x + 0.5) / scale - 0.5;
    if (r.coordinates == "asymmetric") s = x / scale;
    if (r.coordinates == "align_corners") s = x * (n - 1.0) / (scale * n - 1.0);
    if (r.coordinates == "pytorch_half_pixel") s = out_len > 1 ? (x + 0.5) / scale - 0.5 : 0;
    auto at = [&](int64_t i) { return in[static_cast<size_t>(std::clamp<int64_t>(i, 0, n - 1))]; };
    const double f = std::floor(s);
    const double t = s - f;
    const auto i0 = static_cast<int64_t>(f);
    if (r.mode == "nearest") {
      int64_t i = i0;
      if (t > 0 && (r.nearest == "ceil" || (r.nearest == "round_prefer_floor" && t > 0.5) ||
                    (r.nearest == "round_prefer_ceil" && t >= 0.5))) {
        i = i0 + 1;
      }
      out.push_back(at(i));
    } else if (r.mode == "linear") {
      out.push_back((1 - t) * at(i0) + t * at(i0 + 1));
    } else {
      auto kernel = [&](double d) {
        d = std::fabs(d);
        if (d <= 1) return (r.a + 2) * d * d * d - (r.a + 3) * d * d + 1;
        if (d < 2) return r.a * d * d * d - 5 * r.a * d * d + 8 * r.a * d - 4 * r.a;
        return 0.0;
      };
      double sum = 0, total = 0;
      for (int64_t i = i0 - 1; i <= i0 + 2; ++i) {
        const double w = (r.exclude_outside && (i < 0 || i >= n)) ? 0.0 : kernel(s - i);
        sum += w * at(i);
        total += w;
      }
      out.push_back(r.exclude_outside ? sum / total : sum);
    }
  }
  return out;
}

// Resamples the last two axes of an [N, C, H, W] tensor, H first.
Tensor resample_hw(const Tensor& x, double scale_h, double scale_w, int64_t out_h, int64_t out_w,
                   const Resample1d& r) {
  const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
  const std::vector<double> v = x.to_doubles();
  std::vector<float> out;
  for (int64_t p = 0; p < planes; ++p) {
    std::vector<std::vector<double>> columns(static_cast<size_t>(w));
    for (int64_t j = 0; j < w; ++j) {
      std::vector<double> column;
      for (int64_t i = 0; i < h; ++i) column.push_back(v[static_cast<size_t>((p * h + i) * w + j)]);
      columns[static_cast<size_t>(j)] = resample(column, scale_h, out_h, r);
    }
    for (int64_t i = 0; i < out_h; ++i) {
      std::vector<double> line;
      for (int64_t j = 0; j < w; ++j)
        line.push_back(columns[static_cast<size_t>(j)][static_cast<size_t>(i)]);
      for (double value : resample(line, scale_w, out_w, r))
        out.push_back(static_cast<float>(value));
    }
  }
  return f32({x.dim(0), x.dim(1), out_h, out_w}, out);
}

}  // namespace

TEST_CASE("Resize matches a separable 1-D reference for every mode", "[kernels][tensor][resize]") {
  const Tensor x = random_tensor({2, 3, 5, 7}, 5);
  const Tensor no_roi;
  struct Case {
    Resample1d r;
    double scale_h, scale_w;
  };
  std::vector<Case> cases;
  for (const char* mode : {"nearest", "linear", "cubic"}) {
    for (const char* coordinates :
         {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"}) {
      for (auto [sh, sw] :
           std::vector<std::pair<double, double>>{{2.0, 3.0}, {0.6, 0.5}, {1.0, 1.7}}) {
        Resample1d r;
        r.mode = mode;
        r.coordinates = coordinates;
        cases.push_back({r, sh, sw});
      }
    }
  }
  for (const char* nearest : {"round_prefer_ceil", "floor", "ceil"}) {
    Resample1d r;
    r.nearest = nearest;
    cases.push_back({r, 1.5, 2.5});
  }
  Resample1d cubic_excluding;
  cubic_excluding.mode = "cubic";
  cubic_excluding.a = -0.5;
  cubic_excluding.exclude_outside = true;
  cases.push_back({cubic_excluding, 1.8, 0.7});

  for (const Case& c : cases) {
    INFO(c.r.mode << " " << c.r.coordinates << " " << c.r.nearest << " scales " << c.scale_h << ", "
                  << c.scale_w);
    const Attrs attrs{{"mode", attr_string(c.r.mode)},
                      {"coordinate_transformation_mode", attr_string(c.r.coordinates)},
                      {"nearest_mode", attr_string(c.r.nearest)},
                      {"cubic_coeff_a", attr_float(static_cast<float>(c.r.a))},
                      {"exclude_outside", attr_int(c.r.exclude_outside)}};
    const Tensor scales =
        f32({4}, {1, 1, static_cast<float>(c.scale_h), static_cast<float>(c.scale_w)});
    const Tensor y = run1("Resize", {x, no_roi, scales}, attrs, 13);
    const auto out_h =
        static_cast<int64_t>(std::floor(5 * static_cast<double>(static_cast<float>(c.scale_h))));
    const auto out_w =
        static_cast<int64_t>(std::floor(7 * static_cast<double>(static_cast<float>(c.scale_w))));
    require_close(y,
                  resample_hw(x, static_cast<float>(c.scale_h), static_cast<float>(c.scale_w),
                              out_h, out_w, c.r),
                  1e-5, 1e-5);
  }
}

TEST_CASE("Resize with sizes, tf_crop_and_resize, axes and aspect-ratio policies",
          "[kernels][tensor][resize]") {
  const Tensor x = iota({1, 1, 4, 4});
  const Tensor no_roi;
  const Tensor no_scales;
  // sizes: the coordinate scale is out / in (align_corners maps corners onto corners).
  const Tensor corners = run1("Resize", {x, no_roi, no_scales, i64s({1, 1, 3, 7})},
                              {{"mode", attr_string("linear")},
                               {"coordinate_transformation_mode", attr_string("align_corners")}},
                              13);
  Resample1d r;
  r.mode = "linear";
  r.coordinates = "align_corners";
  require_close(corners, resample_hw(x, 3.0 / 4, 7.0 / 4, 3, 7, r));
  REQUIRE(corners.data<float>()[6] == 3.0f);
  REQUIRE(corners.data<float>()[20] == 15.0f);

  // tf_crop_and_resize samples the region of interest; outside it, extrapolation_value.
  const Tensor roi = f32({8}, {0, 0, 0.5f, 0.5f, 1, 1, 1.5f, 1.0f});
  const Tensor crop = run1("Resize", {x, roi, no_scales, i64s({1, 1, 3, 3})},
                           {{"mode", attr_string("linear")},
                            {"coordinate_transformation_mode", attr_string("tf_crop_and_resize")},
                            {"extrapolation_value", attr_float(-1)}},
                           13);
  // Rows 1.5, 3.0, 4.5 (last outside); columns 1.5, 2.25, 3.0.
  require_close(crop, f32({1, 1, 3, 3}, {7.5f, 8.25f, 9, 13.5f, 14.25f, 15, -1, -1, -1}));

  // Opset 18: axes picks the resized axes; not_larger keeps the aspect ratio.
  const Tensor fit = run1(
      "Resize", {x, no_roi, no_scales, i64s({6, 10})},
      {{"axes", attr_ints({2, 3})}, {"keep_aspect_ratio_policy", attr_string("not_larger")}}, 18);
  REQUIRE(fit.shape() == Shape{1, 1, 6, 6});
  const Tensor cover = run1(
      "Resize", {x, no_roi, no_scales, i64s({6, 10})},
      {{"axes", attr_ints({-1, -2})}, {"keep_aspect_ratio_policy", attr_string("not_smaller")}},
      18);
  REQUIRE(cover.shape() == Shape{1, 1, 10, 10});
  const Tensor scaled_w =
      run1("Resize", {x, no_roi, f32({1}, {2})}, {{"axes", attr_ints({3})}}, 18);
  REQUIRE(scaled_w.shape() == Shape{1, 1, 4, 8});
  REQUIRE(floats(scaled_w)[0] == 0.0f);
  REQUIRE(floats(scaled_w)[3] == 1.0f);

  // half_pixel_symmetric keeps the centres aligned when the size was rounded down.
  const Tensor row = f32({1, 5}, {0, 1, 2, 3, 4});
  const Tensor sym = run1("Resize", {row, no_roi, f32({2}, {1, 0.5f})},
                          {{"mode", attr_string("linear")},
                           {"coordinate_transformation_mode", attr_string("half_pixel_symmetric")}},
                          18);
  // out_len 2 (2.5 rounded down): offset = 2.5 * (1 - 2 / 2.5) = 0.5.
  require_close(sym, f32({1, 2}, {1.0f, 3.0f}));

  REQUIRE_THROWS_WITH(
      run1("Resize", {x, no_roi, f32({4}, {1, 1, 2, 2}), i64s({1, 1, 8, 8})}, {}, 13),
      Contains("exactly one of scales"));
  REQUIRE_THROWS_WITH(run1("Resize", {x, no_roi, f32({2}, {2, 2})}, {}, 13),
                      Contains("2 scales given for 4 axes"));
  REQUIRE_THROWS_WITH(run1("Resize", {x, no_roi, f32({4}, {1, 1, 0, 2})}, {}, 13),
                      Contains("must be positive"));
  REQUIRE_THROWS_WITH(
      run1("Resize", {x, no_roi, f32({4}, {1, 1, 2, 2})}, {{"antialias", attr_int(1)}}, 18),
      Contains("antialias"));
  REQUIRE_THROWS_WITH(
      run1("Resize", {x, no_roi, f32({4}, {1, 1, 2, 2})},
           {{"coordinate_transformation_mode", attr_string("tf_half_pixel_for_nn")}}, 13),
      Contains("is not one of"));
}

TEST_CASE("Resize on any axes, dtypes and thread counts, Resize 10 and Upsample",
          "[kernels][tensor][resize]") {
  const Tensor no_roi;
  // Resizing H and W of NHWC (the general path) equals resizing NCHW (the plane path).
  const Tensor nchw = random_tensor({2, 3, 6, 5}, 7);
  const Tensor nhwc = run1("Transpose", {nchw}, {{"perm", attr_ints({0, 2, 3, 1})}});
  for (const char* mode : {"linear", "cubic", "nearest"}) {
    const Attrs attrs{{"mode", attr_string(mode)}};
    const Tensor a = run1("Resize", {nchw, no_roi, f32({4}, {1, 1, 1.5f, 2.2f})}, attrs, 13);
    const Tensor b = run1("Resize", {nhwc, no_roi, f32({4}, {1, 1.5f, 2.2f, 1})}, attrs, 13);
    require_close(run1("Transpose", {b}, {{"perm", attr_ints({0, 3, 1, 2})}}), a, 1e-5, 1e-5);
  }
  // Bilinear over a large tensor gives the same bits with 1 and 2 threads.
  const Tensor big = random_tensor({1, 4, 40, 40}, 8);
  const Attrs linear{{"mode", attr_string("linear")}};
  const Tensor scales = f32({4}, {1, 1, 4, 4});
  const Tensor one = run1("Resize", {big, no_roi, scales}, linear, 13, 1);
  const Tensor two = run1("Resize", {big, no_roi, scales}, linear, 13, 2);
  REQUIRE(one.shape() == Shape{1, 4, 160, 160});
  REQUIRE(std::memcmp(one.raw(), two.raw(), one.nbytes()) == 0);

  // Nearest moves elements of any dtype; linear on uint8 interpolates then truncates.
  const Tensor bytes = Tensor::from_vector<uint8_t>({1, 2}, {10, 21});
  const Tensor near = run1("Resize", {bytes, no_roi, f32({2}, {1, 2})}, {}, 13);
  REQUIRE(near.dtype() == DType::kUInt8);
  REQUIRE(near.to_int64s() == std::vector<int64_t>{10, 10, 21, 21});
  const Tensor lin = run1("Resize", {bytes, no_roi, f32({2}, {1, 2})}, linear, 13);
  REQUIRE(lin.to_int64s() == std::vector<int64_t>{10, 12, 18, 21});  // 10, 12.75, 18.25, 21

  // Resize 10 and Upsample: asymmetric coordinates, nearest rounds down.
  const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const std::vector<float> nearest_2x3{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                       3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  const Tensor s = f32({4}, {1, 1, 2, 3});
  REQUIRE(floats(run1("Upsample", {x}, {{"scales", attr_floats({1, 1, 2, 3})}}, 7)) == nearest_2x3);
  REQUIRE(floats(run1("Upsample", {x, s}, {}, 9)) == nearest_2x3);
  REQUIRE(floats(run1("Resize", {x, s}, {}, 10)) == nearest_2x3);
  REQUIRE(floats(run1("Resize", {x, f32({4}, {1, 1, 1, 2})}, linear, 10)) ==
          std::vector<float>{1, 1.5f, 2, 2, 3, 3.5f, 4, 4});
  REQUIRE_THROWS_WITH(run1("Upsample", {x, f32({4}, {1, 1, 0.5f, 1})}, {}, 9), Contains("below 1"));
  REQUIRE_THROWS_WITH(run1("Resize", {x, s}, {{"mode", attr_string("cubic")}}, 10),
                      Contains("cubic needs Resize from opset 11"));
}
