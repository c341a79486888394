// Optimized integer Conv / MatMul / Gemm (lib/kernels/integer/optimized) against the
// reference loops, bit for bit, with every kernel set the CPU runs (portable, AVX-512
// VNNI): random shapes with odd sizes, groups, strides, dilations, pads, batches, int8 /
// uint8 data, int8 / uint8 / int4 weights, per-tensor and per-channel zero points and
// multipliers, every output dtype and fused clamps; 1 and 3 threads.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>

#include "kernels/integer/integer_kernels.hpp"
#include "integer_test_util.hpp"
#include "kernels/integer/optimized/linear.hpp"
#include "kernels/thread_pool.hpp"

using namespace lq;
using integer::LinearQuant;
using integer::optimized::Int8Kernels;

namespace {

using test::code_max;
using test::code_min;
using test::pick;
using test::random_bias;
using test::random_codes;
using test::same_codes;
using test::set_code;

Tensor int32_tensor(const Shape& shape, const std::vector<int32_t>& values) {
  Tensor t(DType::kInt32, shape);
  std::memcpy(t.raw(), values.data(), values.size() * sizeof(int32_t));
  return t;
}

// Multipliers that put typical sums of `terms` products near the output range, with a
// few extremes: power-of-two, the largest (shift 31, exponent 0) and ones below 2^-32.
Multiplier random_multiplier(std::mt19937& rng, int64_t terms) {
  switch (pick(rng, 0, 19)) {
    case 0:
      return {int32_t{1} << 30, pick(rng, -20, 1)};  // a pure rounding shift
    case 1:
      return {pick(rng, 1 << 30, 0x7FFFFFFF), 31};  // exponent 0: saturates
    case 2:
      return {pick(rng, 1 << 30, 0x7FFFFFFF), pick(rng, -62, -33)};  // exponent > 62: zero
    default: {
      const double typical = 150.0 * std::sqrt(static_cast<double>(std::max<int64_t>(terms, 1)));
      const double real =
          std::exp2(std::uniform_real_distribution<double>(-3.0, 3.0)(rng)) * 30.0 / typical;
      return make_multiplier(real);
    }
  }
}

// Per-tensor or per-channel quantization for `channels` output channels.
LinearQuant random_quant(std::mt19937& rng, DType data, DType weight, int64_t channels,
                         int64_t terms) {
  LinearQuant q;
  q.input_zero_point = pick(rng, 0, 3) == 0 ? (data == DType::kUInt8 ? 128 : 0)
                                            : pick(rng, code_min(data), code_max(data));
  const bool per_channel = pick(rng, 0, 2) != 0;
  const int64_t count = per_channel ? channels : 1;
  const int zp_kind = pick(rng, 0, 2);  // symmetric, mildly asymmetric, anywhere
  q.weight_zero_points.clear();
  for (int64_t c = 0; c < count; ++c) {
    const int32_t mid = weight == DType::kUInt8 ? 128 : 0;
    const int32_t zp = zp_kind == 0   ? mid
                       : zp_kind == 1 ? mid + pick(rng, -3, 3)
                                      : pick(rng, code_min(weight), code_max(weight));
    q.weight_zero_points.push_back(zp);
    q.multipliers.push_back(random_multiplier(rng, terms));
  }
  const DType outputs[] = {DType::kInt8, DType::kUInt8, DType::kInt16};
  q.output.dtype = outputs[pick(rng, 0, 2)];
  q.output.zero_point = pick(rng, dtype_qmin(q.output.dtype) / 2, dtype_qmax(q.output.dtype) / 2);
  q.output.min = dtype_qmin(q.output.dtype);
  q.output.max = dtype_qmax(q.output.dtype);
  if (pick(rng, 0, 2) == 0) {  // a fused Relu / Clip
    q.output.min = q.output.zero_point;
    if (pick(rng, 0, 1) == 0) q.output.max = std::min(q.output.max, q.output.zero_point + 100);
  }
  return q;
}

struct ConvCase {
  Shape x, w;
  integer::ConvParams params;
  DType x_dtype = DType::kInt8, w_dtype = DType::kInt8;
  bool bias = true;
};

std::string describe(const ConvCase& cc) {
  auto list = [](const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t e : v) s += (s.empty() ? "" : ",") + std::to_string(e);
    return "[" + s + "]";
  };
  return "x " + shape_str(cc.x) + " " + dtype_name(cc.x_dtype) + ", w " + shape_str(cc.w) + " " +
         dtype_name(cc.w_dtype) + ", group " + std::to_string(cc.params.group) + ", strides " +
         list(cc.params.strides) + ", pads " + list(cc.params.pads) + ", dilations " +
         list(cc.params.dilations) + ", output " + dtype_name(cc.params.quant.output.dtype) +
         ", bias " + std::to_string(cc.bias);
}

