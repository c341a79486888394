// Optimized Conv, ConvTranspose, Gemm and MatMul against their reference twins
// on random shapes (odd sizes, groups, depthwise, strides, pads, dilations), at
// one and three threads; and every GEMM micro-kernel this CPU runs against a
// naive product.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.hpp"
#include "kernels/float/optimized/depthwise_conv.hpp"
#include "kernels/float/optimized/sgemm.hpp"

namespace {

using lq::Attribute;
using lq::DType;
using lq::Shape;
using lq::Tensor;
using lq::test::attr_float;
using lq::test::attr_int;
using lq::test::attr_ints;
using lq::test::attr_string;
using lq::test::OpSpec;
using lq::test::require_close;
using lq::test::run_op;
using Attrs = std::map<std::string, Attribute>;
namespace opt = lq::kernels::optimized;

using lq::test::random_floats;
using lq::test::random_tensor;

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Runs the op through the reference kernel and through the optimized one at one
// and three threads: the optimized results must match the reference closely and
// each other bit for bit.
void check_against_reference(const std::string& op, const std::vector<Tensor>& inputs,
                             const Attrs& attrs, double tolerance = 1e-4) {
  OpSpec spec;
  spec.op_type = op;
  spec.inputs = inputs;
  spec.attrs = attrs;
  spec.reference_only = true;
  const Tensor expected = run_op(spec)[0];
  spec.reference_only = false;
  const Tensor one_thread = run_op(spec)[0];
  spec.threads = 3;
  const Tensor three_threads = run_op(spec)[0];
  require_close(one_thread, expected, tolerance, tolerance);
  REQUIRE(bit_identical(one_thread, three_threads));
}

struct ConvCase {
  Shape x;
  Shape w;
  Attrs attrs;
  bool bias = true;
};

std::string describe(const ConvCase& c) {
  return "x " + lq::shape_str(c.x) + " w " + lq::shape_str(c.w);
}

}  // namespace

TEST_CASE("optimized Conv matches the reference", "[kernels][nn][optimized]") {
  const std::vector<ConvCase> cases = {
      // Pointwise (plain GEMM on the input), odd sizes.
      {{1, 17, 9, 13}, {33, 17, 1, 1}, {}},
      {{2, 3, 5, 7}, {1, 3, 1, 1}, {}, false},
      // 3x3 stride 1 and 2 through im2col.
      {{1, 3, 33, 33}, {16, 3, 3, 3}, {{"pads", attr_ints({1, 1, 1, 1})}}},
      {{1, 8, 17, 65},
       {24, 8, 3, 3},
       {{"pads", attr_ints({1, 1, 1, 1})}, {"strides", attr_ints({2, 2})}}},
      // K = 300 * 9 spans several K blocks; M = 65 leaves a partial row panel.
      {{1, 300, 6, 7}, {65, 300, 3, 3}, {{"pads", attr_ints({0, 1, 2, 1})}}},
      // Asymmetric pads, dilation with stride, 1x1 with stride.
      {{1, 5, 19, 23},
       {7, 5, 3, 2},
       {{"pads", attr_ints({2, 0, 1, 3})},
        {"dilations", attr_ints({2, 3})},
        {"strides", attr_ints({2, 1})}}},
      {{1, 6, 11, 12}, {9, 6, 1, 1}, {{"strides", attr_ints({2, 3})}}},
      {{2, 4, 10, 9},
       {6, 4, 3, 3},
       {{"auto_pad", attr_string("SAME_UPPER")}, {"strides", attr_ints({2, 2})}}},
      // Groups that are not depthwise.
      {{1, 9, 12, 11}, {12, 3, 3, 3}, {{"group", attr_int(3)}, {"pads", attr_ints({1, 1, 1, 1})}}},
      // Depthwise 3x3 and 5x5, stride 1 and 2 (vector and border paths).
      {{1, 17, 33, 35},
       {17, 1, 3, 3},
       {{"group", attr_int(17)}, {"pads", attr_ints({1, 1, 1, 1})}}},
      {{2, 16, 40, 41},
       {16, 1, 5, 5},
       {{"group", attr_int(16)},
        {"pads", attr_ints({2, 2, 2, 2})},
        {"strides", attr_ints({2, 2})}}},
      {{1, 3, 65, 17},
       {3, 1, 3, 3},
       {{"group", attr_int(3)},
        {"dilations", attr_ints({2, 2})},
        {"pads", attr_ints({2, 2, 2, 2})}}},
      // Depthwise with stride 3, no pads, no bias; and a channel multiplier of 2.
      {{1, 4, 20, 31},
       {4, 1, 3, 3},
       {{"group", attr_int(4)}, {"strides", attr_ints({3, 3})}},
       false},
      {{1, 4, 9, 18}, {8, 1, 3, 3}, {{"group", attr_int(4)}, {"pads", attr_ints({1, 1, 1, 1})}}},
      // Narrow images (width 1 and 3).
      {{1, 8, 7, 1}, {8, 1, 3, 1}, {{"group", attr_int(8)}, {"pads", attr_ints({1, 0, 1, 0})}}},
      {{1, 5, 3, 3}, {4, 5, 3, 3}, {{"pads", attr_ints({1, 1, 1, 1})}}},
      // 1-D.
      {{2, 5, 65}, {7, 5, 3}, {{"pads", attr_ints({1, 0})}, {"strides", attr_ints({2})}}},
      {{1, 6, 33}, {6, 1, 5}, {{"group", attr_int(6)}, {"pads", attr_ints({2, 2})}}},
      // Big enough that the work is split over the three threads.
      {{1, 32, 40, 40}, {48, 32, 3, 3}, {{"pads", attr_ints({1, 1, 1, 1})}}},
      {{1, 40, 48, 48},
       {40, 1, 5, 5},
       {{"group", attr_int(40)}, {"pads", attr_ints({2, 2, 2, 2})}}},
      // 3-D falls back to the reference.
      {{1, 2, 4, 5, 6}, {3, 2, 2, 3, 2}, {}},
  };
  uint32_t seed = 100;
  for (const ConvCase& c : cases) {
    INFO(describe(c));
    std::vector<Tensor> inputs{random_tensor(c.x, seed), random_tensor(c.w, seed + 1)};
    if (c.bias) inputs.push_back(random_tensor({c.w[0]}, seed + 2));
    seed += 3;
    check_against_reference("Conv", inputs, c.attrs);
  }
}

