// The drivers of the optimized elementwise kernels: the broadcast of two operands as rows
// (axes of size 1 dropped, neighbours that both operands read alike merged, the innermost
// left as the row), the parameters of a row, and the tables built once per call. A long
// row against one element of the other operand is a function of one byte: the row kernel
// fills its 256-entry table, lookup_bytes applies it.
#include "kernels/integer/optimized/elementwise.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/integer/optimized/linear.hpp"
#include "kernels/float/reference/broadcast.hpp"

namespace lq::integer::optimized {

namespace {

bool eight_bit(DType d) { return d == DType::kInt8 || d == DType::kUInt8; }

ByteOperand byte_operand(DType dtype, int32_t zero_point) {
  return dtype == DType::kUInt8 ? ByteOperand{0x80, zero_point - 128} : ByteOperand{0, zero_point};
}

// out is `rows` × `count` elements; row r reads a from a_offsets[r] on with step a_step
// (0 or 1), b likewise.
struct BroadcastRows {
  int64_t count = 1;
  int64_t a_step = 1, b_step = 1;
  std::vector<int64_t> a_offsets, b_offsets;
};

BroadcastRows broadcast_rows(const Shape& a, const Shape& b, const Shape& out) {
  const std::vector<int64_t> a_strides = kernels::broadcast_strides(a, out);
  const std::vector<int64_t> b_strides = kernels::broadcast_strides(b, out);
  struct Axis {
    int64_t size, a_stride, b_stride;
  };
  std::vector<Axis> axes;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    const Axis axis{out[d], a_strides[d], b_strides[d]};
    if (!axes.empty() && axes.back().a_stride == axis.a_stride * axis.size &&
        axes.back().b_stride == axis.b_stride * axis.size) {
      axes.back() = {axes.back().size * axis.size, axis.a_stride, axis.b_stride};
    } else {
      axes.push_back(axis);
    }
  }
  BroadcastRows rows;
  if (!axes.empty()) {
    rows.count = axes.back().size;
    rows.a_step = axes.back().a_stride;
    rows.b_step = axes.back().b_stride;
    axes.pop_back();
  }
  std::vector<int64_t> index(axes.size(), 0);
  int64_t a_offset = 0, b_offset = 0;
  for (bool more = true; more;) {
    rows.a_offsets.push_back(a_offset);
    rows.b_offsets.push_back(b_offset);
    more = false;
    for (size_t d = axes.size(); d-- > 0;) {
      a_offset += axes[d].a_stride;
      b_offset += axes[d].b_stride;
      if (++index[d] < axes[d].size) {
        more = true;
        break;
      }
      a_offset -= axes[d].a_stride * axes[d].size;
      b_offset -= axes[d].b_stride * axes[d].size;
      index[d] = 0;
    }
  }
  return rows;
}

// Rows at least this long with one operand on a single element, into 8-bit outputs, are
// a byte table (the row kernel run on the 256 bytes) and a lookup.
constexpr int64_t kTableRow = 1024;

// Runs row(a, a_step, b, b_step, count, y) over the rows of the broadcast into a new
// tensor of `output`'s dtype.
template <typename Row>
Tensor run_rows(const Tensor& a, const Tensor& b, const Shape& out_shape, DType output,
                const ElementwiseKernels& kernels, Row row) {
  Tensor y(output, out_shape);
  if (y.numel() == 0) return y;
  const BroadcastRows rows = broadcast_rows(a.shape(), b.shape(), out_shape);
  const auto* a_bytes = static_cast<const uint8_t*>(a.raw());
  const auto* b_bytes = static_cast<const uint8_t*>(b.raw());
  auto* y_bytes = static_cast<uint8_t*>(y.raw());
  const int64_t row_bytes = rows.count * static_cast<int64_t>(dtype_size(output));
  const bool tables =
      eight_bit(output) && rows.count >= kTableRow && (rows.a_step == 0) != (rows.b_step == 0);
  std::array<uint8_t, 256> bytes{}, table{};
  for (int byte = 0; byte < 256; ++byte)
    bytes[static_cast<size_t>(byte)] = static_cast<uint8_t>(byte);
  for (size_t r = 0; r < rows.a_offsets.size(); ++r) {
    const uint8_t* ar = a_bytes + rows.a_offsets[r];
    const uint8_t* br = b_bytes + rows.b_offsets[r];
    uint8_t* yr = y_bytes + static_cast<int64_t>(r) * row_bytes;
    if (!tables) {
      row(ar, rows.a_step, br, rows.b_step, rows.count, yr);
    } else if (rows.a_step == 0) {
      row(ar, 0, bytes.data(), 1, 256, table.data());
      kernels.lookup_bytes(br, rows.count, table.data(), yr);
    } else {
      row(bytes.data(), 1, br, 0, 256, table.data());
      kernels.lookup_bytes(ar, rows.count, table.data(), yr);
    }
  }
  return y;
}

// Each raw byte's Add term round(((code − z) << left_shift) × M), negated for a
// subtracted operand, and the largest magnitude among them.
int64_t fill_terms(DType dtype, int32_t zero_point, int left_shift, Multiplier m, bool negate,
                   std::array<int32_t, 256>& terms) {
  const ByteOperand operand = byte_operand(dtype, zero_point);
  int64_t largest = 0;
  for (int byte = 0; byte < 256; ++byte) {
    const int32_t offset = int32_t{static_cast<int8_t>(static_cast<uint8_t>(byte) ^ operand.flip)} -
                           operand.zero_point;
    const int64_t term = multiply_by_multiplier(offset * (int32_t{1} << left_shift), m);
    largest = std::max(largest, term < 0 ? -term : term);
    // Stored only when it fits; the caller drops the tables otherwise.
    if (largest <= std::numeric_limits<int32_t>::max()) {
      terms[static_cast<size_t>(byte)] = static_cast<int32_t>(negate ? -term : term);
    }
  }
  return largest;
}

}  // namespace

