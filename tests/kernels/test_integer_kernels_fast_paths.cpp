// The fast paths of the elementwise and data-movement integer kernels and of ConvTranspose
// against their plain reference loops, bit for bit: Add / Sub / Mul over random broadcasts
// (same shapes, trailing and leading broadcasts, scalars, odd sizes around the vector
// widths, long rows against one element) and every pair of 8-bit codes, lookups, rescales,
// Concat, GlobalAveragePool, gather_axes with runs, repeats and fills, and ConvTranspose on
// random 1-D / 2-D / 3-D shapes with groups, strides, dilations, negative pads, output
// padding, uint8 / int16 data, int4 / uint8 / int16 weights, per-tensor and per-channel zero
// points and biases near ±2^31; with every kernel set the CPU runs and 1 or 3 threads.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>

#include "kernels/integer/common.hpp"
#include "compiler/kernel_params.hpp"
#include "kernels/integer/integer_kernels.hpp"
#include "integer_test_util.hpp"
#include "kernels/integer/optimized/elementwise.hpp"
#include "kernels/integer/optimized/linear.hpp"
#include "kernels/thread_pool.hpp"

using namespace lq;
using integer::optimized::ElementwiseKernels;
using integer::optimized::Int8Kernels;

namespace {

using test::code_max;
using test::code_min;
using test::pick;
using test::random_bias;
using test::random_codes;
using test::same_codes;
using test::set_code;

DType random_data_dtype(std::mt19937& rng, bool int16 = true) {
  const DType dtypes[] = {DType::kInt8, DType::kUInt8, DType::kInt16};
  return dtypes[pick(rng, 0, int16 ? 2 : 1)];
}

int32_t random_zero_point(std::mt19937& rng, DType dtype) {
  switch (pick(rng, 0, 3)) {
    case 0:
      return dtype == DType::kUInt8 ? 128 : 0;
    case 1:
      return code_min(dtype);  // the extremes make the largest offsets
    default:
      return pick(rng, code_min(dtype), code_max(dtype));
  }
}

integer::OutputSpec random_output(std::mt19937& rng) {
  integer::OutputSpec out;
  out.dtype = random_data_dtype(rng);
  out.zero_point = pick(rng, dtype_qmin(out.dtype) / 2, dtype_qmax(out.dtype) / 2);
  out.min = dtype_qmin(out.dtype);
  out.max = dtype_qmax(out.dtype);
  if (pick(rng, 0, 2) == 0) {  // a fused Relu / Clip
    out.min = out.zero_point;
    if (pick(rng, 0, 1) == 0) out.max = std::min(out.max, out.zero_point + 60);
  }
  return out;
}

// Typical multipliers, with a few extremes: pure rounding shifts, the largest (shift 31,
// exponent 0) and ones below 2^-32 (every result rounds to 0).
Multiplier random_multiplier(std::mt19937& rng, double typical) {
  switch (pick(rng, 0, 15)) {
    case 0:
      return {int32_t{1} << 30, pick(rng, -20, 1)};
    case 1:
      return {pick(rng, 1 << 30, 0x7FFFFFFF), 31};
    case 2:
      return {pick(rng, 1 << 30, 0x7FFFFFFF), pick(rng, -62, -33)};
    default:
      return make_multiplier(typical *
                             std::exp2(std::uniform_real_distribution<double>(-3.0, 3.0)(rng)));
  }
}

// Two operand shapes that broadcast: the same, trailing or leading axes broadcast, a
// scalar, or each axis independently 1 on either side.
std::pair<Shape, Shape> random_broadcast(std::mt19937& rng) {
  const int64_t sizes[] = {1, 2, 3, 5, 7, 15, 16, 17, 31, 33, 64, 65, 100};
  const int rank = pick(rng, 0, 4);
  Shape out;
  for (int d = 0; d < rank; ++d) out.push_back(sizes[pick(rng, 0, 12)]);
  Shape a = out, b = out;
  switch (pick(rng, 0, 5)) {
    case 0:
      break;
    case 1:  // [N, C, H, W] with [N, C, 1, 1]: trailing axes broadcast
      for (int d = pick(rng, 0, rank); d < rank; ++d) b[static_cast<size_t>(d)] = 1;
      break;
    case 2:  // leading axes dropped or 1
      b.erase(b.begin(), b.begin() + pick(rng, 0, rank));
      if (!b.empty() && pick(rng, 0, 1) == 0) b[0] = 1;
      break;
    case 3:  // a scalar, rank 0 or all ones
      b = pick(rng, 0, 1) == 0 ? Shape{} : Shape(static_cast<size_t>(pick(rng, 1, 3)), 1);
      break;
    default:  // any axis 1 on either side
      for (int d = 0; d < rank; ++d) {
        const int side = pick(rng, 0, 3);
        if (side == 0) a[static_cast<size_t>(d)] = 1;
        if (side == 1) b[static_cast<size_t>(d)] = 1;
      }
      break;
  }
  if (pick(rng, 0, 1) == 0) std::swap(a, b);
  return {a, b};
}

std::string describe(const Tensor& a, const Tensor& b) {
  return "a " + shape_str(a.shape()) + " " + dtype_name(a.dtype()) + ", b " + shape_str(b.shape()) +
         " " + dtype_name(b.dtype());
}

integer::AddParams random_add_params(std::mt19937& rng, DType a, DType b) {
  integer::AddParams p;
  p.a_zero_point = random_zero_point(rng, a);
  p.b_zero_point = random_zero_point(rng, b);
  p.left_shift = a == DType::kInt16 || b == DType::kInt16 ? 14 : 20;
  if (pick(rng, 0, 3) == 0) {  // as the compiler makes them, from scales
    auto params = [&](DType d, int32_t zp) {
      QuantParams q;
      q.dtype = d;
      q.scale = {std::uniform_real_distribution<float>(0.001f, 0.1f)(rng)};
      q.zero_point = {zp};
      return q;
    };
    const integer::OutputSpec out = random_output(rng);
    QuantParams yq = params(out.dtype, out.zero_point);
    yq.scale[0] *= out.dtype == DType::kInt16 ? 0.01f : 2.0f;
    const bool relu = pick(rng, 0, 1) == 0;
    p = compiler::make_add_params(params(a, p.a_zero_point), params(b, p.b_zero_point), yq,
                                 relu ? 0.0f : -integer::kNoClip);
  } else {
    // The larger input's multiplier is 1/2, the other's at most that (or tiny).
    const double ratio = pick(rng, 0, 4) == 0
                             ? std::ldexp(1.0, -pick(rng, 20, 40))
                             : std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    p.a_multiplier = make_multiplier(0.5);
    p.b_multiplier = make_multiplier(0.5 * ratio);
    if (pick(rng, 0, 1) == 0) std::swap(p.a_multiplier, p.b_multiplier);
    p.output_multiplier = random_multiplier(rng, 100.0 / std::ldexp(256.0, p.left_shift));
    p.output = random_output(rng);
  }
  p.subtract = pick(rng, 0, 2) == 0;
  return p;
}

integer::MulParams random_mul_params(std::mt19937& rng, DType a, DType b) {
  integer::MulParams p;
  p.a_zero_point = random_zero_point(rng, a);
  p.b_zero_point = random_zero_point(rng, b);
  const double typical =
      (a == DType::kInt16 ? 1.0 / 256 : 1.0) * (b == DType::kInt16 ? 1.0 / 256 : 1.0);
  p.multiplier = random_multiplier(rng, typical / 100.0);
  p.output = random_output(rng);
  return p;
}

// add (1 thread is all it has), add_reference and every kernel set agree.
template <typename Params, typename Kernel, typename Reference, typename Optimized>
void check_binary(const Tensor& a, const Tensor& b, const Params& params, Kernel kernel,
                  Reference reference, Optimized optimized) {
  INFO(describe(a, b));
  const Tensor want = reference(a, b, params);
  REQUIRE(same_codes(kernel(a, b, params), want));
  const bool eight_bit = a.dtype() != DType::kInt16 && b.dtype() != DType::kInt16;
  for (const ElementwiseKernels* kernels : integer::optimized::available_elementwise_kernels()) {
    INFO("kernels " << kernels->name);
    const std::optional<Tensor> got = optimized(a, b, params, *kernels);
    REQUIRE(got.has_value() == eight_bit);
    if (got) REQUIRE(same_codes(*got, want));
  }
}

void check_add(const Tensor& a, const Tensor& b, const integer::AddParams& p) {
  INFO("add: subtract " << p.subtract << " shift " << p.left_shift << " multipliers "
                        << p.a_multiplier.mantissa << "/" << p.a_multiplier.shift << " "
                        << p.b_multiplier.mantissa << "/" << p.b_multiplier.shift << " "
                        << p.output_multiplier.mantissa << "/" << p.output_multiplier.shift
                        << " zero points " << p.a_zero_point << " " << p.b_zero_point << ", output "
                        << dtype_name(p.output.dtype) << " zp " << p.output.zero_point << " ["
                        << p.output.min << ", " << p.output.max << "]");
  check_binary(
      a, b, p, [](auto&... args) { return integer::add(args...); },
      [](auto&... args) { return integer::add_reference(args...); },
      [](const Tensor& x, const Tensor& y, const integer::AddParams& q,
         const ElementwiseKernels& k) { return integer::optimized::add(x, y, q, k); });
}

void check_mul(const Tensor& a, const Tensor& b, const integer::MulParams& p) {
  INFO("mul: multiplier " << p.multiplier.mantissa << "/" << p.multiplier.shift << " zero points "
                          << p.a_zero_point << " " << p.b_zero_point << ", output "
                          << dtype_name(p.output.dtype) << " zp " << p.output.zero_point << " ["
                          << p.output.min << ", " << p.output.max << "]");
  check_binary(
      a, b, p, [](auto&... args) { return integer::mul(args...); },
      [](auto&... args) { return integer::mul_reference(args...); },
      [](const Tensor& x, const Tensor& y, const integer::MulParams& q,
         const ElementwiseKernels& k) { return integer::optimized::mul(x, y, q, k); });
}

// Every pair of codes of two 8-bit dtypes: a [256, 1] against b [1, 256] broadcast, and the
// same pairs as two flat operands.
std::pair<Tensor, Tensor> all_pairs(DType a_dtype, DType b_dtype, bool flat) {
  Tensor a(a_dtype, flat ? Shape{65536} : Shape{256, 1});
  Tensor b(b_dtype, flat ? Shape{65536} : Shape{1, 256});
  for (int64_t i = 0; i < (flat ? 65536 : 256); ++i) {
    set_code(a, i, code_min(a_dtype) + static_cast<int32_t>(flat ? i / 256 : i));
    set_code(b, i, code_min(b_dtype) + static_cast<int32_t>(i % 256));
  }
  return {a, b};
}

}  // namespace