TEST_CASE("optimized ConvTranspose matches the reference", "[kernels][nn][optimized]") {
  const std::vector<ConvCase> cases = {
      {{1, 8, 9, 11},
       {8, 6, 3, 3},
       {{"strides", attr_ints({2, 2})},
        {"pads", attr_ints({1, 1, 1, 1})},
        {"output_padding", attr_ints({1, 1})}}},
      {{1, 16, 17, 17}, {16, 16, 2, 2}, {{"strides", attr_ints({2, 2})}}},
      {{2, 4, 5, 7},
       {4, 3, 3, 2},
       {{"group", attr_int(2)}, {"dilations", attr_ints({2, 1})}, {"strides", attr_ints({1, 3})}}},
      {{1, 3, 6, 5},
       {3, 2, 3, 3},
       {{"output_shape", attr_ints({14, 13})}, {"strides", attr_ints({2, 2})}},
       false},
      {{1, 5, 33}, {5, 7, 4}, {{"strides", attr_ints({3})}, {"pads", attr_ints({2, 1})}}},
      {{1, 2, 4, 4},
       {2, 3, 3, 3},
       {{"auto_pad", attr_string("SAME_LOWER")}, {"strides", attr_ints({2, 2})}}},
      {{1, 24, 40, 40}, {24, 24, 2, 2}, {{"strides", attr_ints({2, 2})}}},
  };
  uint32_t seed = 300;
  for (const ConvCase& c : cases) {
    INFO(describe(c));
    std::vector<Tensor> inputs{random_tensor(c.x, seed), random_tensor(c.w, seed + 1)};
    const int64_t group = c.attrs.count("group") ? c.attrs.at("group").i : 1;
    if (c.bias) inputs.push_back(random_tensor({c.w[1] * group}, seed + 2));
    seed += 3;
    check_against_reference("ConvTranspose", inputs, c.attrs);
  }
}

