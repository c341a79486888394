// Integer reference kernels (lib/kernels/integer/reference) against float-dequantized expectations:
// dequantize the integer inputs, run the float op (the float kernels through run_op), and
// quantize the result; the integer output must be within 1 LSB of that everywhere, equal
// on nearly every element, and exactly equal where the math is exact (max pooling, data
// movement, lookup tables). Linear ops are also checked bit for bit against a naive
// integer loop written here.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "compiler/kernel_params.hpp"
#include "kernels/integer/integer_kernels.hpp"
#include "kernel_test_util.hpp"
#include "kernels/thread_pool.hpp"

using namespace lq;
using lq::integer::LinearQuant;
using lq::integer::OutputSpec;
using lq::test::attr_float;
using lq::test::attr_int;
using lq::test::attr_ints;
using lq::test::attr_string;
using lq::test::OpSpec;
using lq::test::run_op;

namespace {

QuantParams per_tensor(DType dtype, float scale, int32_t zero_point) {
  QuantParams p;
  p.dtype = dtype;
  p.scale = {scale};
  p.zero_point = {zero_point};
  return p;
}

// Integer codes as a tensor of `dtype` (int4 stored as int8).
Tensor codes_tensor(DType dtype, const Shape& shape, const std::vector<int32_t>& codes) {
  Tensor t(dtype, shape);
  for (size_t i = 0; i < codes.size(); ++i) {
    switch (dtype) {
      case DType::kInt4:
      case DType::kInt8:
        static_cast<int8_t*>(t.raw())[i] = static_cast<int8_t>(codes[i]);
        break;
      case DType::kUInt8:
        static_cast<uint8_t*>(t.raw())[i] = static_cast<uint8_t>(codes[i]);
        break;
      case DType::kInt16:
        static_cast<int16_t*>(t.raw())[i] = static_cast<int16_t>(codes[i]);
        break;
      case DType::kInt32:
        static_cast<int32_t*>(t.raw())[i] = codes[i];
        break;
      default:
        FAIL("unexpected dtype");
    }
  }
  return t;
}

std::vector<int32_t> codes_of(const Tensor& t) {
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.dtype()) {
      case DType::kInt4:
      case DType::kInt8:
        out[i] = static_cast<const int8_t*>(t.raw())[i];
        break;
      case DType::kUInt8:
        out[i] = static_cast<const uint8_t*>(t.raw())[i];
        break;
      case DType::kInt16:
        out[i] = static_cast<const int16_t*>(t.raw())[i];
        break;
      default:
        FAIL("unexpected dtype " << dtype_name(t.dtype()));
    }
  }
  return out;
}

std::vector<int32_t> random_codes(std::mt19937& rng, int64_t count, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  std::vector<int32_t> out(static_cast<size_t>(count));
  for (int32_t& v : out) v = dist(rng);
  return out;
}

std::vector<int32_t> random_codes(std::mt19937& rng, DType dtype, int64_t count) {
  return random_codes(rng, count, dtype_qmin(dtype), dtype_qmax(dtype));
}

// The channel of flat element i along `axis` of `shape` (0 when per tensor).
size_t channel_of(const Shape& shape, int axis, int64_t i) {
  if (axis < 0) return 0;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  return static_cast<size_t>((i / inner) % shape[static_cast<size_t>(axis)]);
}

Tensor dequantized(const std::vector<int32_t>& codes, const Shape& shape, const QuantParams& p) {
  Tensor out(DType::kFloat32, shape);
  for (size_t i = 0; i < codes.size(); ++i) {
    const size_t c = channel_of(shape, p.axis, static_cast<int64_t>(i));
    out.data<float>()[i] = dequantize_value(codes[i], p.scale[c], p.zero_point[c]);
  }
  return out;
}

// Output parameters that cover `y` (asymmetric for 8-bit, symmetric for int16).
QuantParams covering(const Tensor& y, DType dtype) {
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    lo = std::min(lo, y.data<float>()[i]);
    hi = std::max(hi, y.data<float>()[i]);
  }
  if (dtype == DType::kInt16) {
    return per_tensor(dtype, std::max({-lo, hi, 1e-6f}) / 32767.0f, 0);
  }
  const float scale = std::max(hi - lo, 1e-6f) / 255.0f;
  const auto zp = static_cast<int32_t>(std::lround(dtype_qmin(dtype) - lo / scale));
  return per_tensor(dtype, scale, std::clamp(zp, dtype_qmin(dtype), dtype_qmax(dtype)));
}

// QuantizeLinear of a float result, after a fused Clip.
std::vector<int32_t> quantized(const Tensor& y, const QuantParams& p, float clip_lo = -INFINITY,
                               float clip_hi = INFINITY) {
  std::vector<int32_t> out(static_cast<size_t>(y.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    const float v = std::min(std::max(y.data<float>()[i], clip_lo), clip_hi);
    out[i] = quantize_value(v, p.scale[0], p.zero_point[0], p.qmin(), p.qmax());
  }
  return out;
}

// Every element within 1 LSB of the expectation, at least `min_equal` of them equal.
void require_within_one_lsb(const Tensor& got, const Shape& shape,
                            const std::vector<int32_t>& expected, double min_equal = 0.97) {
  REQUIRE(got.shape() == shape);
  const std::vector<int32_t> codes = codes_of(got);
  REQUIRE(codes.size() == expected.size());
  size_t equal = 0;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (std::abs(codes[i] - expected[i]) > 1) {
      FAIL("element " << i << ": got " << codes[i] << ", expected " << expected[i]);
    }
    equal += codes[i] == expected[i];
  }
  INFO(equal << " of " << codes.size() << " elements equal");
  REQUIRE(static_cast<double>(equal) >= min_equal * static_cast<double>(codes.size()));
}

void require_codes(const Tensor& got, const Shape& shape, const std::vector<int32_t>& expected) {
  REQUIRE(got.shape() == shape);
  REQUIRE(codes_of(got) == expected);
}

// ---- Conv

struct ConvCase {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides, pads, dilations;
  DType x_dtype = DType::kInt8, w_dtype = DType::kInt8;
  bool symmetric_weights = true;
  bool bias = true;
  float clip_lo = -INFINITY, clip_hi = INFINITY;
};

struct LinearData {
  std::vector<int32_t> x, w, bias;
  QuantParams xp, wp;
  std::vector<float> bias_scales;
};

int32_t random_zero_point(std::mt19937& rng, DType dtype, bool symmetric) {
  if (symmetric) return dtype == DType::kUInt8 ? 128 : 0;
  const int32_t mid = dtype == DType::kUInt8 ? 128 : 0;
  const int32_t spread = dtype == DType::kInt4 ? 3 : dtype == DType::kInt16 ? 3000 : 40;
  return random_codes(rng, 1, mid - spread, mid + spread)[0];
}