// The reference, the public entry point (1 and 3 threads) and every kernel set agree.
void check_conv(const ConvCase& cc, std::mt19937& rng) {
  INFO(describe(cc));
  const Tensor x = random_codes(rng, cc.x_dtype, cc.x);
  const Tensor w = random_codes(rng, cc.w_dtype, cc.w);
  const Tensor b = int32_tensor({cc.w[0]}, random_bias(rng, cc.w[0]));
  const Tensor* bias = cc.bias ? &b : nullptr;
  const Tensor want = integer::conv_reference(x, w, bias, cc.params);
  kernels::ThreadPool pool(3);
  REQUIRE(same_codes(integer::conv(x, w, bias, cc.params), want));
  REQUIRE(same_codes(integer::conv(x, w, bias, cc.params, &pool), want));
  for (const Int8Kernels* kernels : integer::optimized::available_int8_kernels()) {
    INFO("kernels " << kernels->name);
    for (kernels::ThreadPool* p : {static_cast<kernels::ThreadPool*>(nullptr), &pool}) {
      const std::optional<Tensor> got =
          integer::optimized::conv(x, w, bias, cc.params, p, *kernels);
      REQUIRE(got.has_value());
      REQUIRE(same_codes(*got, want));
    }
  }
}

ConvCase random_conv(std::mt19937& rng, int rank) {
  ConvCase cc;
  const DType data[] = {DType::kInt8, DType::kUInt8};
  const DType weights[] = {DType::kInt8, DType::kUInt8, DType::kInt4};
  cc.x_dtype = data[pick(rng, 0, 1)];
  cc.w_dtype = weights[pick(rng, 0, 2)];
  const int kind = pick(rng, 0, 3);  // dense, depthwise, grouped, depthwise with multiplier
  int64_t group = 1, in_per_group = pick(rng, 1, 13), out_per_group = pick(rng, 1, 19);
  if (kind == 1 || kind == 3) {
    group = pick(rng, 1, 9);
    in_per_group = 1;
    out_per_group = kind == 1 ? 1 : pick(rng, 2, 3);
  } else if (kind == 2) {
    group = pick(rng, 2, 4);
    in_per_group = pick(rng, 1, 5);
    out_per_group = pick(rng, 1, 6);
  }
  cc.params.group = group;
  const int kernel_sizes[] = {1, 3, 5, 2};
  cc.x = {pick(rng, 1, 2), group * in_per_group};
  cc.w = {group * out_per_group, in_per_group};
  for (int axis = 0; axis < rank; ++axis) {
    const int64_t k = pick(rng, 0, 5) == 0 ? pick(rng, 1, 4) : kernel_sizes[pick(rng, 0, 2)];
    const int64_t stride = pick(rng, 0, 2) == 0 ? pick(rng, 2, 3) : 1;
    const int64_t dilation = pick(rng, 0, 4) == 0 ? 2 : 1;
    const int64_t pad_begin = pick(rng, 0, 2), pad_end = pick(rng, 0, 2);
    const int64_t span = (k - 1) * dilation + 1;
    const int64_t size = std::max<int64_t>(span - pad_begin - pad_end, 1) + pick(rng, 0, 20);
    cc.x.push_back(size);
    cc.w.push_back(k);
    cc.params.strides.push_back(stride);
    cc.params.dilations.push_back(dilation);
    cc.params.pads.insert(cc.params.pads.begin() + axis, pad_begin);
    cc.params.pads.push_back(pad_end);
  }
  cc.bias = pick(rng, 0, 3) != 0;
  const int64_t terms = in_per_group * shape_numel(Shape(cc.w.begin() + 2, cc.w.end()));
  cc.params.quant = random_quant(rng, cc.x_dtype, cc.w_dtype, cc.w[0], terms);
  return cc;
}

ConvCase fixed_conv(Shape x, Shape w, int64_t group, std::vector<int64_t> strides,
                    std::vector<int64_t> pads, std::mt19937& rng) {
  ConvCase cc;
  cc.x = std::move(x);
  cc.w = std::move(w);
  cc.params.group = group;
  cc.params.strides = std::move(strides);
  cc.params.pads = std::move(pads);
  cc.params.quant = random_quant(rng, cc.x_dtype, cc.w_dtype, cc.w[0], cc.w[1] * cc.w[2] * cc.w[3]);
  return cc;
}

}  // namespace