TEST_CASE("fast integer Add and Sub equal the reference on random broadcasts and dtypes",
          "[integer][optimized]") {
  std::mt19937 rng(101);
  for (int trial = 0; trial < 400; ++trial) {
    INFO("trial " << trial);
    const auto [a_shape, b_shape] = random_broadcast(rng);
    const DType a_dtype = random_data_dtype(rng, trial % 4 == 0);
    const DType b_dtype = random_data_dtype(rng, trial % 4 == 1);
    const Tensor a = random_codes(rng, a_dtype, a_shape);
    const Tensor b = random_codes(rng, b_dtype, b_shape);
    check_add(a, b, random_add_params(rng, a_dtype, b_dtype));
  }
}

TEST_CASE("fast integer Add and Sub equal the reference on every pair of 8-bit codes",
          "[integer][optimized]") {
  std::mt19937 rng(103);
  for (int trial = 0; trial < 60; ++trial) {
    INFO("trial " << trial);
    const DType a_dtype = random_data_dtype(rng, false), b_dtype = random_data_dtype(rng, false);
    const auto [a, b] = all_pairs(a_dtype, b_dtype, trial % 2 == 0);
    check_add(a, b, random_add_params(rng, a_dtype, b_dtype));
  }
}

TEST_CASE("fast integer Add leaves terms whose sum can leave int32 to the reference",
          "[integer][optimized]") {
  std::mt19937 rng(107);
  integer::AddParams p;
  p.a_zero_point = -128;
  p.b_zero_point = 127;
  p.a_multiplier = {0x7FFFFFFF, 10};  // about 2^10: terms near 2^38
  p.b_multiplier = make_multiplier(0.5);
  p.output_multiplier = make_multiplier(1e-12);
  const Tensor a = random_codes(rng, DType::kInt8, {3, 40});
  const Tensor b = random_codes(rng, DType::kInt8, {40});
  for (const ElementwiseKernels* kernels : integer::optimized::available_elementwise_kernels()) {
    REQUIRE_FALSE(integer::optimized::add(a, b, p, *kernels).has_value());
  }
  REQUIRE(same_codes(integer::add(a, b, p), integer::add_reference(a, b, p)));
}