// Random codes and parameters of an input, a weight with `channels` channels on
// `weight_axis`, and an int32 bias at scale s_x s_w[c].
LinearData random_linear(std::mt19937& rng, const Shape& x_shape, DType x_dtype,
                         const Shape& w_shape, DType w_dtype, int weight_axis, bool symmetric) {
  LinearData d;
  d.x = random_codes(rng, x_dtype, shape_numel(x_shape));
  d.w = random_codes(rng, w_dtype, shape_numel(w_shape));
  const float x_scale = x_dtype == DType::kInt16 ? 2e-4f : 0.03f;
  d.xp = per_tensor(x_dtype, x_scale, random_zero_point(rng, x_dtype, false));
  d.wp.dtype = w_dtype;
  d.wp.axis = weight_axis;
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  const int64_t channels = w_shape[static_cast<size_t>(weight_axis)];
  for (int64_t c = 0; c < channels; ++c) {
    d.wp.scale.push_back(scale(rng));
    d.wp.zero_point.push_back(random_zero_point(rng, w_dtype, symmetric));
    d.bias.push_back(random_codes(rng, 1, -3000, 3000)[0]);
    d.bias_scales.push_back(x_scale * d.wp.scale.back());
  }
  return d;
}

Tensor float_bias(const LinearData& d) {
  Tensor b(DType::kFloat32, {static_cast<int64_t>(d.bias.size())});
  for (size_t c = 0; c < d.bias.size(); ++c) {
    b.data<float>()[c] = static_cast<float>(d.bias[c]) * d.bias_scales[c];
  }
  return b;
}

// The same convolution as a naive 2-D loop over integer codes: exact sums, then requantize64.
std::vector<int32_t> naive_conv2d(const ConvCase& cc, const LinearData& d, const LinearQuant& q,
                                  const Shape& out) {
  const int64_t n_batch = cc.x[0], c_in = cc.x[1], h = cc.x[2], w = cc.x[3];
  const int64_t m_out = cc.w[0], cg = cc.w[1], kh = cc.w[2], kw = cc.w[3];
  const int64_t oh = out[2], ow = out[3], mg = m_out / cc.group;
  auto at = [](const std::vector<int64_t>& v, size_t i, int64_t fallback) {
    return v.empty() ? fallback : v[i];
  };
  std::vector<int32_t> y;
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t m = 0; m < m_out; ++m) {
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          int64_t acc = cc.bias ? d.bias[static_cast<size_t>(m)] : 0;
          for (int64_t c = 0; c < cg; ++c) {
            for (int64_t ky = 0; ky < kh; ++ky) {
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t iy =
                    oy * at(cc.strides, 0, 1) - at(cc.pads, 0, 0) + ky * at(cc.dilations, 0, 1);
                const int64_t ix =
                    ox * at(cc.strides, 1, 1) - at(cc.pads, 1, 0) + kx * at(cc.dilations, 1, 1);
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const int64_t ci = (m / mg) * cg + c;
                const int64_t xv = d.x[static_cast<size_t>(((n * c_in + ci) * h + iy) * w + ix)];
                const int64_t wv = d.w[static_cast<size_t>(((m * cg + c) * kh + ky) * kw + kx)];
                acc += (xv - q.input_zero_point) * (wv - d.wp.zero_point[static_cast<size_t>(m)]);
              }
            }
          }
          const OutputSpec& o = q.output;
          y.push_back(
              requantize64(acc, q.multipliers[static_cast<size_t>(m)], o.zero_point, o.min, o.max));
        }
      }
    }
  }
  return y;
}

void check_conv(const ConvCase& cc, uint32_t seed) {
  std::mt19937 rng(seed);
  const LinearData d =
      random_linear(rng, cc.x, cc.x_dtype, cc.w, cc.w_dtype, 0, cc.symmetric_weights);
  OpSpec spec{"Conv", {dequantized(d.x, cc.x, d.xp), dequantized(d.w, cc.w, d.wp)}};
  if (cc.bias) spec.inputs.push_back(float_bias(d));
  spec.attrs["group"] = attr_int(cc.group);
  if (!cc.strides.empty()) spec.attrs["strides"] = attr_ints(cc.strides);
  if (!cc.pads.empty()) spec.attrs["pads"] = attr_ints(cc.pads);
  if (!cc.dilations.empty()) spec.attrs["dilations"] = attr_ints(cc.dilations);
  const Tensor y_float = run_op(spec)[0];
  const QuantParams yp =
      covering(y_float, cc.x_dtype == DType::kInt16 ? DType::kInt16 : DType::kInt8);

  integer::ConvParams params;
  params.group = cc.group;
  params.strides = cc.strides;
  params.pads = cc.pads;
  params.dilations = cc.dilations;
  params.quant = compiler::make_linear_quant(d.xp, d.wp, yp, cc.clip_lo, cc.clip_hi);
  const Tensor x = codes_tensor(cc.x_dtype, cc.x, d.x);
  const Tensor w = codes_tensor(cc.w_dtype, cc.w, d.w);
  const Tensor b = codes_tensor(DType::kInt32, {cc.w[0]}, d.bias);
  const Tensor y = integer::conv(x, w, cc.bias ? &b : nullptr, params);
  require_within_one_lsb(y, y_float.shape(), quantized(y_float, yp, cc.clip_lo, cc.clip_hi));
  if (cc.x.size() == 4)
    require_codes(y, y_float.shape(), naive_conv2d(cc, d, params.quant, y.shape()));
  // Any thread count gives the same codes.
  kernels::ThreadPool pool(3);
  REQUIRE(codes_of(integer::conv(x, w, cc.bias ? &b : nullptr, params, &pool)) == codes_of(y));
}

}  // namespace

TEST_CASE("accumulator_is_int64 bounds the sum from the shapes and dtypes", "[integer]") {
  REQUIRE_FALSE(integer::accumulator_is_int64(9 * 64, 128, 127, 1 << 20));  // int8 3x3x64
  REQUIRE_FALSE(integer::accumulator_is_int64(65535, 128, 128, 0));         // 2^30 - 2^14
  REQUIRE(integer::accumulator_is_int64(131072, 128, 128, 0));              // 2^31
  REQUIRE(integer::accumulator_is_int64(9, 32768, 32768, 0));               // int16 x int16
  REQUIRE(integer::accumulator_is_int64(1, 1, 1, std::numeric_limits<int32_t>::max()));
  REQUIRE(integer::accumulator_is_int64(int64_t{1} << 40, 1 << 16, 1 << 16, 0));  // overflow
}

TEST_CASE("Integer Conv: int8, groups, depthwise, strides, pads, dilations, fused clamps",
          "[integer]") {
  ConvCase basic;
  basic.x = {2, 3, 7, 6};
  basic.w = {5, 3, 3, 3};
  check_conv(basic, 1);

  ConvCase strided = basic;
  strided.strides = {2, 3};
  strided.pads = {1, 0, 2, 1};
  strided.dilations = {1, 2};
  strided.clip_lo = 0;  // Relu
  check_conv(strided, 2);

  ConvCase grouped;
  grouped.x = {1, 6, 9, 5};
  grouped.w = {4, 3, 2, 3};
  grouped.group = 2;
  grouped.pads = {1, 1, 1, 1};
  grouped.clip_lo = -0.5f;
  grouped.clip_hi = 0.75f;  // Clip
  check_conv(grouped, 3);

  ConvCase depthwise;
  depthwise.x = {1, 8, 11, 13};
  depthwise.w = {8, 1, 3, 3};
  depthwise.group = 8;
  depthwise.strides = {2, 2};
  depthwise.pads = {1, 1, 1, 1};
  depthwise.bias = false;
  check_conv(depthwise, 4);

  ConvCase multiplier_depthwise = depthwise;  // two output channels per input channel
  multiplier_depthwise.w = {16, 1, 5, 5};
  multiplier_depthwise.pads = {2, 2, 2, 2};
  check_conv(multiplier_depthwise, 5);
}