TEST_CASE("optimized integer kernels: every CPU runs the portable set", "[integer][optimized]") {
  const auto sets = integer::optimized::available_int8_kernels();
  REQUIRE(sets.front() == &integer::optimized::portable_int8_kernels());
  REQUIRE(&integer::optimized::best_int8_kernels() == sets.back());
}

TEST_CASE("optimized requantize_row equals requantize on edge sums and multipliers",
          "[integer][optimized]") {
  std::mt19937 rng(5);
  const int32_t edges[] = {0,
                           1,
                           -1,
                           2,
                           -2,
                           3,
                           -3,
                           std::numeric_limits<int32_t>::max(),
                           std::numeric_limits<int32_t>::min(),
                           std::numeric_limits<int32_t>::min() + 1,
                           1 << 20,
                           -(1 << 20)};
  const int64_t count = 37;  // two full vectors and a tail
  std::vector<Multiplier> multipliers;
  for (int shift = kMultiplierMinShift; shift <= kMultiplierMaxShift; ++shift) {
    multipliers.push_back({int32_t{1} << 30, shift});
    multipliers.push_back({0x7FFFFFFF, shift});
    multipliers.push_back({pick(rng, 1 << 30, 0x7FFFFFFF), shift});
  }
  multipliers.push_back({0, 0});
  for (const Int8Kernels* kernels : integer::optimized::available_int8_kernels()) {
    INFO("kernels " << kernels->name);
    for (size_t mi = 0; mi < multipliers.size(); ++mi) {
      std::vector<int32_t> d(static_cast<size_t>(count));
      for (int64_t c = 0; c < count; ++c) {
        d[static_cast<size_t>(c)] = c < 12 ? edges[c] : static_cast<int32_t>(rng());
      }
      // Ties: sums that are exact odd multiples of half the divisor.
      const int exponent = 31 - multipliers[mi].shift;
      if (multipliers[mi].mantissa == (1 << 30) && exponent >= 32 && exponent <= 61) {
        const int64_t half = int64_t{1} << (exponent - 31);
        if (half < (int64_t{1} << 29)) {
          d[20] = static_cast<int32_t>(half);
          d[21] = static_cast<int32_t>(-half);
          d[22] = static_cast<int32_t>(3 * half);
          d[23] = static_cast<int32_t>(-3 * half);
        }
      }
      const integer::optimized::OutputCodes out{integer::optimized::OutputKind::kInt16, 7, -30000,
                                                31000};
      // Per row: the row's multiplier; per column: a rotation of the list.
      std::vector<Multiplier> columns;
      for (int64_t c = 0; c < count; ++c)
        columns.push_back(multipliers[(mi + c) % multipliers.size()]);
      const integer::optimized::ColumnMultiplierTable table(columns);
      std::vector<int32_t> constants, factors;
      for (int64_t c = 0; c < count; ++c) {
        constants.push_back(static_cast<int32_t>(rng()));
        factors.push_back(pick(rng, -300, 300));
      }
      const integer::optimized::RowTerms row{pick(rng, -1000, 1000), pick(rng, -50, 50),
                                             multipliers[mi],
                                             integer::optimized::lane_multiplier(multipliers[mi])};
      for (bool per_column : {false, true}) {
        integer::optimized::ColumnTerms cols;
        if (per_column) {
          cols.constant = constants.data();
          cols.factor = factors.data();
          cols.multipliers = table.at(0);
        }
        std::vector<int16_t> got(static_cast<size_t>(count));
        kernels->requantize_row(d.data(), count, row, cols, out, got.data());
        for (int64_t c = 0; c < count; ++c) {
          const auto ci = static_cast<size_t>(c);
          uint32_t s = static_cast<uint32_t>(d[ci]) + static_cast<uint32_t>(row.constant);
          if (per_column) {
            s += static_cast<uint32_t>(constants[ci]) +
                 static_cast<uint32_t>(row.factor) * static_cast<uint32_t>(factors[ci]);
          }
          const Multiplier m = per_column ? columns[ci] : multipliers[mi];
          const int32_t want =
              requantize(static_cast<int32_t>(s), m, out.zero_point, out.min, out.max);
          INFO("multiplier " << m.mantissa << " shift " << m.shift << " sum "
                             << static_cast<int32_t>(s) << " column " << c);
          REQUIRE(got[ci] == want);
        }
      }
    }
  }
}