TEST_CASE("fast integer Mul equals the reference on random broadcasts and dtypes",
          "[integer][optimized]") {
  std::mt19937 rng(109);
  for (int trial = 0; trial < 400; ++trial) {
    INFO("trial " << trial);
    const auto [a_shape, b_shape] = random_broadcast(rng);
    const DType a_dtype = random_data_dtype(rng, trial % 4 == 0);
    const DType b_dtype = random_data_dtype(rng, trial % 4 == 1);
    const Tensor a = random_codes(rng, a_dtype, a_shape);
    const Tensor b = random_codes(rng, b_dtype, b_shape);
    check_mul(a, b, random_mul_params(rng, a_dtype, b_dtype));
  }
}

TEST_CASE("fast integer Mul equals the reference on every pair of 8-bit codes",
          "[integer][optimized]") {
  std::mt19937 rng(113);
  for (int trial = 0; trial < 60; ++trial) {
    INFO("trial " << trial);
    const DType a_dtype = random_data_dtype(rng, false), b_dtype = random_data_dtype(rng, false);
    const auto [a, b] = all_pairs(a_dtype, b_dtype, trial % 2 == 0);
    check_mul(a, b, random_mul_params(rng, a_dtype, b_dtype));
  }
}

TEST_CASE("fast integer Add and Mul: long rows against one element (byte tables)",
          "[integer][optimized]") {
  std::mt19937 rng(117);
  // [N, C, H, W] against [N, C, 1, 1] or a scalar, either side, rows of 1023 to 4900.
  const std::pair<Shape, Shape> shapes[] = {{{2, 3, 40, 50}, {2, 3, 1, 1}},
                                            {{1, 1, 1023}, {1}},
                                            {{1024}, {}},
                                            {{3, 1, 1}, {3, 2, 1025}},
                                            {{4900}, {1}}};
  for (int trial = 0; trial < 40; ++trial) {
    const auto& [a_shape, b_shape] = shapes[trial % 5];
    const DType a_dtype = random_data_dtype(rng, false), b_dtype = random_data_dtype(rng, false);
    const Tensor a = random_codes(rng, a_dtype, trial % 2 ? a_shape : b_shape);
    const Tensor b = random_codes(rng, b_dtype, trial % 2 ? b_shape : a_shape);
    INFO("trial " << trial);
    check_add(a, b, random_add_params(rng, a_dtype, b_dtype));
    check_mul(a, b, random_mul_params(rng, a_dtype, b_dtype));
  }
}

