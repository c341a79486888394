// Reference Conv, ConvTranspose, Gemm, MatMul and pooling kernels, checked
// against hand-computed values and independent naive loops in this file.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernel_test_util.hpp"

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

using lq::test::f32;
using lq::test::random_tensor;

std::vector<Tensor> run_ref(const std::string& op, std::vector<Tensor> inputs, Attrs attrs = {},
                            size_t num_outputs = 1, int64_t opset = 17) {
  OpSpec spec;
  spec.op_type = op;
  spec.inputs = std::move(inputs);
  spec.attrs = std::move(attrs);
  spec.num_outputs = num_outputs;
  spec.opset = opset;
  spec.reference_only = true;
  return run_op(spec);
}

Tensor ref1(const std::string& op, std::vector<Tensor> inputs, Attrs attrs = {}) {
  return run_ref(op, std::move(inputs), std::move(attrs))[0];
}

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t dil_h = 1, dil_w = 1;
  int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int64_t group = 1;
};

// Conv2d by copying the input into an explicitly zero-padded buffer first.
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const float* bias, const Conv2dParams& p) {
  const int64_t n_img = x.dim(0), c_in = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t m_out = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const int64_t ph = h + p.pad_t + p.pad_b, pw = wd + p.pad_l + p.pad_r;
  const int64_t oh = (ph - ((kh - 1) * p.dil_h + 1)) / p.stride_h + 1;
  const int64_t ow = (pw - ((kw - 1) * p.dil_w + 1)) / p.stride_w + 1;
  std::vector<float> padded(static_cast<size_t>(n_img * c_in * ph * pw), 0.0f);
  const float* xd = x.data<float>();
  for (int64_t i = 0; i < n_img * c_in; ++i)
    for (int64_t r = 0; r < h; ++r)
      for (int64_t c = 0; c < wd; ++c)
        padded[((i * ph) + r + p.pad_t) * pw + c + p.pad_l] = xd[(i * h + r) * wd + c];
  Tensor y(DType::kFloat32, {n_img, m_out, oh, ow});
  float* yd = y.data<float>();
  const float* wdat = w.data<float>();
  const int64_t mg = m_out / p.group;
  for (int64_t n = 0; n < n_img; ++n)
    for (int64_t m = 0; m < m_out; ++m)
      for (int64_t r = 0; r < oh; ++r)
        for (int64_t c = 0; c < ow; ++c) {
          double acc = bias ? bias[m] : 0.0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t b = 0; b < kw; ++b) {
                const int64_t channel = (m / mg) * cg + ci;
                acc += padded[((n * c_in + channel) * ph + r * p.stride_h + a * p.dil_h) * pw +
                              c * p.stride_w + b * p.dil_w] *
                       wdat[((m * cg + ci) * kh + a) * kw + b];
              }
          yd[((n * m_out + m) * oh + r) * ow + c] = static_cast<float>(acc);
        }
  return y;
}

Attrs conv_attrs(const Conv2dParams& p) {
  return {{"strides", attr_ints({p.stride_h, p.stride_w})},
          {"dilations", attr_ints({p.dil_h, p.dil_w})},
          {"pads", attr_ints({p.pad_t, p.pad_l, p.pad_b, p.pad_r})},
          {"group", attr_int(p.group)}};
}

}  // namespace

TEST_CASE("Conv reference: hand-computed 3x3 input, 2x2 kernel, bias", "[kernels][nn]") {
  const Tensor x = f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor w = f32({1, 1, 2, 2}, {1, 0, 0, -1});
  const Tensor b = f32({1}, {10});
  // Each output is x[r][c] - x[r+1][c+1] + 10 = -4 + 10.
  require_close(ref1("Conv", {x, w, b}), f32({1, 1, 2, 2}, {6, 6, 6, 6}));
  // pads=1 all around: corners see a single tap.
  const Tensor padded = ref1("Conv", {x, w}, {{"pads", attr_ints({1, 1, 1, 1})}});
  REQUIRE(padded.shape() == Shape{1, 1, 4, 4});
  REQUIRE(padded.data<float>()[0] == -1.0f);  // only x[0][0] * -1
  REQUIRE(padded.data<float>()[15] == 9.0f);  // only x[2][2] * 1
  REQUIRE(padded.data<float>()[5] == -4.0f);  // 1 - 5
}