TEST_CASE("optimized integer Conv equals the reference on fixed shapes", "[integer][optimized]") {
  std::mt19937 rng(11);
  // Pointwise, 3x3 with pads, stride 2, depthwise 5x5, grouped, a wide input channel
  // count (several column blocks), many output channels (several panels, a partial one).
  check_conv(fixed_conv({1, 16, 12, 20}, {24, 16, 1, 1}, 1, {}, {}, rng), rng);
  check_conv(fixed_conv({2, 5, 9, 11}, {7, 5, 3, 3}, 1, {}, {1, 1, 1, 1}, rng), rng);
  check_conv(fixed_conv({1, 3, 33, 31}, {16, 3, 3, 3}, 1, {2, 2}, {1, 1, 1, 1}, rng), rng);
  check_conv(fixed_conv({1, 24, 12, 40}, {24, 1, 5, 5}, 24, {}, {2, 2, 2, 2}, rng), rng);
  check_conv(fixed_conv({1, 24, 12, 40}, {24, 1, 3, 3}, 24, {2, 1}, {1, 1, 1, 1}, rng), rng);
  check_conv(fixed_conv({2, 12, 7, 9}, {18, 4, 3, 1}, 3, {1, 2}, {1, 0, 2, 1}, rng), rng);
  check_conv(fixed_conv({1, 200, 30, 30}, {37, 200, 3, 3}, 1, {}, {1, 1, 1, 1}, rng), rng);
  check_conv(fixed_conv({1, 480, 3, 40}, {60, 480, 1, 3}, 1, {}, {0, 1, 0, 1}, rng), rng);
  check_conv(fixed_conv({1, 120, 1, 1}, {480, 120, 1, 1}, 1, {}, {}, rng), rng);
}

TEST_CASE("optimized integer Conv equals the reference on random 2-D shapes",
          "[integer][optimized]") {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 150; ++trial) {
    INFO("trial " << trial);
    check_conv(random_conv(rng, 2), rng);
  }
}

TEST_CASE("optimized integer Conv equals the reference on random 1-D shapes",
          "[integer][optimized]") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    INFO("trial " << trial);
    check_conv(random_conv(rng, 1), rng);
  }
}

TEST_CASE("optimized integer Conv leaves int16, wide and 3-D cases to the reference",
          "[integer][optimized]") {
  std::mt19937 rng(3);
  ConvCase int16 = fixed_conv({1, 4, 6, 6}, {3, 4, 3, 3}, 1, {}, {1, 1, 1, 1}, rng);
  int16.x_dtype = DType::kInt16;
  ConvCase three_d;
  three_d.x = {1, 3, 4, 5, 6};
  three_d.w = {2, 3, 2, 3, 3};
  three_d.params.pads = {0, 1, 1, 1, 1, 0};
  three_d.params.quant = random_quant(rng, three_d.x_dtype, three_d.w_dtype, 2, 3 * 18);
  // 2^31 / (128 × 255) taps overflow int32 with uint8 weights at zero point 0.
  ConvCase wide = fixed_conv({1, 70000, 1, 1}, {1, 70000, 1, 1}, 1, {}, {}, rng);
  wide.w_dtype = DType::kUInt8;
  wide.params.quant.weight_zero_points = {0};
  wide.params.quant.multipliers = {make_multiplier(1e-6)};
  for (const ConvCase* cc : {&int16, &three_d, &wide}) {
    INFO(describe(*cc));
    const Tensor x = random_codes(rng, cc->x_dtype, cc->x);
    const Tensor w = random_codes(rng, cc->w_dtype, cc->w);
    for (const Int8Kernels* kernels : integer::optimized::available_int8_kernels()) {
      REQUIRE_FALSE(
          integer::optimized::conv(x, w, nullptr, cc->params, nullptr, *kernels).has_value());
    }
    REQUIRE(same_codes(integer::conv(x, w, nullptr, cc->params),
                       integer::conv_reference(x, w, nullptr, cc->params)));
  }
}