TEST_CASE("fast integer lookups equal the reference for every dtype pair and odd sizes",
          "[integer][optimized]") {
  std::mt19937 rng(127);
  const int64_t sizes[] = {0, 1, 63, 64, 65, 127, 1000, 4099};
  for (int trial = 0; trial < 60; ++trial) {
    integer::LookupTable table;
    table.input_dtype = random_data_dtype(rng);
    table.output_dtype = random_data_dtype(rng);
    const size_t entries = table.input_dtype == DType::kInt16 ? 65536 : 256;
    for (size_t i = 0; i < entries; ++i) {
      table.values.push_back(
          pick(rng, dtype_qmin(table.output_dtype), dtype_qmax(table.output_dtype)));
    }
    const Shape shape = {2, sizes[pick(rng, 0, 7)]};
    const Tensor x = random_codes(rng, table.input_dtype, shape);
    INFO("trial " << trial << ": " << dtype_name(table.input_dtype) << " -> "
                  << dtype_name(table.output_dtype) << " " << shape_str(shape));
    const Tensor want = integer::lookup_reference(x, table);
    REQUIRE(same_codes(integer::lookup(x, table), want));
    const bool eight_bit =
        table.input_dtype != DType::kInt16 && table.output_dtype != DType::kInt16;
    for (const ElementwiseKernels* kernels : integer::optimized::available_elementwise_kernels()) {
      INFO("kernels " << kernels->name);
      const std::optional<Tensor> got = integer::optimized::lookup(x, table, *kernels);
      REQUIRE(got.has_value() == eight_bit);
      if (got) REQUIRE(same_codes(*got, want));
    }
  }
}