TEST_CASE("Integer Conv: uint8 with general zero points, int4 and int16 weights, 1-D and 3-D",
          "[integer]") {
  ConvCase asymmetric;
  asymmetric.x = {1, 4, 6, 7};
  asymmetric.w = {6, 4, 3, 2};
  asymmetric.x_dtype = DType::kUInt8;
  asymmetric.w_dtype = DType::kUInt8;
  asymmetric.symmetric_weights = false;
  asymmetric.pads = {0, 1, 1, 0};
  check_conv(asymmetric, 6);

  ConvCase int4 = asymmetric;
  int4.x_dtype = DType::kInt8;
  int4.w_dtype = DType::kInt4;
  check_conv(int4, 7);
  int4.symmetric_weights = true;
  check_conv(int4, 8);

  // int16 x int16 over 3x3x16 taps needs the int64 accumulator.
  ConvCase wide;
  wide.x = {1, 16, 5, 5};
  wide.w = {3, 16, 3, 3};
  wide.x_dtype = DType::kInt16;
  wide.w_dtype = DType::kInt16;
  wide.pads = {1, 1, 1, 1};
  check_conv(wide, 9);
  ConvCase int16_int8 = wide;  // int16 activations with int8 weights
  int16_int8.w_dtype = DType::kInt8;
  check_conv(int16_int8, 10);

  ConvCase one_d;
  one_d.x = {2, 3, 17};
  one_d.w = {4, 3, 5};
  one_d.strides = {2};
  one_d.pads = {2, 1};
  one_d.dilations = {2};
  check_conv(one_d, 11);

  ConvCase three_d;
  three_d.x = {1, 2, 4, 5, 3};
  three_d.w = {3, 2, 2, 3, 2};
  three_d.pads = {1, 0, 1, 0, 1, 0};
  check_conv(three_d, 12);
}

TEST_CASE("Integer Conv: random shapes and odd sizes", "[integer]") {
  std::mt19937 rng(99);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 25; ++trial) {
    ConvCase cc;
    cc.group = pick(1, 3);
    const int64_t cg = pick(1, 4), mg = pick(1, 3), k = pick(1, 4);
    cc.x = {pick(1, 2), cc.group * cg, pick(k, 12), pick(k, 12)};
    cc.w = {cc.group * mg, cg, k, pick(1, 3)};
    cc.strides = {pick(1, 3), pick(1, 2)};
    cc.pads = {pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 2)};
    const DType dtypes[] = {DType::kInt8, DType::kUInt8, DType::kInt16};
    cc.x_dtype = dtypes[pick(0, 2)];
    cc.w_dtype = cc.x_dtype == DType::kInt16 ? DType::kInt16 : DType::kInt8;
    cc.symmetric_weights = pick(0, 1) == 1;
    cc.bias = pick(0, 1) == 1;
    INFO("trial " << trial << ": x " << shape_str(cc.x) << " w " << shape_str(cc.w));
    check_conv(cc, 100 + static_cast<uint32_t>(trial));
  }
}

TEST_CASE("Integer Conv reports bad shapes and parameters", "[integer]") {
  const Tensor x = codes_tensor(DType::kInt8, {1, 4, 5, 5}, std::vector<int32_t>(100, 1));
  const Tensor w = codes_tensor(DType::kInt8, {2, 4, 3, 3}, std::vector<int32_t>(72, 1));
  integer::ConvParams p;
  p.quant.multipliers = {make_multiplier(0.01)};
  REQUIRE(integer::conv(x, w, nullptr, p).shape() == Shape{1, 2, 3, 3});

  const Tensor w3 = codes_tensor(DType::kInt8, {2, 4, 3}, std::vector<int32_t>(24, 1));
  REQUIRE_THROWS_WITH(integer::conv(x, w3, nullptr, p),
                      Catch::Contains("integer Conv: weight shape [2,4,3] has rank 3"));
  integer::ConvParams grouped = p;
  grouped.group = 3;
  REQUIRE_THROWS_WITH(integer::conv(x, w, nullptr, grouped), Catch::Contains("group 3"));
  integer::ConvParams three = p;
  three.quant.multipliers.assign(3, make_multiplier(0.01));
  REQUIRE_THROWS_WITH(integer::conv(x, w, nullptr, three),
                      Catch::Contains("multipliers has 3 entries, expected 1 or 2"));
  const Tensor bias = codes_tensor(DType::kInt32, {3}, {1, 2, 3});
  REQUIRE_THROWS_WITH(integer::conv(x, w, &bias, p), Catch::Contains("bias shape [3] is not [2]"));
  const Tensor w4 = codes_tensor(DType::kInt4, {2, 4, 3, 3}, std::vector<int32_t>(72, 9));
  REQUIRE_THROWS_WITH(integer::conv(x, w4, nullptr, p), Catch::Contains("outside [-8, 7]"));
  integer::ConvParams bad_zp = p;
  bad_zp.quant.input_zero_point = 200;
  REQUIRE_THROWS_WITH(integer::conv(x, w, nullptr, bad_zp),
                      Catch::Contains("input zero point 200 is outside the int8 range"));
  integer::ConvParams bad_clamp = p;
  bad_clamp.quant.output.max = 300;
  REQUIRE_THROWS_WITH(integer::conv(x, w, nullptr, bad_clamp), Catch::Contains("output clamp"));
  integer::ConvParams big_kernel = p;
  big_kernel.strides = {1};
  REQUIRE_THROWS_WITH(integer::conv(x, w, nullptr, big_kernel),
                      Catch::Contains("strides has 1 values, expected 2"));
  const Tensor xf(DType::kFloat32, {1, 4, 5, 5});
  REQUIRE_THROWS_WITH(
      integer::conv(xf, w, nullptr, p),
      Catch::Contains("input has dtype float32, expected one of int8, uint8, int16"));
}

namespace {

// ---- MatMul and Gemm

std::vector<int32_t> add_bias_and_quantize(Tensor y, const LinearData& d, const QuantParams& yp) {
  const int64_t cols = static_cast<int64_t>(d.bias.size());
  const Tensor b = float_bias(d);
  for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] += b.data<float>()[i % cols];
  return quantized(y, yp);
}