TEST_CASE("optimized Gemm matches the reference", "[kernels][nn][optimized]") {
  struct Case {
    int64_t m, n, k;
    bool trans_a, trans_b;
    Shape c;  // {} with has_c false means no C
    bool has_c;
  };
  const std::vector<Case> cases = {
      {1, 1, 1, false, false, {}, false},       {3, 17, 33, false, true, {17}, true},
      {65, 33, 17, true, false, {65, 1}, true}, {33, 65, 300, true, true, {33, 65}, true},
      {17, 1, 65, false, false, {1}, true},     {100, 129, 3, false, true, {}, true},
  };
  uint32_t seed = 500;
  for (const Case& c : cases) {
    INFO("M " << c.m << " N " << c.n << " K " << c.k);
    std::vector<Tensor> inputs{
        random_tensor(c.trans_a ? Shape{c.k, c.m} : Shape{c.m, c.k}, seed),
        random_tensor(c.trans_b ? Shape{c.n, c.k} : Shape{c.k, c.n}, seed + 1)};
    if (c.has_c) inputs.push_back(random_tensor(c.c, seed + 2));
    seed += 3;
    check_against_reference("Gemm", inputs,
                            {{"transA", attr_int(c.trans_a)},
                             {"transB", attr_int(c.trans_b)},
                             {"alpha", attr_float(0.75f)},
                             {"beta", attr_float(-1.5f)}});
  }
}

TEST_CASE("optimized MatMul matches the reference", "[kernels][nn][optimized]") {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 17, 33}, {33, 65}},    {{2, 1, 5, 7}, {3, 7, 9}},    {{33}, {33, 17}},
      {{4, 17, 3}, {3}},          {{500, 40}, {40, 20}},        {{1, 65}, {65, 1}},
      {{8, 40, 15}, {8, 15, 40}}, {{16, 40, 40}, {16, 40, 40}}, {{40, 120}, {120, 1000}},
  };
  uint32_t seed = 700;
  for (const auto& [a, b] : cases) {
    INFO(lq::shape_str(a) << " x " << lq::shape_str(b));
    check_against_reference("MatMul", {random_tensor(a, seed), random_tensor(b, seed + 1)}, {});
    seed += 2;
  }
  // Empty operands: no rows, and K = 0 (all zeros).
  check_against_reference("MatMul", {random_tensor({0, 3}, 1), random_tensor({3, 4}, 2)}, {});
  check_against_reference("MatMul", {random_tensor({2, 0}, 1), random_tensor({0, 3}, 2)}, {});
  check_against_reference(
      "Gemm", {random_tensor({2, 0}, 1), random_tensor({0, 3}, 2), random_tensor({3}, 3)},
      {{"beta", attr_float(2.0f)}});
  // Integer MatMul goes to the reference kernel.
  OpSpec spec;
  spec.op_type = "MatMul";
  spec.inputs = {Tensor::from_vector<int64_t>({1, 2}, {3, 4}),
                 Tensor::from_vector<int64_t>({2, 1}, {5, 6})};
  REQUIRE(run_op(spec)[0].to_int64s() == std::vector<int64_t>{39});
}