TEST_CASE("fast integer Rescale and Concat equal the reference, identities copied",
          "[integer][optimized]") {
  std::mt19937 rng(131);
  for (int trial = 0; trial < 150; ++trial) {
    INFO("trial " << trial);
    const integer::OutputSpec out = random_output(rng);
    const int inputs = pick(rng, 1, 4);
    const size_t rank = static_cast<size_t>(pick(rng, 1, 4));
    const int64_t axis = pick(rng, 0, static_cast<int>(rank) - 1);
    Shape base;
    for (size_t d = 0; d < rank; ++d) base.push_back(pick(rng, 1, 9));
    std::vector<Tensor> tensors;
    integer::ConcatParams params;
    params.axis = axis;
    params.output = out;
    for (int i = 0; i < inputs; ++i) {
      Shape shape = base;
      shape[static_cast<size_t>(axis)] = pick(rng, 0, 40);
      // An identity now and then: the output's dtype and zero point, multiplier exactly 1.
      const bool identity = pick(rng, 0, 2) == 0;
      const DType dtype = identity ? out.dtype : random_data_dtype(rng);
      integer::Rescale rescale{identity ? out.zero_point : random_zero_point(rng, dtype),
                               identity ? make_multiplier(1.0) : random_multiplier(rng, 0.7)};
      tensors.push_back(random_codes(rng, dtype, shape));
      params.inputs.push_back(rescale);
      INFO("input " << i << " " << shape_str(shape) << " " << dtype_name(dtype));
      REQUIRE(same_codes(integer::rescale(tensors.back(), rescale, out),
                         integer::rescale_reference(tensors.back(), rescale, out)));
    }
    std::vector<const Tensor*> parts;
    for (const Tensor& t : tensors) parts.push_back(&t);
    INFO("axis " << axis << ", output " << dtype_name(out.dtype));
    REQUIRE(same_codes(integer::concat(parts, params), integer::concat_reference(parts, params)));
  }
}

TEST_CASE("fast integer GlobalAveragePool equals the reference on every dtype",
          "[integer][optimized]") {
  std::mt19937 rng(133);
  for (int trial = 0; trial < 100; ++trial) {
    const DType dtype = random_data_dtype(rng);
    Shape shape = {pick(rng, 0, 2), pick(rng, 1, 5)};
    for (int d = pick(rng, 1, 3); d > 0; --d) shape.push_back(pick(rng, 1, 40));
    integer::AveragePoolParams params;
    params.input_zero_point = random_zero_point(rng, dtype);
    params.multiplier = random_multiplier(rng, 0.8);
    params.output = random_output(rng);
    const Tensor x = random_codes(rng, dtype, shape);
    INFO("trial " << trial << ": " << shape_str(shape) << " " << dtype_name(dtype));
    REQUIRE(same_codes(integer::global_average_pool(x, params),
                       integer::global_average_pool_reference(x, params)));
  }
}