void check_mat_mul(const Shape& a_shape, const Shape& b_shape, DType a_dtype, DType b_dtype,
                   bool symmetric, uint32_t seed) {
  std::mt19937 rng(seed);
  const int axis = static_cast<int>(b_shape.size()) - 1;
  LinearData d = random_linear(rng, a_shape, a_dtype, b_shape, b_dtype, axis, symmetric);
  if (b_shape.size() == 1) {  // a vector B has one column: per-tensor parameters
    d.wp.axis = -1;
    d.wp.scale.resize(1);
    d.wp.zero_point.resize(1);
    d.bias.resize(1);
    d.bias_scales.resize(1);
  }
  Tensor y_float =
      run_op({"MatMul", {dequantized(d.x, a_shape, d.xp), dequantized(d.w, b_shape, d.wp)}})[0];
  const QuantParams yp = covering(y_float, a_dtype == DType::kInt16 ? DType::kInt16 : DType::kInt8);
  const LinearQuant q = compiler::make_linear_quant(d.xp, d.wp, yp);
  const Tensor bias = codes_tensor(DType::kInt32, {static_cast<int64_t>(d.bias.size())}, d.bias);
  const Tensor y = integer::mat_mul(codes_tensor(a_dtype, a_shape, d.x),
                                    codes_tensor(b_dtype, b_shape, d.w), &bias, q);
  require_within_one_lsb(y, y_float.shape(), add_bias_and_quantize(y_float, d, yp));
}

}  // namespace

TEST_CASE("Integer MatMul: 2-D, batched with broadcasting, 1-D operands, per-column scales",
          "[integer]") {
  check_mat_mul({5, 7}, {7, 3}, DType::kInt8, DType::kInt8, true, 1);
  check_mat_mul({2, 3, 4, 9}, {9, 5}, DType::kUInt8, DType::kUInt8, false, 2);
  check_mat_mul({2, 1, 4, 6}, {3, 6, 5}, DType::kInt8, DType::kInt4, true, 3);
  check_mat_mul({4, 33}, {33, 6}, DType::kInt16, DType::kInt16, true, 4);
  check_mat_mul({7}, {7, 4}, DType::kInt8, DType::kInt8, false, 5);
  check_mat_mul({3, 2, 8}, {8}, DType::kInt8, DType::kInt8, true, 6);

  // Bit-exact against a naive loop on a small case.
  const Tensor a = codes_tensor(DType::kInt8, {2, 3}, {1, -2, 3, 4, 5, -6});
  const Tensor b = codes_tensor(DType::kInt8, {3, 2}, {7, 8, -9, 10, 11, 12});
  LinearQuant q;
  q.input_zero_point = 1;
  q.weight_zero_points = {0, 2};
  q.multipliers = {make_multiplier(0.5), make_multiplier(0.25)};
  q.output = {DType::kInt8, -3, -128, 127};
  const Tensor bias = codes_tensor(DType::kInt32, {2}, {10, -10});
  // (a - 1) = [[0,-3,2],[3,4,-7]]; b col0 = [7,-9,11], col1 - 2 = [6,8,10]
  // row0: 0 + 27 + 22 + 10 = 59 -> 29.5 -> 30 - 3 = 27; -24 + 20 - 10 = -14 -> -3.5 -> -4 - 3 = -7
  // row1: 21 - 36 - 77 + 10 = -82 -> -41 - 3 = -44; 18 + 32 - 70 - 10 = -30 -> -7.5 -> -8 - 3
  require_codes(integer::mat_mul(a, b, &bias, q), {2, 2}, {27, -7, -44, -11});
  REQUIRE_THROWS_WITH(
      integer::mat_mul(a, a, nullptr, q),
      Catch::Contains("integer MatMul: A [2,3] has 3 columns but B [2,3] has 2 rows"));
}

TEST_CASE("Integer Gemm: transposes and C broadcasting", "[integer]") {
  std::mt19937 rng(21);
  for (const bool trans_a : {false, true}) {
    for (const bool trans_b : {false, true}) {
      const int64_t m = 5, k = 11, n = 4;
      const Shape a_shape = trans_a ? Shape{k, m} : Shape{m, k};
      const Shape b_shape = trans_b ? Shape{n, k} : Shape{k, n};
      const LinearData d =
          random_linear(rng, a_shape, DType::kUInt8, b_shape, DType::kInt8, trans_b ? 0 : 1, false);
      for (const Shape& c_shape : {Shape{n}, Shape{m, 1}, Shape{}, Shape{m, n}}) {
        // One weight scale for every column (zero points still per column), so that C's
        // codes at scale s_a s_b fit every column, as a Gemm bias does.
        QuantParams wp = d.wp;
        wp.scale.assign(wp.scale.size(), wp.scale[0]);
        const std::vector<int32_t> c_codes = random_codes(rng, shape_numel(c_shape), -500, 500);
        Tensor c_float(DType::kFloat32, c_shape);
        for (size_t i = 0; i < c_codes.size(); ++i) {
          c_float.data<float>()[i] = static_cast<float>(c_codes[i]) * d.bias_scales[0];
        }
        OpSpec spec{"Gemm",
                    {dequantized(d.x, a_shape, d.xp), dequantized(d.w, b_shape, wp), c_float}};
        spec.attrs["transA"] = attr_int(trans_a);
        spec.attrs["transB"] = attr_int(trans_b);
        const Tensor y_float = run_op(spec)[0];
        const QuantParams yp = covering(y_float, DType::kInt8);
        integer::GemmParams params;
        params.trans_a = trans_a;
        params.trans_b = trans_b;
        params.quant = compiler::make_linear_quant(d.xp, wp, yp);
        const Tensor c = codes_tensor(DType::kInt32, c_shape, c_codes);
        const Tensor y = integer::gemm(codes_tensor(DType::kUInt8, a_shape, d.x),
                                       codes_tensor(DType::kInt8, b_shape, d.w), &c, params);
        INFO("transA " << trans_a << " transB " << trans_b << " C " << shape_str(c_shape));
        require_within_one_lsb(y, {m, n}, quantized(y_float, yp));
      }
    }
  }
  const Tensor a = codes_tensor(DType::kInt8, {2, 3}, std::vector<int32_t>(6, 1));
  integer::GemmParams p;
  p.quant.multipliers = {make_multiplier(0.1)};
  const Tensor c = codes_tensor(DType::kInt32, {3}, {1, 2, 3});
  const Tensor b = codes_tensor(DType::kInt8, {3, 2}, std::vector<int32_t>(6, 1));
  REQUIRE_THROWS_WITH(integer::gemm(a, b, &c, p),
                      Catch::Contains("C [3] does not broadcast to [M, N] = [2,2]"));
}

namespace {

// ---- Elementwise

template <typename Kernel, typename MakeParams>
void check_binary(const char* op, const Shape& a_shape, DType a_dtype, const Shape& b_shape,
                  DType b_dtype, DType out_dtype, float clip_lo, uint32_t seed, Kernel kernel,
                  MakeParams make_params) {
  std::mt19937 rng(seed);
  const std::vector<int32_t> a = random_codes(rng, a_dtype, shape_numel(a_shape));
  const std::vector<int32_t> b = random_codes(rng, b_dtype, shape_numel(b_shape));
  const QuantParams ap = per_tensor(a_dtype, a_dtype == DType::kInt16 ? 1e-4f : 0.02f,
                                    random_zero_point(rng, a_dtype, false));
  const QuantParams bp = per_tensor(b_dtype, b_dtype == DType::kInt16 ? 3e-4f : 0.037f,
                                    random_zero_point(rng, b_dtype, false));
  const Tensor y_float =
      run_op({op, {dequantized(a, a_shape, ap), dequantized(b, b_shape, bp)}})[0];
  const QuantParams yp = covering(y_float, out_dtype);
  const auto params = make_params(ap, bp, yp, clip_lo, integer::kNoClip);
  const Tensor y =
      kernel(codes_tensor(a_dtype, a_shape, a), codes_tensor(b_dtype, b_shape, b), params);
  require_within_one_lsb(y, y_float.shape(), quantized(y_float, yp, clip_lo));
}

}  // namespace