TEST_CASE("every GEMM micro-kernel matches a naive product", "[kernels][nn][optimized]") {
  struct Case {
    int64_t m, n, k;
    bool accumulate, bias;
  };
  const std::vector<Case> cases = {{1, 1, 1, false, false},
                                   {17, 33, 65, false, true},
                                   {65, 3, 300, true, false},
                                   {9, 100, 513, false, true},
                                   {40, 700, 130, true, true}};
  // B is read three ways: packed from a transposed matrix, in place from a
  // row-major one, and in place through row offsets (the reversed rows).
  enum class Source { kPacked, kInPlace, kRows };
  lq::kernels::ThreadPool pool(3);
  for (const opt::MicroKernel* kernel : opt::available_micro_kernels()) {
    for (const Case& c : cases) {
      for (Source source : {Source::kPacked, Source::kInPlace, Source::kRows}) {
        INFO(kernel->name << " M " << c.m << " N " << c.n << " K " << c.k << " source "
                          << static_cast<int>(source));
        const std::vector<float> a = random_floats(static_cast<size_t>(c.m * c.k), 1);
        const std::vector<float> b = random_floats(static_cast<size_t>(c.k * c.n), 2);
        const std::vector<float> bias = random_floats(static_cast<size_t>(c.m), 3);
        const std::vector<float> c0 = random_floats(static_cast<size_t>(c.m * c.n), 4);
        std::vector<float> bt(b.size());
        for (int64_t l = 0; l < c.k; ++l)
          for (int64_t j = 0; j < c.n; ++j) bt[j * c.k + l] = b[l * c.n + j];
        std::vector<float> reversed(b.size());
        std::vector<int64_t> offsets(static_cast<size_t>(c.k));
        for (int64_t l = 0; l < c.k; ++l) {
          std::copy(b.begin() + l * c.n, b.begin() + (l + 1) * c.n,
                    reversed.begin() + (c.k - 1 - l) * c.n);
          offsets[static_cast<size_t>(l)] = (c.k - 1 - l) * c.n;
        }
        const opt::StridedPanelSource transposed({bt.data(), 1, c.k});
        const opt::StridedPanelSource row_major({b.data(), c.n, 1});
        const opt::RowsPanelSource rows(reversed.data(), offsets.data());
        std::vector<float> serial = c0, parallel = c0;
        opt::GemmArgs args;
        args.m = c.m;
        args.n = c.n;
        args.k = c.k;
        args.a = {a.data(), c.k, 1};
        args.alpha = 2.0f;
        args.b = source == Source::kPacked    ? static_cast<const opt::PanelSource*>(&transposed)
                 : source == Source::kInPlace ? static_cast<const opt::PanelSource*>(&row_major)
                                              : &rows;
        args.ldc = c.n;
        args.accumulate = c.accumulate;
        args.row_bias = c.bias ? bias.data() : nullptr;
        args.c = serial.data();
        opt::sgemm(args, *kernel, nullptr);
        args.c = parallel.data();
        opt::sgemm(args, *kernel, &pool);
        REQUIRE(serial == parallel);
        for (int64_t i = 0; i < c.m; ++i) {
          for (int64_t j = 0; j < c.n; ++j) {
            double expected = c.accumulate ? c0[i * c.n + j] : c.bias ? bias[i] : 0.0;
            for (int64_t l = 0; l < c.k; ++l) expected += 2.0 * a[i * c.k + l] * b[l * c.n + j];
            INFO("at " << i << "," << j);
            REQUIRE(std::fabs(serial[i * c.n + j] - expected) <= 1e-4 * (1 + std::fabs(expected)));
          }
        }
      }
    }
  }
}

TEST_CASE("GEMM drops the columns a pitched output does not keep", "[kernels][nn][optimized]") {
  // Product columns n = row * 7 + col, of which col < 5 are kept: C is [M, rows * 5].
  const int64_t m = 11, k = 300, rows = 9, pitch = 7, width = 5, n = rows * pitch;
  const std::vector<float> a = random_floats(static_cast<size_t>(m * k), 5);
  const std::vector<float> b = random_floats(static_cast<size_t>(k * n), 6);
  const opt::StridedPanelSource source({b.data(), n, 1});
  for (const opt::MicroKernel* kernel : opt::available_micro_kernels()) {
    INFO(kernel->name);
    std::vector<float> c(static_cast<size_t>(m * rows * width), -7.0f);
    opt::GemmArgs args;
    args.m = m;
    args.n = n;
    args.k = k;
    args.a = {a.data(), k, 1};
    args.b = &source;
    args.c = c.data();
    args.ldc = rows * width;
    args.c_pitch = pitch;
    args.c_width = width;
    opt::sgemm(args, *kernel, nullptr);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t col = 0; col < rows * width; ++col) {
        const int64_t product_col = col / width * pitch + col % width;
        double expected = 0;
        for (int64_t l = 0; l < k; ++l) expected += a[i * k + l] * b[l * n + product_col];
        INFO("at " << i << "," << col);
        REQUIRE(std::fabs(c[i * rows * width + col] - expected) <=
                1e-4 * (1 + std::fabs(expected)));
      }
    }
  }
}