TEST_CASE("optimized integer MatMul equals the reference", "[integer][optimized]") {
  std::mt19937 rng(17);
  const DType data[] = {DType::kInt8, DType::kUInt8};
  const DType weights[] = {DType::kInt8, DType::kUInt8, DType::kInt4};
  kernels::ThreadPool pool(3);
  for (int trial = 0; trial < 80; ++trial) {
    const int64_t m = pick(rng, 1, 45), k = pick(rng, 1, 70), n = pick(rng, 1, 90);
    Shape a_shape{m, k}, b_shape{k, n};
    switch (pick(rng, 0, 4)) {
      case 0:  // batched, B shared
        a_shape.insert(a_shape.begin(), pick(rng, 2, 3));
        break;
      case 1:  // batched on both sides with broadcasting
        a_shape.insert(a_shape.begin(), {pick(rng, 1, 2), 1});
        b_shape.insert(b_shape.begin(), {1, pick(rng, 2, 3)});
        break;
      case 2:  // 1-D A
        a_shape = {k};
        break;
      case 3:  // 1-D B
        b_shape = {k};
        break;
      default:
        break;
    }
    const DType a_dtype = data[pick(rng, 0, 1)], b_dtype = weights[pick(rng, 0, 2)];
    const int64_t columns = b_shape.size() == 1 ? 1 : n;
    const LinearQuant quant = random_quant(rng, a_dtype, b_dtype, columns, k);
    const Tensor a = random_codes(rng, a_dtype, a_shape);
    const Tensor b = random_codes(rng, b_dtype, b_shape);
    const Tensor bias = int32_tensor({columns}, random_bias(rng, columns));
    const Tensor* bias_ptr = pick(rng, 0, 1) == 0 ? &bias : nullptr;
    INFO("trial " << trial << ": a " << shape_str(a_shape) << " " << dtype_name(a_dtype) << ", b "
                  << shape_str(b_shape) << " " << dtype_name(b_dtype));
    const Tensor want = integer::mat_mul_reference(a, b, bias_ptr, quant);
    REQUIRE(same_codes(integer::mat_mul(a, b, bias_ptr, quant, &pool), want));
    for (const Int8Kernels* kernels : integer::optimized::available_int8_kernels()) {
      INFO("kernels " << kernels->name);
      for (kernels::ThreadPool* p : {static_cast<kernels::ThreadPool*>(nullptr), &pool}) {
        const std::optional<Tensor> got =
            integer::optimized::mat_mul(a, b, bias_ptr, quant, p, *kernels);
        REQUIRE(got.has_value());
        REQUIRE(same_codes(*got, want));
      }
    }
  }
}

TEST_CASE("optimized integer Gemm equals the reference", "[integer][optimized]") {
  std::mt19937 rng(23);
  const DType data[] = {DType::kInt8, DType::kUInt8};
  const DType weights[] = {DType::kInt8, DType::kUInt8, DType::kInt4};
  kernels::ThreadPool pool(3);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t m = pick(rng, 1, 40), k = pick(rng, 1, 600), n = pick(rng, 1, 300);
    integer::GemmParams params;
    params.trans_a = pick(rng, 0, 1) == 1;
    params.trans_b = pick(rng, 0, 1) == 1;
    const DType a_dtype = data[pick(rng, 0, 1)], b_dtype = weights[pick(rng, 0, 2)];
    params.quant = random_quant(rng, a_dtype, b_dtype, n, k);
    const Tensor a = random_codes(rng, a_dtype, params.trans_a ? Shape{k, m} : Shape{m, k});
    const Tensor b = random_codes(rng, b_dtype, params.trans_b ? Shape{n, k} : Shape{k, n});
    // C: none, [N], [1, N], [M, 1], [1], or [M, N] (left to the reference).
    const int c_kind = pick(rng, 0, 5);
    const Shape c_shapes[] = {{}, {n}, {1, n}, {m, 1}, {1}, {m, n}};
    const Shape& c_shape = c_shapes[c_kind];
    const Tensor c =
        c_kind == 0 ? Tensor() : int32_tensor(c_shape, random_bias(rng, shape_numel(c_shape)));
    INFO("trial " << trial << ": m " << m << " k " << k << " n " << n << " trans " << params.trans_a
                  << params.trans_b << " C " << shape_str(c_shape));
    const Tensor* c_ptr = c_kind == 0 ? nullptr : &c;
    const Tensor want = integer::gemm_reference(a, b, c_ptr, params);
    REQUIRE(same_codes(integer::gemm(a, b, c_ptr, params, &pool), want));
    for (const Int8Kernels* kernels : integer::optimized::available_int8_kernels()) {
      INFO("kernels " << kernels->name);
      const std::optional<Tensor> got =
          integer::optimized::gemm(a, b, c_ptr, params, &pool, *kernels);
      REQUIRE(got.has_value() == (c_kind != 5));
      if (got) REQUIRE(same_codes(*got, want));
    }
  }
}