TEST_CASE("Integer Add: rescaled inputs, broadcasting, mixed dtypes, fused Relu", "[integer]") {
  const auto add = [](const Tensor& a, const Tensor& b, const integer::AddParams& p) {
    return integer::add(a, b, p);
  };
  const auto params = [](const QuantParams& a, const QuantParams& b, const QuantParams& y, float lo,
                         float hi) { return compiler::make_add_params(a, b, y, lo, hi); };
  check_binary("Add", {2, 3, 4, 5}, DType::kInt8, {2, 3, 4, 5}, DType::kInt8, DType::kInt8,
               -INFINITY, 1, add, params);
  check_binary("Add", {2, 3, 4, 5}, DType::kUInt8, {3, 1, 1}, DType::kInt8, DType::kUInt8, 0, 2,
               add, params);
  check_binary("Add", {1, 7}, DType::kInt16, {5, 1}, DType::kInt16, DType::kInt16, -INFINITY, 3,
               add, params);
  check_binary("Add", {4, 9}, DType::kInt16, {9}, DType::kUInt8, DType::kInt8, -INFINITY, 4, add,
               params);
  check_binary("Add", {}, DType::kInt8, {3, 2}, DType::kInt8, DType::kInt8, -INFINITY, 5, add,
               params);
  // 0.5 LSB + 2^-20: exact equality with the correctly rounded real sum on a dense grid.
  const QuantParams ap = per_tensor(DType::kInt8, 0.1f, 3),
                    bp = per_tensor(DType::kInt8, 0.07f, -5);
  const QuantParams yp = per_tensor(DType::kInt8, 0.13f, 1);
  std::vector<int32_t> av, bv;
  for (int32_t i = -128; i <= 127; ++i) {
    for (int32_t j = -128; j <= 127; ++j) {
      av.push_back(i);
      bv.push_back(j);
    }
  }
  const Tensor y =
      integer::add(codes_tensor(DType::kInt8, {65536}, av), codes_tensor(DType::kInt8, {65536}, bv),
                   compiler::make_add_params(ap, bp, yp));
  const std::vector<int32_t> codes = codes_of(y);
  for (size_t i = 0; i < codes.size(); ++i) {
    const double real = (0.1f * (av[i] - 3) + static_cast<double>(0.07f) * (bv[i] + 5)) / 0.13f;
    const double expected = std::clamp(std::round(real) + 1, -128.0, 127.0);   // ties away
    if (std::fabs(std::fabs(real - std::trunc(real)) - 0.5) < 1e-4) continue;  // near a tie
    if (codes[i] != expected) FAIL("a " << av[i] << " b " << bv[i] << ": " << codes[i]);
  }
  REQUIRE_THROWS_WITH(integer::add(codes_tensor(DType::kInt8, {2}, {1, 2}),
                                   codes_tensor(DType::kInt8, {3}, {1, 2, 3}),
                                   compiler::make_add_params(ap, bp, yp)),
                      Catch::Contains("integer Add: shapes [2] and [3] do not broadcast"));
}

TEST_CASE("Integer Mul: one multiplier, int64 products for int16", "[integer]") {
  const auto mul = [](const Tensor& a, const Tensor& b, const integer::MulParams& p) {
    return integer::mul(a, b, p);
  };
  const auto params = [](const QuantParams& a, const QuantParams& b, const QuantParams& y, float lo,
                         float hi) { return compiler::make_mul_params(a, b, y, lo, hi); };
  check_binary("Mul", {2, 3, 4}, DType::kInt8, {2, 3, 4}, DType::kInt8, DType::kInt8, -INFINITY, 1,
               mul, params);
  check_binary("Mul", {2, 3, 4}, DType::kUInt8, {4}, DType::kUInt8, DType::kUInt8, 0, 2, mul,
               params);
  check_binary("Mul", {6, 5}, DType::kInt16, {6, 1}, DType::kInt16, DType::kInt16, -INFINITY, 3,
               mul, params);
  // Exact: (a - za)(b - zb) M rounded half away from zero.
  integer::MulParams p;
  p.a_zero_point = 2;
  p.b_zero_point = -1;
  p.multiplier = make_multiplier(0.25);
  p.output = {DType::kInt8, 0, -128, 127};
  // (3-2)(1+1)/4 = 0.5 -> 1; (0-2)(0+1)/4 = -0.5 -> -1; (100-2)(100+1)/4 -> 127 (saturated)
  require_codes(integer::mul(codes_tensor(DType::kInt8, {3}, {3, 0, 100}),
                             codes_tensor(DType::kInt8, {3}, {1, 0, 100}), p),
                {3}, {1, -1, 127});
}

TEST_CASE("Integer Div: one exact rounding, broadcasting, zero divisors saturate", "[integer]") {
  std::mt19937 rng(41);
  struct Case {
    Shape a, b;
    DType dtype;
  };
  for (const Case& c : {Case{{2, 3, 8}, {2, 3, 8}, DType::kInt8}, Case{{2, 3, 8}, {3, 1}, DType::kUInt8},
                        Case{{4, 6}, {6}, DType::kInt16}}) {
    const QuantParams ap = per_tensor(c.dtype, c.dtype == DType::kInt16 ? 1e-4f : 0.02f,
                                      random_zero_point(rng, c.dtype, false));
    const QuantParams bp = per_tensor(c.dtype, c.dtype == DType::kInt16 ? 3e-4f : 0.037f,
                                      random_zero_point(rng, c.dtype, false));
    const std::vector<int32_t> a = random_codes(rng, c.dtype, shape_numel(c.a));
    std::vector<int32_t> b = random_codes(rng, c.dtype, shape_numel(c.b));
    for (int32_t& v : b) {  // zero divisors: below
      if (v == bp.zero_point[0]) v += v == bp.qmax() ? -1 : 1;
    }
    const Tensor y_float = run_op({"Div", {dequantized(a, c.a, ap), dequantized(b, c.b, bp)}})[0];
    const QuantParams yp = covering(y_float, c.dtype);
    INFO("dtype " << dtype_name(c.dtype));
    require_within_one_lsb(
        integer::div(codes_tensor(c.dtype, c.a, a), codes_tensor(c.dtype, c.b, b),
                     compiler::make_div_params(ap, bp, yp)),
        y_float.shape(), quantized(y_float, yp));
  }
  // Exact: n / d × M rounded half away from zero, once; d = 0 saturates by the sign of n.
  integer::MulParams p;
  p.a_zero_point = 0;
  p.b_zero_point = 0;
  p.multiplier = make_multiplier(1.0);
  p.output = {DType::kInt8, 3, -128, 127};
  // 1/2 = 0.5 -> 1; -1/2 -> -1; 3/2 = 1.5 -> 2; 7/-3 = -2.33 -> -2; then + 3; 5/0, -5/0, 0/0.
  require_codes(integer::div(codes_tensor(DType::kInt8, {7}, {1, -1, 3, 7, 5, -5, 0}),
                             codes_tensor(DType::kInt8, {7}, {2, 2, 2, -3, 0, 0, 0}), p),
                {7}, {4, 2, 5, 1, 127, -128, 3});
  p.multiplier = make_multiplier(1e-12);  // rounds to 0 however large n / d is
  require_codes(integer::div(codes_tensor(DType::kInt8, {1}, {127}), codes_tensor(DType::kInt8, {1}, {1}), p),
                {1}, {3});
}