TEST_CASE("fast gather_axes equals the element loop: runs, repeats, reversals and fills",
          "[integer][optimized]") {
  std::mt19937 rng(137);
  const DType dtypes[] = {DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32};
  for (int trial = 0; trial < 300; ++trial) {
    const DType dtype = dtypes[pick(rng, 0, 3)];
    const size_t rank = static_cast<size_t>(pick(rng, 0, 4));
    Shape shape;
    for (size_t d = 0; d < rank; ++d) shape.push_back(pick(rng, 1, 12));
    const Tensor x = random_codes(rng, dtype, shape);
    const std::vector<int64_t> strides = integer::detail::strides_of(shape);
    std::vector<std::vector<int64_t>> offsets(rank);
    for (size_t d = 0; d < rank; ++d) {
      const int64_t dim = shape[d];
      std::vector<int64_t> index;
      switch (pick(rng, 0, 5)) {
        case 0:  // all, in order
          for (int64_t i = 0; i < dim; ++i) index.push_back(i);
          break;
        case 1:  // nearest upsampling by 2 or 3
          for (int64_t i = 0, f = pick(rng, 2, 3); i < dim * f; ++i) index.push_back(i / f);
          break;
        case 2:  // reversed
          for (int64_t i = dim; i-- > 0;) index.push_back(i);
          break;
        case 3:  // padded with fills (and edge copies)
          for (int p = pick(rng, 0, 3); p > 0; --p)
            index.push_back(pick(rng, 0, 1) ? integer::detail::kFill : 0);
          for (int64_t i = 0; i < dim; ++i) index.push_back(i);
          for (int p = pick(rng, 0, 3); p > 0; --p)
            index.push_back(pick(rng, 0, 1) ? integer::detail::kFill : dim - 1);
          break;
        case 4:  // a slice with a step
          for (int64_t i = pick(rng, 0, static_cast<int>(dim) - 1), s = pick(rng, 1, 3); i < dim;
               i += s)
            index.push_back(i);
          break;
        default:  // anything, fills included
          for (int n = pick(rng, 0, 20); n > 0; --n) {
            index.push_back(pick(rng, 0, 6) == 0 ? integer::detail::kFill
                                                 : pick(rng, 0, static_cast<int>(dim) - 1));
          }
          break;
      }
      for (int64_t i : index)
        offsets[d].push_back(i == integer::detail::kFill ? i : i * strides[d]);
    }
    const int32_t fill = pick(rng, code_min(dtype == DType::kInt32 ? DType::kInt16 : dtype),
                              code_max(dtype == DType::kInt32 ? DType::kInt16 : dtype));
    INFO("trial " << trial << ": " << shape_str(shape) << " " << dtype_name(dtype));
    REQUIRE(same_codes(integer::detail::gather_axes(x, offsets, fill),
                       integer::detail::gather_axes_reference(x, offsets, fill)));
  }
}