TEST_CASE("depthwise planes match a naive loop on every instruction set",
          "[kernels][nn][optimized]") {
  opt::Window2d w{};
  w.in_h = 13, w.in_w = 37, w.kernel_h = 3, w.kernel_w = 5;
  w.stride_h = 2, w.stride_w = 2, w.dilation_h = 1, w.dilation_w = 2;
  w.pad_top = 1, w.pad_left = 4;
  w.out_h = (13 + 2 - 3) / 2 + 1;
  w.out_w = (37 + 8 - 9) / 2 + 1;
  const std::vector<float> input = random_floats(13 * 37, 9);
  const std::vector<float> weights = random_floats(15, 10);
  std::vector<double> expected;
  for (int64_t oh = 0; oh < w.out_h; ++oh) {
    for (int64_t ow = 0; ow < w.out_w; ++ow) {
      double acc = 0.5;
      for (int64_t kh = 0; kh < 3; ++kh) {
        for (int64_t kw = 0; kw < 5; ++kw) {
          const int64_t ih = oh * 2 - 1 + kh, iw = ow * 2 - 4 + kw * 2;
          if (ih >= 0 && ih < 13 && iw >= 0 && iw < 37)
            acc += weights[kh * 5 + kw] * input[ih * 37 + iw];
        }
      }
      expected.push_back(acc);
    }
  }
  const opt::DepthwiseConv conv(w);
  std::vector<float> scratch(static_cast<size_t>(conv.grid.size()));
  for (opt::DepthwisePlaneFn plane : {opt::depthwise_plane_portable, opt::best_depthwise_plane()}) {
    std::vector<float> out(expected.size());
    plane(conv, {input.data(), weights.data(), 0.5f, out.data(), scratch.data(),
                 conv.tap_offsets.data()});
    for (size_t i = 0; i < out.size(); ++i) {
      INFO("output " << i);
      REQUIRE(std::fabs(out[i] - expected[i]) <= 1e-5);
    }
  }
}

TEST_CASE("optimized pooling matches the reference", "[kernels][nn][optimized]") {
  const std::vector<std::pair<Shape, Attrs>> max_cases = {
      {{1, 3, 17, 33}, {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}}},
      {{2, 5, 9, 12},
       {{"kernel_shape", attr_ints({3, 3})},
        {"strides", attr_ints({2, 2})},
        {"pads", attr_ints({1, 1, 1, 1})},
        {"ceil_mode", attr_int(1)}}},
      {{1, 2, 11, 10}, {{"kernel_shape", attr_ints({2, 3})}, {"dilations", attr_ints({2, 2})}}},
      {{1, 4, 65},
       {{"kernel_shape", attr_ints({3})},
        {"auto_pad", attr_string("SAME_UPPER")},
        {"strides", attr_ints({2})}}},
  };
  uint32_t seed = 900;
  for (const auto& [shape, attrs] : max_cases) {
    INFO("MaxPool " << lq::shape_str(shape));
    check_against_reference("MaxPool", {random_tensor(shape, seed++)}, attrs, 0.0);
  }
  const std::vector<std::pair<Shape, Attrs>> average_cases = {
      {{1, 480, 3, 80}, {{"kernel_shape", attr_ints({3, 2})}, {"strides", attr_ints({3, 2})}}},
      {{1, 64, 64, 64}, {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}}},
      {{1, 3, 10, 13},
       {{"kernel_shape", attr_ints({3, 3})},
        {"pads", attr_ints({1, 2, 1, 0})},
        {"count_include_pad", attr_int(1)}}},
      {{2, 3, 10, 13},
       {{"kernel_shape", attr_ints({3, 3})},
        {"pads", attr_ints({1, 2, 1, 0})},
        {"strides", attr_ints({2, 2})},
        {"ceil_mode", attr_int(1)}}},
      {{1, 2, 33}, {{"kernel_shape", attr_ints({4})}, {"auto_pad", attr_string("SAME_LOWER")}}},
  };
  for (const auto& [shape, attrs] : average_cases) {
    INFO("AveragePool " << lq::shape_str(shape));
    check_against_reference("AveragePool", {random_tensor(shape, seed++)}, attrs, 1e-6);
  }
  for (const Shape& shape :
       {Shape{1, 3, 17, 33}, Shape{2, 5, 1, 1}, Shape{1, 2, 7}, Shape{1, 96, 80, 80}}) {
    INFO("global pools " << lq::shape_str(shape));
    check_against_reference("GlobalAveragePool", {random_tensor(shape, seed++)}, {}, 1e-5);
    check_against_reference("GlobalMaxPool", {random_tensor(shape, seed++)}, {}, 0.0);
  }
  // NaN propagates through GlobalMaxPool on both paths.
  Tensor with_nan = random_tensor({1, 1, 5, 7}, seed);
  with_nan.data<float>()[20] = std::nanf("");
  OpSpec spec;
  spec.op_type = "GlobalMaxPool";
  spec.inputs = {with_nan};
  REQUIRE(std::isnan(run_op(spec)[0].data<float>()[0]));
  spec.reference_only = true;
  REQUIRE(std::isnan(run_op(spec)[0].data<float>()[0]));
}