TEST_CASE("Integer Concat and Rescale: per-input rescaling, identity for equal parameters",
          "[integer]") {
  std::mt19937 rng(31);
  const Shape s0 = {2, 3, 4}, s1 = {2, 5, 4}, s2 = {2, 1, 4};
  const std::vector<int32_t> c0 = random_codes(rng, DType::kInt8, 24);
  const std::vector<int32_t> c1 = random_codes(rng, DType::kUInt8, 40);
  const std::vector<int32_t> c2 = random_codes(rng, DType::kInt8, 8);
  const QuantParams p0 = per_tensor(DType::kInt8, 0.05f, -3);
  const QuantParams p1 = per_tensor(DType::kUInt8, 0.011f, 120);
  const QuantParams p2 = per_tensor(DType::kInt8, 0.2f, 0);
  const Tensor y_float =
      run_op({"Concat",
              {dequantized(c0, s0, p0), dequantized(c1, s1, p1), dequantized(c2, s2, p2)},
              {{"axis", attr_int(1)}}})[0];
  const QuantParams yp = covering(y_float, DType::kInt8);
  integer::ConcatParams params;
  params.axis = 1;
  params.inputs = {compiler::make_rescale(p0, yp), compiler::make_rescale(p1, yp),
                   compiler::make_rescale(p2, yp)};
  params.output = compiler::make_output_spec(yp);
  const Tensor t0 = codes_tensor(DType::kInt8, s0, c0), t1 = codes_tensor(DType::kUInt8, s1, c1),
               t2 = codes_tensor(DType::kInt8, s2, c2);
  require_within_one_lsb(integer::concat({&t0, &t1, &t2}, params), {2, 9, 4},
                         quantized(y_float, yp));

  // Equal parameters: the codes are copied unchanged.
  integer::ConcatParams same;
  same.axis = 2;
  same.inputs = {compiler::make_rescale(p0, p0), compiler::make_rescale(p0, p0)};
  same.output = compiler::make_output_spec(p0);
  const Tensor y = integer::concat({&t0, &t0}, same);
  REQUIRE(y.shape() == Shape{2, 3, 8});
  const std::vector<int32_t> codes = codes_of(y);
  for (int64_t i = 0; i < 48; ++i) REQUIRE(codes[i] == c0[(i / 8) * 4 + i % 4]);
  REQUIRE_THROWS_WITH(integer::concat({&t0, &t2}, same),
                      Catch::Contains("integer Concat: input 1 has shape [2,1,4], which differs "
                                      "from input 0 [2,3,4] off axis 2"));

  // Rescale int8 -> int16: finer grid, within 1 LSB of the real value.
  const QuantParams wide = per_tensor(DType::kInt16, 0.0004f, 7);
  const Tensor r =
      integer::rescale(t0, compiler::make_rescale(p0, wide), compiler::make_output_spec(wide));
  require_within_one_lsb(r, s0, quantized(dequantized(c0, s0, p0), wide), 1.0);
}

TEST_CASE("Integer MaxPool equals fake quantization exactly", "[integer]") {
  std::mt19937 rng(41);
  for (const bool ceil_mode : {false, true}) {
    const Shape shape = {2, 3, 9, 8};
    const std::vector<int32_t> codes = random_codes(rng, DType::kUInt8, shape_numel(shape));
    const QuantParams p = per_tensor(DType::kUInt8, 0.04f, 100);
    OpSpec spec{"MaxPool", {dequantized(codes, shape, p)}};
    spec.attrs["kernel_shape"] = attr_ints({3, 2});
    spec.attrs["strides"] = attr_ints({2, 2});
    spec.attrs["pads"] = attr_ints({1, 0, 1, 1});
    spec.attrs["dilations"] = attr_ints({1, 2});
    spec.attrs["ceil_mode"] = attr_int(ceil_mode);
    spec.opset = 12;
    const Tensor y_float = run_op(spec)[0];
    integer::PoolWindow window{{3, 2}, {2, 2}, {1, 2}, {1, 0, 1, 1}, ceil_mode};
    require_codes(integer::max_pool(codes_tensor(DType::kUInt8, shape, codes), window),
                  y_float.shape(), quantized(y_float, p));
  }
}

TEST_CASE("Integer AveragePool and GlobalAveragePool: integer sums divided by the count",
          "[integer]") {
  std::mt19937 rng(43);
  for (const bool include_pad : {false, true}) {
    for (const bool ceil_mode : {false, true}) {
      const Shape shape = {1, 4, 7, 10};
      const std::vector<int32_t> codes = random_codes(rng, DType::kInt8, shape_numel(shape));
      const QuantParams p = per_tensor(DType::kInt8, 0.05f, -9);
      OpSpec spec{"AveragePool", {dequantized(codes, shape, p)}};
      spec.attrs["kernel_shape"] = attr_ints({3, 3});
      spec.attrs["strides"] = attr_ints({2, 3});
      spec.attrs["pads"] = attr_ints({1, 1, 1, 2});
      spec.attrs["ceil_mode"] = attr_int(ceil_mode);
      spec.attrs["count_include_pad"] = attr_int(include_pad);
      const Tensor y_float = run_op(spec)[0];
      const QuantParams yp = covering(y_float, DType::kInt8);
      integer::AveragePoolParams params = compiler::make_average_pool_params(p, yp);
      params.window = {{3, 3}, {2, 3}, {}, {1, 1, 1, 2}, ceil_mode};
      params.count_include_pad = include_pad;
      INFO("count_include_pad " << include_pad << " ceil_mode " << ceil_mode);
      require_within_one_lsb(
          integer::average_pool(codes_tensor(DType::kInt8, shape, codes), params), y_float.shape(),
          quantized(y_float, yp));
    }
  }
  const Shape shape = {2, 5, 13, 11};
  const std::vector<int32_t> codes = random_codes(rng, DType::kUInt8, shape_numel(shape));
  const QuantParams p = per_tensor(DType::kUInt8, 0.02f, 131);
  const Tensor y_float = run_op({"GlobalAveragePool", {dequantized(codes, shape, p)}})[0];
  const QuantParams yp = per_tensor(DType::kUInt8, 0.0003f, 128);  // a fine output grid
  require_within_one_lsb(integer::global_average_pool(codes_tensor(DType::kUInt8, shape, codes),
                                                      compiler::make_average_pool_params(p, yp)),
                         y_float.shape(), quantized(y_float, yp), 0.9);
}