std::optional<Tensor> add(const Tensor& a, const Tensor& b, const AddParams& params,
                          const Shape& out_shape, const ElementwiseKernels& kernels) {
  if (!eight_bit(a.dtype()) || !eight_bit(b.dtype())) return std::nullopt;
  std::array<int32_t, 256> a_terms{}, b_terms{};
  const int64_t a_max = fill_terms(a.dtype(), params.a_zero_point, params.left_shift,
                                   params.a_multiplier, false, a_terms);
  const int64_t b_max = fill_terms(b.dtype(), params.b_zero_point, params.left_shift,
                                   params.b_multiplier, params.subtract, b_terms);
  // The reference sums the terms in int64; in int32 only when no sum can leave it.
  if (a_max + b_max > std::numeric_limits<int32_t>::max()) return std::nullopt;
  AddRow row;
  row.a = byte_operand(a.dtype(), params.a_zero_point);
  row.b = byte_operand(b.dtype(), params.b_zero_point);
  row.left_shift = params.left_shift;
  row.subtract = params.subtract;
  row.output_multiplier = params.output_multiplier;
  row.a_lane = lane_multiplier(params.a_multiplier);
  row.b_lane = lane_multiplier(params.b_multiplier);
  row.output_lane = lane_multiplier(params.output_multiplier);
  row.a_terms = a_terms.data();
  row.b_terms = b_terms.data();
  row.out = internal::output_codes(params.output);
  return run_rows(a, b, out_shape, params.output.dtype, kernels,
                  [&](const uint8_t* ar, int64_t as, const uint8_t* br, int64_t bs, int64_t count,
                      uint8_t* y) { kernels.add_row(ar, as, br, bs, count, row, y); });
}