TEST_CASE("Conv reference matches a padded-buffer convolution", "[kernels][nn]") {
  struct Case {
    Shape x, w;
    Conv2dParams p;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 3, 7, 9}, {4, 3, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, true},
      {{2, 4, 9, 8}, {6, 2, 3, 2}, {2, 1, 1, 2, 0, 1, 2, 0, 2}, true},
      {{1, 6, 8, 8}, {6, 1, 5, 5}, {2, 2, 1, 1, 2, 2, 2, 2, 6}, false},   // depthwise
      {{1, 3, 10, 11}, {2, 3, 3, 3}, {3, 2, 2, 1, 0, 3, 1, 0, 1}, true},  // asymmetric pads
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    const Tensor x = random_tensor(c.x, seed++);
    const Tensor w = random_tensor(c.w, seed++);
    const Tensor b = random_tensor({c.w[0]}, seed++);
    std::vector<Tensor> inputs{x, w};
    if (c.bias) inputs.push_back(b);
    const Tensor expected = naive_conv2d(x, w, c.bias ? b.data<float>() : nullptr, c.p);
    require_close(ref1("Conv", inputs, conv_attrs(c.p)), expected, 1e-5, 1e-5);
  }
}

TEST_CASE("Conv reference: auto_pad, 1-D and 3-D", "[kernels][nn]") {
  const Tensor x = f32({1, 1, 4}, {1, 2, 3, 4});
  const Tensor w = f32({1, 1, 3}, {1, 10, 100});
  // SAME with stride 1: total pad 2 split evenly.
  require_close(ref1("Conv", {x, w}, {{"auto_pad", attr_string("SAME_UPPER")}}),
                f32({1, 1, 4}, {210, 321, 432, 43}));
  // stride 2, kernel 3, input 4: output 2, total pad 1: UPPER pads the end, LOWER the start.
  Attrs upper{{"auto_pad", attr_string("SAME_UPPER")}, {"strides", attr_ints({2})}};
  Attrs lower{{"auto_pad", attr_string("SAME_LOWER")}, {"strides", attr_ints({2})}};
  require_close(ref1("Conv", {x, w}, upper), f32({1, 1, 2}, {321, 43}));
  require_close(ref1("Conv", {x, w}, lower), f32({1, 1, 2}, {210, 432}));
  require_close(ref1("Conv", {x, w}, {{"auto_pad", attr_string("VALID")}}),
                f32({1, 1, 2}, {321, 432}));
  // 3-D: a 2x2x2 kernel of ones sums each 2x2x2 block.
  std::vector<float> xs(27);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i);
  const Tensor y3 =
      ref1("Conv", {f32({1, 1, 3, 3, 3}, xs), f32({1, 1, 2, 2, 2}, std::vector<float>(8, 1))});
  REQUIRE(y3.shape() == Shape{1, 1, 2, 2, 2});
  // Block at the origin: 0+1+3+4+9+10+12+13.
  REQUIRE(y3.data<float>()[0] == 52.0f);
  REQUIRE(y3.data<float>()[7] == 52.0f + 8 * 13.0f);
}

TEST_CASE("Conv reference reports bad shapes and attributes", "[kernels][nn]") {
  const Tensor x = random_tensor({1, 4, 5, 5}, 1);
  REQUIRE_THROWS_WITH(ref1("Conv", {x, random_tensor({2, 4, 3}, 2)}),
                      Catch::Contains("(input 1)") && Catch::Contains("rank 3, expected 4"));
  REQUIRE_THROWS_WITH(ref1("Conv", {x, random_tensor({2, 3, 3, 3}, 2)}),
                      Catch::Contains("input channels"));
  REQUIRE_THROWS_WITH(ref1("Conv", {x, random_tensor({3, 2, 3, 3}, 2)}, {{"group", attr_int(2)}}),
                      Catch::Contains("not divisible by group 2"));
  REQUIRE_THROWS_WITH(ref1("Conv", {x, random_tensor({2, 4, 3, 3}, 2), random_tensor({3}, 3)}),
                      Catch::Contains("(input 2)"));
  REQUIRE_THROWS_WITH(
      ref1("Conv", {x, random_tensor({2, 4, 3, 3}, 2)}, {{"auto_pad", attr_string("SAME")}}),
      Catch::Contains("auto_pad \"SAME\""));
  REQUIRE_THROWS_WITH(
      ref1("Conv", {x, random_tensor({2, 4, 3, 3}, 2)}, {{"strides", attr_ints({1})}}),
      Catch::Contains("strides has 1 values, expected 2"));
  REQUIRE_THROWS_WITH(ref1("Conv", {x, random_tensor({2, 4, 7, 7}, 2)}),
                      Catch::Contains("smaller than the kernel extent"));
  REQUIRE_THROWS_WITH(
      ref1("Conv", {x, random_tensor({2, 4, 3, 3}, 2)}, {{"kernel_shape", attr_ints({2, 2})}}),
      Catch::Contains("does not match"));
  REQUIRE_THROWS_AS(ref1("Conv", {x.cast(DType::kInt32), random_tensor({2, 4, 3, 3}, 2)}),
                    lq::Error);
}