TEST_CASE("Integer data movement copies codes exactly", "[integer]") {
  std::mt19937 rng(47);
  const Shape shape = {2, 3, 4, 5};
  const std::vector<int32_t> codes = random_codes(rng, DType::kInt8, shape_numel(shape));
  const QuantParams p = per_tensor(DType::kInt8, 0.1f, 7);
  const Tensor x = codes_tensor(DType::kInt8, shape, codes);
  const Tensor xf = dequantized(codes, shape, p);

  const Tensor r = integer::reshape(x, {6, 20});
  require_codes(r, {6, 20}, codes);
  REQUIRE_THROWS_WITH(integer::reshape(x, {7, 20}), Catch::Contains("cannot reshape"));

  const Tensor t_float = run_op({"Transpose", {xf}, {{"perm", attr_ints({2, 0, 3, 1})}}})[0];
  require_codes(integer::transpose(x, {2, 0, 3, 1}), t_float.shape(), quantized(t_float, p));
  REQUIRE_THROWS_WITH(integer::transpose(x, {0, 0, 1, 2}), Catch::Contains("not a permutation"));

  const std::vector<int64_t> starts = {-1, 1, 10}, ends = {-100, 3, -10}, axes = {3, 1, 2},
                             steps = {-2, 1, -1};
  OpSpec slice_spec{
      "Slice",
      {xf, Tensor::from_vector<int64_t>({3}, starts), Tensor::from_vector<int64_t>({3}, ends),
       Tensor::from_vector<int64_t>({3}, axes), Tensor::from_vector<int64_t>({3}, steps)}};
  const Tensor s_float = run_op(slice_spec)[0];
  require_codes(integer::slice(x, {starts, ends, axes, steps}), s_float.shape(),
                quantized(s_float, p));

  for (const char* mode : {"constant", "edge", "reflect"}) {
    const std::vector<int64_t> pads = {0, 1, 2, -1, 1, 0, 3, 2};
    OpSpec pad_spec{"Pad", {xf, Tensor::from_vector<int64_t>({8}, pads)}};
    pad_spec.attrs["mode"] = attr_string(mode);
    const Tensor p_float = run_op(pad_spec)[0];
    integer::PadParams params;
    params.pads = pads;
    params.mode = std::string(mode) == "constant" ? integer::PadMode::kConstant
                  : std::string(mode) == "edge"   ? integer::PadMode::kEdge
                                                  : integer::PadMode::kReflect;
    params.value = p.zero_point[0];  // real 0
    INFO("mode " << mode);
    require_codes(integer::pad(x, params), p_float.shape(), quantized(p_float, p));
  }
}

TEST_CASE("Integer nearest Resize gathers through per-axis source indices", "[integer]") {
  std::mt19937 rng(53);
  const Shape shape = {1, 2, 3, 5};
  const std::vector<int32_t> codes = random_codes(rng, DType::kUInt8, shape_numel(shape));
  const QuantParams p = per_tensor(DType::kUInt8, 0.1f, 128);
  const Tensor x = codes_tensor(DType::kUInt8, shape, codes);
  const std::vector<int64_t> sizes = {1, 2, 7, 8};
  // asymmetric + floor: src = floor(dst × in / out); half_pixel + round_prefer_floor:
  // src = round((dst + 0.5) × in / out − 0.5) with halves down, clamped.
  for (const bool half_pixel : {false, true}) {
    std::vector<std::vector<int64_t>> source(4);
    for (size_t d = 0; d < 4; ++d) {
      const double scale = static_cast<double>(sizes[d]) / static_cast<double>(shape[d]);
      for (int64_t j = 0; j < sizes[d]; ++j) {
        const double src = half_pixel ? (j + 0.5) / scale - 0.5 : j / scale;
        int64_t index = half_pixel ? static_cast<int64_t>(std::ceil(src - 0.5))
                                   : static_cast<int64_t>(std::floor(src));
        source[d].push_back(std::clamp<int64_t>(index, 0, shape[d] - 1));
      }
    }
    OpSpec spec{"Resize",
                {dequantized(codes, shape, p), Tensor(), Tensor(),
                 Tensor::from_vector<int64_t>({4}, sizes)}};
    spec.attrs["mode"] = attr_string("nearest");
    spec.attrs["coordinate_transformation_mode"] =
        attr_string(half_pixel ? "half_pixel" : "asymmetric");
    spec.attrs["nearest_mode"] = attr_string(half_pixel ? "round_prefer_floor" : "floor");
    spec.opset = 13;
    const Tensor y_float = run_op(spec)[0];
    require_codes(integer::resize_nearest(x, source), y_float.shape(), quantized(y_float, p));
  }
  REQUIRE_THROWS_WITH(integer::resize_nearest(x, {{0}, {0}, {0}, {5}}),
                      Catch::Contains("source index 5 is outside axis 3"));
}

TEST_CASE("Integer lookup tables equal fake quantization of the float kernels", "[integer]") {
  struct TableOp {
    const char* op;
    std::function<float(float)> f;
    std::map<std::string, Attribute> attrs;
    float out_scale;
    int32_t out_zero_point;
  };
  const std::vector<TableOp> ops = {
      {"Sigmoid", compiler::sigmoid_function, {}, 1.0f / 256, -128},
      {"Tanh", compiler::tanh_function, {}, 1.0f / 128, 0},
      {"Exp", compiler::exp_function, {}, 0.2f, -128},
      {"HardSigmoid",
       [](float v) { return compiler::hard_sigmoid_function(v, 0.3f, 0.4f); },
       {{"alpha", attr_float(0.3f)}, {"beta", attr_float(0.4f)}},
       1.0f / 255,
       -128},
      {"HardSwish", compiler::hard_swish_function, {}, 0.03f, -100},
  };
  std::vector<int32_t> all_int8, all_uint8;
  for (int32_t v = 0; v < 256; ++v) {
    all_int8.push_back(v - 128);
    all_uint8.push_back(v);
  }
  for (const TableOp& t : ops) {
    for (const DType in_dtype : {DType::kInt8, DType::kUInt8}) {
      const QuantParams in = per_tensor(in_dtype, 0.045f, in_dtype == DType::kInt8 ? 5 : 120);
      const QuantParams out = per_tensor(DType::kInt8, t.out_scale, t.out_zero_point);
      const std::vector<int32_t>& codes = in_dtype == DType::kInt8 ? all_int8 : all_uint8;
      OpSpec spec{t.op, {dequantized(codes, {256}, in)}, t.attrs};
      spec.opset = 14;
      const Tensor y_float = run_op(spec)[0];
      const integer::LookupTable table = compiler::make_lookup_table(in, out, t.f);
      INFO(t.op << " on " << dtype_name(in_dtype));
      require_codes(integer::lookup(codes_tensor(in_dtype, {256}, codes), table), {256},
                    quantized(y_float, out));
    }
  }
  const integer::LookupTable table =
      compiler::make_lookup_table(per_tensor(DType::kInt8, 0.1f, 0),
                                 per_tensor(DType::kInt16, 1e-4f, 0), compiler::tanh_function);
  REQUIRE(table.output_dtype == DType::kInt16);
  const Tensor tanh_float =
      run_op({"Tanh", {dequantized(all_int8, {256}, per_tensor(DType::kInt8, 0.1f, 0))}})[0];
  require_codes(integer::lookup(codes_tensor(DType::kInt8, {256}, all_int8), table), {256},
                quantized(tanh_float, per_tensor(DType::kInt16, 1e-4f, 0)));
  REQUIRE_THROWS_WITH(
      integer::lookup(codes_tensor(DType::kUInt8, {1}, {0}), table),
      Catch::Contains("integer LookupTable: input has dtype uint8, expected one of int8"));
  // int16 inputs: one exact entry per code (65536).
  const QuantParams in16 = per_tensor(DType::kInt16, 1e-3f, 0);
  const QuantParams out16 = per_tensor(DType::kInt16, 1.0f / 32767, 0);
  const integer::LookupTable wide = compiler::make_lookup_table(in16, out16, compiler::tanh_function);
  REQUIRE(wide.values.size() == 65536);
  std::vector<int32_t> all_int16;
  for (int32_t v = -32768; v <= 32767; v += 7) all_int16.push_back(v);
  const Shape shape16 = {static_cast<int64_t>(all_int16.size())};
  const Tensor tanh16 = run_op({"Tanh", {dequantized(all_int16, shape16, in16)}})[0];
  require_codes(integer::lookup(codes_tensor(DType::kInt16, shape16, all_int16), wide), shape16,
                quantized(tanh16, out16));
  REQUIRE_THROWS_WITH(
      compiler::make_lookup_table(per_tensor(DType::kInt32, 0.1f, 0),
                                 per_tensor(DType::kInt8, 0.1f, 0), compiler::tanh_function),
      Catch::Contains("input dtype int32 is not int8, uint8 or int16"));
}