std::optional<Tensor> mul(const Tensor& a, const Tensor& b, const MulParams& params,
                          const Shape& out_shape, const ElementwiseKernels& kernels) {
  if (!eight_bit(a.dtype()) || !eight_bit(b.dtype())) return std::nullopt;
  MulRow row;
  row.a = byte_operand(a.dtype(), params.a_zero_point);
  row.b = byte_operand(b.dtype(), params.b_zero_point);
  row.multiplier = params.multiplier;
  row.lane = lane_multiplier(params.multiplier);
  row.out = internal::output_codes(params.output);
  return run_rows(a, b, out_shape, params.output.dtype, kernels,
                  [&](const uint8_t* ar, int64_t as, const uint8_t* br, int64_t bs, int64_t count,
                      uint8_t* y) { kernels.mul_row(ar, as, br, bs, count, row, y); });
}

std::optional<Tensor> lookup(const Tensor& x, const LookupTable& table,
                             const ElementwiseKernels& kernels) {
  if (!eight_bit(x.dtype()) || !eight_bit(table.output_dtype)) return std::nullopt;
  // Entry byte of the byte table: the value of the code that byte holds.
  std::array<uint8_t, 256> bytes{};
  const int32_t qmin = dtype_qmin(x.dtype());
  for (int byte = 0; byte < 256; ++byte) {
    const int32_t code = x.dtype() == DType::kInt8 ? int32_t{static_cast<int8_t>(byte)} : byte;
    bytes[static_cast<size_t>(byte)] =
        static_cast<uint8_t>(table.values[static_cast<size_t>(code - qmin)]);
  }
  Tensor y(table.output_dtype, x.shape());
  kernels.lookup_bytes(static_cast<const uint8_t*>(x.raw()), x.numel(), bytes.data(),
                       static_cast<uint8_t*>(y.raw()));
  return y;
}

Rescaler::Rescaler(DType input, const Rescale& rescale, const OutputSpec& output,
                   const ElementwiseKernels& kernels)
    : input_(input), rescale_(rescale), output_(output), kernels_(kernels) {
  const bool unit = rescale.multiplier == Multiplier{int32_t{1} << 30, 1};  // exactly 1
  identity_ = input == output.dtype && unit && rescale.zero_point == output.zero_point &&
              output.min <= dtype_qmin(input) && output.max >= dtype_qmax(input);
  if (identity_ || !eight_bit(input) || !eight_bit(output.dtype)) return;
  bytes_.resize(256);
  for (int byte = 0; byte < 256; ++byte) {
    const int32_t code = input == DType::kInt8 ? int32_t{static_cast<int8_t>(byte)} : byte;
    bytes_[static_cast<size_t>(byte)] = static_cast<uint8_t>(requantize(
        code - rescale.zero_point, rescale.multiplier, output.zero_point, output.min, output.max));
  }
}

void Rescaler::run(const void* x, int64_t count, void* y) const {
  if (identity_) {
    std::memcpy(y, x, static_cast<size_t>(count) * dtype_size(input_));
  } else if (!bytes_.empty()) {
    kernels_.lookup_bytes(static_cast<const uint8_t*>(x), count, bytes_.data(),
                          static_cast<uint8_t*>(y));
  } else {
    detail::visit_codes(input_, x, [&](const auto* codes) {
      detail::visit_output(output_.dtype, y, [&](auto* values) {
        using T = std::remove_pointer_t<decltype(values)>;
        for (int64_t i = 0; i < count; ++i) {
          values[i] = static_cast<T>(requantize(codes[i] - rescale_.zero_point, rescale_.multiplier,
                                                output_.zero_point, output_.min, output_.max));
        }
      });
    });
  }
}

std::optional<Tensor> add(const Tensor& a, const Tensor& b, const AddParams& params,
                          const ElementwiseKernels& kernels) {
  return add(a, b, params, detail::check_add(a, b, params), kernels);
}

std::optional<Tensor> mul(const Tensor& a, const Tensor& b, const MulParams& params,
                          const ElementwiseKernels& kernels) {
  return mul(a, b, params, detail::check_mul(a, b, params), kernels);
}

}  // namespace lq::integer::optimized