TEST_CASE("ConvTranspose reference: hand-computed strides, pads and output_padding",
          "[kernels][nn]") {
  const Tensor x = f32({1, 1, 3}, {1, 2, 3});
  const Tensor w = f32({1, 1, 2}, {1, 10});
  // Stride 2, kernel 2: each input writes [x, 10x] at 2i.
  require_close(ref1("ConvTranspose", {x, w}, {{"strides", attr_ints({2})}}),
                f32({1, 1, 6}, {1, 10, 2, 20, 3, 30}));
  // Stride 1: neighbours overlap.
  require_close(ref1("ConvTranspose", {x, w}), f32({1, 1, 4}, {1, 12, 23, 30}));
  // pads crop, output_padding appends zeros past the last tap.
  require_close(ref1("ConvTranspose", {x, w},
                     {{"strides", attr_ints({2})},
                      {"pads", attr_ints({1, 0})},
                      {"output_padding", attr_ints({1})}}),
                f32({1, 1, 6}, {10, 2, 20, 3, 30, 0}));
  // output_shape 7 > full size 6: the extra output is zero, at the end.
  require_close(ref1("ConvTranspose", {x, w},
                     {{"strides", attr_ints({2})}, {"output_shape", attr_ints({7})}}),
                f32({1, 1, 7}, {1, 10, 2, 20, 3, 30, 0}));
  // SAME_UPPER: output = input * stride = 6 exactly, bias added everywhere.
  require_close(ref1("ConvTranspose", {x, w, f32({1}, {0.5f})},
                     {{"strides", attr_ints({2})}, {"auto_pad", attr_string("SAME_UPPER")}}),
                f32({1, 1, 6}, {1.5f, 10.5f, 2.5f, 20.5f, 3.5f, 30.5f}));
}

TEST_CASE("ConvTranspose reference: groups and 2-D with dilation", "[kernels][nn]") {
  // Two groups, one channel each: channel g only uses its own weights.
  const Tensor x = f32({1, 2, 2}, {1, 2, 3, 4});
  const Tensor w = f32({2, 1, 1}, {2, -1});
  require_close(ref1("ConvTranspose", {x, w}, {{"group", attr_int(2)}}),
                f32({1, 2, 2}, {2, 4, -3, -4}));
  // 2-D: a single 1 input pixel copies the (dilated) kernel.
  const Tensor one = f32({1, 1, 1, 1}, {1});
  const Tensor k = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  require_close(ref1("ConvTranspose", {one, k}, {{"dilations", attr_ints({2, 2})}}),
                f32({1, 1, 3, 3}, {1, 0, 2, 0, 0, 0, 3, 0, 4}));
  REQUIRE_THROWS_WITH(ref1("ConvTranspose", {x, f32({3, 1, 1}, {1, 2, 3})}),
                      Catch::Contains("(input 1)"));
  REQUIRE_THROWS_WITH(
      ref1("ConvTranspose", {x, w}, {{"group", attr_int(2)}, {"output_shape", attr_ints({1, 2})}}),
      Catch::Contains("output_shape has 2 values"));
}