TEST_CASE("Integer Softmax: exp table, integer sum, reciprocal multiplier", "[integer]") {
  std::mt19937 rng(59);
  struct SoftmaxCase {
    Shape shape;
    int64_t axis;
    int64_t opset;
    DType in, out;
    float in_scale;
  };
  for (const SoftmaxCase& c : {SoftmaxCase{{3, 10}, 1, 13, DType::kInt8, DType::kUInt8, 0.1f},
                               SoftmaxCase{{2, 5, 3}, 1, 13, DType::kUInt8, DType::kInt8, 0.05f},
                               SoftmaxCase{{2, 4, 3}, 1, 11, DType::kInt8, DType::kInt16, 0.2f},
                               SoftmaxCase{{1, 300}, 1, 13, DType::kInt8, DType::kInt16, 0.03f},
                               SoftmaxCase{{4, 6625}, 1, 13, DType::kInt8, DType::kUInt8, 0.15f},
                               SoftmaxCase{{3, 40}, 1, 13, DType::kInt16, DType::kInt16, 4e-4f},
                               SoftmaxCase{{2, 500}, 1, 13, DType::kInt16, DType::kUInt8, 1e-3f}}) {
    const std::vector<int32_t> codes = random_codes(rng, c.in, shape_numel(c.shape));
    const QuantParams in = per_tensor(c.in, c.in_scale, c.in == DType::kUInt8 ? 128 : 0);
    const QuantParams out = c.out == DType::kInt16   ? per_tensor(c.out, 1.0f / 32767, 0)
                            : c.out == DType::kUInt8 ? per_tensor(c.out, 1.0f / 255, 0)
                                                     : per_tensor(c.out, 1.0f / 255, -128);
    OpSpec spec{"Softmax", {dequantized(codes, c.shape, in)}, {{"axis", attr_int(c.axis)}}};
    spec.opset = c.opset;
    const Tensor y_float = run_op(spec)[0];
    const integer::SoftmaxParams params =
        compiler::make_softmax_params(in, out, c.axis, c.opset < 13);
    INFO("shape " << shape_str(c.shape) << " opset " << c.opset);
    require_within_one_lsb(integer::softmax(codes_tensor(c.in, c.shape, codes), params), c.shape,
                           quantized(y_float, out), 0.99);
  }
  REQUIRE_THROWS_WITH(
      integer::softmax(codes_tensor(DType::kInt8, {2}, {0, 1}),
                       compiler::make_softmax_params(per_tensor(DType::kInt8, 0.1f, 0),
                                                    per_tensor(DType::kUInt8, 1.0f / 255, 0), 1)),
      Catch::Contains("axis 1 is out of range for shape [2]"));
}

TEST_CASE("Integer ConvTranspose: the fast paths equal the gather reference (groups, dilations, negative pads, 1-D)",
          "[integer]") {
  std::mt19937 rng(71);
  struct Case {
    Shape x, w;
    std::vector<int64_t> strides, dilations, pads, output;
    int64_t group;
  };
  const Case cases[] = {
      {{1, 4, 5, 5}, {4, 3, 3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {10, 10}, 1},     // output_padding 1
      {{2, 4, 3, 4}, {4, 2, 2, 3}, {2, 1}, {1, 2}, {0, 1, 0, 1}, {6, 7}, 2},      // groups, dilation
      {{1, 3, 4, 4}, {3, 2, 4, 4}, {2, 2}, {1, 1}, {-1, -1, -1, -1}, {12, 12}, 1},  // negative pads
      {{1, 2, 7}, {2, 5, 3}, {3}, {1}, {1, 2}, {20}, 1},                           // 1-D
  };
  kernels::ThreadPool pool(3);
  for (const Case& c : cases) {
    const auto xc = random_codes(rng, DType::kInt8, shape_numel(c.x));
    const auto wc = random_codes(rng, DType::kInt8, shape_numel(c.w));
    const QuantParams xq = per_tensor(DType::kInt8, 0.05f, 3);
    const QuantParams yq = per_tensor(DType::kInt8, 0.2f, -5);
    QuantParams wq;
    wq.dtype = DType::kInt8;
    wq.axis = 1;
    for (int64_t j = 0; j < c.w[1]; ++j) {
      wq.scale.push_back(0.01f * static_cast<float>(j + 1));
      wq.zero_point.push_back(0);
    }
    const int64_t out_channels = c.w[1] * c.group;
    Tensor bias(DType::kInt32, {out_channels});
    for (int64_t m = 0; m < out_channels; ++m) bias.data<int32_t>()[m] = static_cast<int32_t>(m * 37 - 50);
    integer::ConvTransposeParams params{c.strides, c.dilations, c.pads, c.output, c.group,
                                        compiler::make_linear_quant(xq, wq, yq, 0.0f)};
    const Tensor x = codes_tensor(DType::kInt8, c.x, xc);
    const Tensor w = codes_tensor(DType::kInt8, c.w, wc);
    INFO("input " << shape_str(c.x) << " weight " << shape_str(c.w));
    const Tensor want = integer::conv_transpose_reference(x, w, &bias, params);
    const Tensor got = integer::conv_transpose(x, w, &bias, params, &pool);
    REQUIRE(got.shape() == want.shape());
    REQUIRE(got.to_int64s() == want.to_int64s());
    // The fused Relu clamp: no code below the output's zero point.
    for (int64_t v : got.to_int64s()) REQUIRE(v >= yq.zero_point[0]);
  }
}