namespace {

struct ConvTransposeCase {
  Shape x, w;
  DType x_dtype = DType::kInt8, w_dtype = DType::kInt8;
  integer::ConvTransposeParams params;
  bool bias = true;
};

std::string describe(const ConvTransposeCase& c) {
  auto list = [](const std::vector<int64_t>& v) { return shape_str(v); };
  return "x " + shape_str(c.x) + " " + dtype_name(c.x_dtype) + ", w " + shape_str(c.w) + " " +
         dtype_name(c.w_dtype) + ", group " + std::to_string(c.params.group) + ", strides " +
         list(c.params.strides) + ", dilations " + list(c.params.dilations) + ", pads " +
         list(c.params.pads) + ", output " + list(c.params.output) + " " +
         dtype_name(c.params.quant.output.dtype) + ", bias " + std::to_string(c.bias) +
         ", zero points " + std::to_string(c.params.quant.weight_zero_points.size());
}

ConvTransposeCase random_conv_transpose(std::mt19937& rng, int rank) {
  ConvTransposeCase c;
  const DType weights[] = {DType::kInt8, DType::kUInt8, DType::kInt4, DType::kInt16};
  c.x_dtype = random_data_dtype(rng, pick(rng, 0, 7) == 0);
  c.w_dtype = weights[pick(rng, 0, pick(rng, 0, 7) == 0 ? 3 : 2)];
  const int64_t group = pick(rng, 0, 3) == 0 ? pick(rng, 2, 3) : 1;
  const int64_t in_per_group = pick(rng, 1, 11), out_per_group = pick(rng, 1, 9);
  c.params.group = group;
  c.x = {pick(rng, 1, 2), group * in_per_group};
  c.w = {group * in_per_group, out_per_group};
  for (int axis = 0; axis < rank; ++axis) {
    const int64_t in = pick(rng, 1, rank == 3 ? 4 : 19);
    const int64_t k = pick(rng, 1, 4);
    const int64_t stride = pick(rng, 1, 3), dilation = pick(rng, 0, 3) == 0 ? 2 : 1;
    const int64_t pad_begin = pick(rng, -1, 2), pad_end = pick(rng, -1, 2);
    const int64_t output_padding = pick(rng, 0, static_cast<int>(stride) - 1);
    const int64_t out = std::max<int64_t>(
        0, (in - 1) * stride + (k - 1) * dilation + 1 + output_padding - pad_begin - pad_end);
    c.x.push_back(in);
    c.w.push_back(k);
    c.params.strides.push_back(stride);
    c.params.dilations.push_back(dilation);
    c.params.pads.insert(c.params.pads.begin() + axis, pad_begin);
    c.params.pads.push_back(pad_end);
    c.params.output.push_back(out);
  }
  integer::LinearQuant& q = c.params.quant;
  q.input_zero_point = random_zero_point(rng, c.x_dtype);
  const bool per_channel = pick(rng, 0, 1) == 0;
  q.weight_zero_points.clear();
  const int64_t terms = in_per_group * shape_numel(Shape(c.w.begin() + 2, c.w.end()));
  for (int64_t j = 0; j < (per_channel ? out_per_group : 1); ++j) {
    const int32_t mid = c.w_dtype == DType::kUInt8 ? 128 : 0;
    q.weight_zero_points.push_back(pick(rng, 0, 1) == 0 ? mid : random_zero_point(rng, c.w_dtype));
    q.multipliers.push_back(random_multiplier(rng, 30.0 / (150.0 * std::sqrt(double(terms)))));
  }
  q.output = random_output(rng);
  c.bias = pick(rng, 0, 3) != 0;
  return c;
}

void check_conv_transpose(const ConvTransposeCase& c, std::mt19937& rng,
                          kernels::ThreadPool& pool) {
  INFO(describe(c));
  const Tensor x = random_codes(rng, c.x_dtype, c.x);
  const Tensor w = random_codes(rng, c.w_dtype, c.w);
  const int64_t out_channels = c.w[1] * c.params.group;
  Tensor b(DType::kInt32, {out_channels});
  const std::vector<int32_t> bias_values = random_bias(rng, out_channels);
  std::memcpy(b.raw(), bias_values.data(), bias_values.size() * sizeof(int32_t));
  const Tensor* bias = c.bias ? &b : nullptr;
  const Tensor want = integer::conv_transpose_reference(x, w, bias, c.params);
  REQUIRE(same_codes(integer::conv_transpose(x, w, bias, c.params), want));
  REQUIRE(same_codes(integer::conv_transpose(x, w, bias, c.params, &pool), want));
  const bool covered = c.x_dtype != DType::kInt16 && c.w_dtype != DType::kInt16 && c.x.size() <= 4;
  for (const Int8Kernels* kernels : integer::optimized::available_int8_kernels()) {
    INFO("kernels " << kernels->name);
    for (kernels::ThreadPool* p : {static_cast<kernels::ThreadPool*>(nullptr), &pool}) {
      const std::optional<Tensor> got =
          integer::optimized::conv_transpose(x, w, bias, c.params, p, *kernels);
      if (covered && shape_numel(c.params.output) > 0) REQUIRE(got.has_value());
      if (got) REQUIRE(same_codes(*got, want));
    }
  }
}

}  // namespace