TEST_CASE("Gemm reference: transposes, alpha, beta and C broadcasting", "[kernels][nn]") {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  // A * B = [[4, 5], [10, 11]].
  require_close(ref1("Gemm", {a, b}), f32({2, 2}, {4, 5, 10, 11}));
  require_close(ref1("Gemm", {a, b, f32({2}, {100, 200})},
                     {{"alpha", attr_float(2)}, {"beta", attr_float(0.5f)}}),
                f32({2, 2}, {58, 110, 70, 122}));
  require_close(ref1("Gemm", {a, b, f32({2, 1}, {1, 2})}), f32({2, 2}, {5, 6, 12, 13}));
  require_close(ref1("Gemm", {a, b, f32({}, {1})}), f32({2, 2}, {5, 6, 11, 12}));
  const Tensor at = f32({3, 2}, {1, 4, 2, 5, 3, 6});
  const Tensor bt = f32({2, 3}, {1, 0, 1, 0, 1, 1});
  require_close(ref1("Gemm", {at, bt}, {{"transA", attr_int(1)}, {"transB", attr_int(1)}}),
                f32({2, 2}, {4, 5, 10, 11}));
  // beta = 0 ignores C, even its NaNs.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  require_close(ref1("Gemm", {a, b, f32({2}, {nan, nan})}, {{"beta", attr_float(0)}}),
                f32({2, 2}, {4, 5, 10, 11}));
  REQUIRE_THROWS_WITH(ref1("Gemm", {a, a}),
                      Catch::Contains("K = 2") && Catch::Contains("(input 1)"));
  REQUIRE_THROWS_WITH(ref1("Gemm", {a, b, f32({3}, {1, 2, 3})}),
                      Catch::Contains("(input 2)") && Catch::Contains("does not broadcast"));
}

TEST_CASE("MatMul reference: numpy semantics for 1-D and batched operands", "[kernels][nn]") {
  const Tensor v = f32({3}, {1, 2, 3});
  const Tensor m = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  require_close(ref1("MatMul", {v, v}), f32({}, {14}));
  require_close(ref1("MatMul", {v, m}), f32({2}, {4, 5}));
  require_close(ref1("MatMul", {f32({2, 3}, {1, 0, 0, 0, 1, 0}), v}), f32({2}, {1, 2}));
  // [2,1,2,3] x [3,3,2] broadcasts to [2,3,2,2]; check against a naive loop.
  const Tensor a = random_tensor({2, 1, 2, 3}, 5);
  const Tensor b = random_tensor({3, 3, 2}, 6);
  const Tensor y = ref1("MatMul", {a, b});
  REQUIRE(y.shape() == Shape{2, 3, 2, 2});
  const float* ad = a.data<float>();
  const float* bd = b.data<float>();
  std::vector<float> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) {
          float acc = 0;
          for (int l = 0; l < 3; ++l) acc += ad[i * 6 + r * 3 + l] * bd[j * 6 + l * 2 + c];
          expected.push_back(acc);
        }
  require_close(y, f32({2, 3, 2, 2}, expected));
  // Integer MatMul wraps around like the hardware does.
  const Tensor ia = Tensor::from_vector<int32_t>({1, 2}, {2, 3});
  const Tensor ib = Tensor::from_vector<int32_t>({2, 1}, {INT32_MAX, 1});
  REQUIRE(ref1("MatMul", {ia, ib}).data<int32_t>()[0] == static_cast<int32_t>(2u * INT32_MAX + 3u));
  const Tensor la = Tensor::from_vector<int64_t>({2}, {5, -7});
  REQUIRE(ref1("MatMul", {la, la}).data<int64_t>()[0] == 74);
  REQUIRE_THROWS_WITH(ref1("MatMul", {v, f32({2, 2}, {1, 2, 3, 4})}), Catch::Contains("K = 2"));
  REQUIRE_THROWS_WITH(ref1("MatMul", {random_tensor({2, 2, 3}, 1), random_tensor({3, 3, 2}, 2)}),
                      Catch::Contains("does not broadcast"));
}