TEST_CASE("fast integer ConvTranspose equals the gather reference on random 2-D shapes",
          "[integer][optimized]") {
  std::mt19937 rng(139);
  kernels::ThreadPool pool(3);
  for (int trial = 0; trial < 150; ++trial) {
    INFO("trial " << trial);
    check_conv_transpose(random_conv_transpose(rng, 2), rng, pool);
  }
}

TEST_CASE("fast integer ConvTranspose equals the gather reference on random 1-D and 3-D shapes",
          "[integer][optimized]") {
  std::mt19937 rng(149);
  kernels::ThreadPool pool(3);
  for (int trial = 0; trial < 60; ++trial) {
    INFO("trial " << trial);
    check_conv_transpose(random_conv_transpose(rng, trial % 3 == 0 ? 3 : 1), rng, pool);
  }
}

TEST_CASE("fast integer ConvTranspose: PP-OCR's upsampling shapes, wide channels, bias limits",
          "[integer][optimized]") {
  std::mt19937 rng(151);
  kernels::ThreadPool pool(3);
  auto fixed = [&](Shape x, Shape w, std::vector<int64_t> strides, std::vector<int64_t> pads,
                   std::vector<int64_t> output) {
    ConvTransposeCase c = random_conv_transpose(rng, 2);
    c.x = std::move(x);
    c.w = std::move(w);
    c.x_dtype = DType::kInt8;
    c.w_dtype = DType::kInt8;
    c.params.group = 1;
    c.params.strides = std::move(strides);
    c.params.dilations = {1, 1};
    c.params.pads = std::move(pads);
    c.params.output = std::move(output);
    c.params.quant.input_zero_point = -128;
    c.params.quant.weight_zero_points = std::vector<int32_t>(static_cast<size_t>(c.w[1]), 0);
    c.params.quant.multipliers =
        std::vector<Multiplier>(static_cast<size_t>(c.w[1]), make_multiplier(0.002));
    c.bias = true;
    return c;
  };
  // det's two 2x2 stride-2 upsamplings (smaller planes), odd sizes, kernel larger than the
  // stride (overlapping taps), more channels than one packed block holds.
  check_conv_transpose(fixed({1, 24, 16, 20}, {24, 24, 2, 2}, {2, 2}, {0, 0, 0, 0}, {32, 40}), rng,
                       pool);
  check_conv_transpose(fixed({1, 24, 33, 17}, {24, 1, 2, 2}, {2, 2}, {0, 0, 0, 0}, {66, 34}), rng,
                       pool);
  check_conv_transpose(fixed({2, 13, 9, 11}, {13, 7, 4, 3}, {2, 3}, {1, 0, 1, 2}, {18, 31}), rng,
                       pool);
  check_conv_transpose(fixed({1, 300, 5, 7}, {300, 3, 3, 3}, {1, 1}, {1, 1, 1, 1}, {5, 7}), rng,
                       pool);
  check_conv_transpose(fixed({1, 5, 70, 90}, {5, 2, 1, 1}, {1, 1}, {0, 0, 0, 0}, {70, 90}), rng,
                       pool);
  // Sums that can leave int32 (uint8 codes at zero point 0, 34000 terms): the reference's.
  ConvTransposeCase wide = fixed({1, 3800, 2, 2}, {3800, 1, 3, 3}, {1, 1}, {0, 0, 0, 0}, {4, 4});
  wide.x_dtype = DType::kUInt8;
  wide.w_dtype = DType::kUInt8;
  wide.params.quant.input_zero_point = 0;
  wide.params.quant.weight_zero_points = {0};
  wide.params.quant.multipliers = {make_multiplier(1e-7)};
  const Tensor x = random_codes(rng, wide.x_dtype, wide.x);
  const Tensor w = random_codes(rng, wide.w_dtype, wide.w);
  for (const Int8Kernels* kernels : integer::optimized::available_int8_kernels()) {
    REQUIRE_FALSE(integer::optimized::conv_transpose(x, w, nullptr, wide.params, &pool, *kernels)
                      .has_value());
  }
  REQUIRE(same_codes(integer::conv_transpose(x, w, nullptr, wide.params, &pool),
                     integer::conv_transpose_reference(x, w, nullptr, wide.params)));
}