TEST_CASE("MaxPool reference: pads, strides, ceil_mode, dilations and Indices", "[kernels][nn]") {
  // 4x4 input 0..15.
  std::vector<float> xs(16);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i);
  const Tensor x = f32({1, 1, 4, 4}, xs);
  require_close(
      ref1("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}}),
      f32({1, 1, 2, 2}, {5, 7, 13, 15}));
  // 3x3 stride 2 ceil_mode: the second window hangs over the edge.
  require_close(ref1("MaxPool", {x},
                     {{"kernel_shape", attr_ints({3, 3})},
                      {"strides", attr_ints({2, 2})},
                      {"ceil_mode", attr_int(1)}}),
                f32({1, 1, 2, 2}, {10, 11, 14, 15}));
  require_close(
      ref1("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"dilations", attr_ints({2, 2})}}),
      f32({1, 1, 2, 2}, {10, 11, 14, 15}));
  // Negative values with padding: padding never wins.
  const Tensor neg = f32({1, 1, 1, 2}, {-5, -3});
  require_close(ref1("MaxPool", {neg},
                     {{"kernel_shape", attr_ints({1, 2})}, {"pads", attr_ints({0, 1, 0, 1})}}),
                f32({1, 1, 1, 3}, {-5, -3, -3}));
  // Indices over two channels: flat index into the whole tensor, row or column major.
  std::vector<float> two(32);
  for (size_t i = 0; i < two.size(); ++i) two[i] = static_cast<float>(i % 16 == 6 ? 100 : i);
  const Tensor x2 = f32({1, 2, 4, 4}, two);
  const Attrs pool{{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}};
  std::vector<Tensor> rows = run_ref("MaxPool", {x2}, pool, 2);
  REQUIRE(rows[1].to_int64s() == std::vector<int64_t>{5, 6, 13, 15, 21, 22, 29, 31});
  Attrs column_major = pool;
  column_major["storage_order"] = attr_int(1);
  std::vector<Tensor> cols = run_ref("MaxPool", {x2}, column_major, 2);
  // (h, w) -> w * 4 + h within each 16-element plane.
  REQUIRE(cols[1].to_int64s() == std::vector<int64_t>{5, 9, 7, 15, 21, 25, 23, 31});
  // uint8 works too.
  const Tensor u8 = Tensor::from_vector<uint8_t>({1, 1, 1, 3}, {7, 200, 3});
  REQUIRE(ref1("MaxPool", {u8}, {{"kernel_shape", attr_ints({1, 2})}}).to_int64s() ==
          std::vector<int64_t>{200, 200});
  REQUIRE_THROWS_WITH(ref1("MaxPool", {x}), Catch::Contains("kernel_shape is required"));
  REQUIRE_THROWS_WITH(ref1("MaxPool", {f32({1, 4}, {1, 2, 3, 4})}, pool),
                      Catch::Contains("rank >= 3"));
}

TEST_CASE("AveragePool reference: count_include_pad, ceil_mode and SAME padding", "[kernels][nn]") {
  const Tensor x = f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Attrs base{{"kernel_shape", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 0, 0})}};
  // Corner window covers only x[0][0] (and three pad cells).
  require_close(ref1("AveragePool", {x}, base),
                f32({1, 1, 3, 3}, {1, 1.5f, 2.5f, 2.5f, 3, 4, 5.5f, 6, 7}));
  Attrs include = base;
  include["count_include_pad"] = attr_int(1);
  require_close(ref1("AveragePool", {x}, include),
                f32({1, 1, 3, 3}, {0.25f, 0.75f, 1.25f, 1.25f, 3, 4, 2.75f, 6, 7}));
  // ceil_mode: the last window is clipped and averages what it covers.
  require_close(ref1("AveragePool", {x},
                     {{"kernel_shape", attr_ints({2, 2})},
                      {"strides", attr_ints({2, 2})},
                      {"ceil_mode", attr_int(1)}}),
                f32({1, 1, 2, 2}, {3, 4.5f, 7.5f, 9}));
  // SAME_LOWER on a 1-D input of 4, kernel 2, stride 1: pad one at the start.
  require_close(ref1("AveragePool", {f32({1, 1, 4}, {2, 4, 6, 8})},
                     {{"kernel_shape", attr_ints({2})}, {"auto_pad", attr_string("SAME_LOWER")}}),
                f32({1, 1, 4}, {2, 3, 5, 7}));
}

TEST_CASE("Global pools reduce every plane", "[kernels][nn]") {
  const Tensor x = f32({1, 2, 2, 2}, {1, 2, 3, 6, -1, -2, -3, -4});
  require_close(ref1("GlobalAveragePool", {x}), f32({1, 2, 1, 1}, {3, -2.5f}));
  require_close(ref1("GlobalMaxPool", {x}), f32({1, 2, 1, 1}, {6, -1}));
  REQUIRE_THROWS_WITH(ref1("GlobalMaxPool", {f32({2}, {1, 2})}), Catch::Contains("rank >= 3"));
}
