#include "kernels/integer/common.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace lq::integer {



bool accumulator_is_int64(int64_t terms, int64_t a_max, int64_t b_max, int64_t bias_max) {
  int64_t product = 0, bound = 0;
  const bool overflows = __builtin_mul_overflow(a_max, b_max, &product) ||
                         __builtin_mul_overflow(product, terms, &product) ||
                         __builtin_add_overflow(product, bias_max, &bound);
  return overflows || bound > std::numeric_limits<int32_t>::max();
}

namespace detail {

namespace {

std::string dtype_list(std::initializer_list<DType> dtypes) {
  std::string names;
  for (DType d : dtypes) names += std::string(names.empty() ? "" : ", ") + dtype_name(d);
  return names;
}

// Calls f(pointer) with the typed elements of an integer tensor (int4 as int8).
template <typename F>
void visit_integer(const Tensor& t, F&& f) {
  switch (t.dtype()) {
    case DType::kInt4:
    case DType::kInt8:
      f(static_cast<const int8_t*>(t.raw()));
      return;
    case DType::kUInt8:
      f(static_cast<const uint8_t*>(t.raw()));
      return;
    case DType::kInt16:
      f(static_cast<const int16_t*>(t.raw()));
      return;
    case DType::kInt32:
      f(static_cast<const int32_t*>(t.raw()));
      return;
    default:
      throw Error(StatusCode::kInternal,
                  fmt::format("integer kernels cannot read {}", dtype_name(t.dtype())));
  }
}

}  // namespace

void require_dtype(const char* op, const char* what, const Tensor& t,
                   std::initializer_list<DType> allowed) {
  if (std::find(allowed.begin(), allowed.end(), t.dtype()) == allowed.end()) {
    fail(op, "{} has dtype {}, expected one of {}", what, dtype_name(t.dtype()),
         dtype_list(allowed));
  }
}

void require_data(const char* op, const char* what, const Tensor& t) {
  require_dtype(op, what, t, {DType::kInt8, DType::kUInt8, DType::kInt16});
}

void require_weight(const char* op, const char* what, const Tensor& t) {
  require_dtype(op, what, t, {DType::kInt4, DType::kInt8, DType::kUInt8, DType::kInt16});
  if (t.dtype() != DType::kInt4) return;
  const auto* v = static_cast<const int8_t*>(t.raw());
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (v[i] < -8 || v[i] > 7) {
      fail(op, "{} is int4 but element {} holds {}, outside [-8, 7]", what, i, v[i]);
    }
  }
}

void check_zero_point(const char* op, const char* what, DType dtype, int32_t zero_point) {
  if (zero_point < dtype_qmin(dtype) || zero_point > dtype_qmax(dtype)) {
    fail(op, "{} zero point {} is outside the {} range [{}, {}]", what, zero_point,
         dtype_name(dtype), dtype_qmin(dtype), dtype_qmax(dtype));
  }
}

void check_output_spec(const char* op, const OutputSpec& output) {
  if (output.dtype != DType::kInt8 && output.dtype != DType::kUInt8 &&
      output.dtype != DType::kInt16) {
    fail(op, "output dtype {} is not one of int8, uint8, int16", dtype_name(output.dtype));
  }
  check_zero_point(op, "output", output.dtype, output.zero_point);
  const int32_t qmin = dtype_qmin(output.dtype), qmax = dtype_qmax(output.dtype);
  if (output.min < qmin || output.max > qmax || output.min > output.max) {
    fail(op, "output clamp [{}, {}] is not an interval inside the {} range [{}, {}]", output.min,
         output.max, dtype_name(output.dtype), qmin, qmax);
  }
}

int64_t max_abs_offset(DType dtype, int32_t zero_point) {
  return std::max(std::abs(int64_t{dtype_qmin(dtype)} - zero_point),
                  std::abs(int64_t{dtype_qmax(dtype)} - zero_point));
}

std::vector<int32_t> widen(const Tensor& t, int32_t zero_point) {
  return widen(t, std::vector<int32_t>{zero_point}, 0);
}

std::vector<int32_t> widen(const Tensor& t, const std::vector<int32_t>& zero_points, size_t axis) {
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  const bool per_tensor = zero_points.size() == 1;
  const size_t channels = per_tensor ? 1 : static_cast<size_t>(t.dim(axis));
  // The elements are runs of `inner` sharing a channel, the runs cycling through channels.
  size_t inner = out.size();
  if (!per_tensor) {
    inner = 1;
    for (size_t d = axis + 1; d < t.rank(); ++d) inner *= static_cast<size_t>(t.dim(d));
  }
  visit_integer(t, [&](const auto* v) {
    for (size_t run = 0, i = 0; i < out.size(); ++run) {
      const int32_t zero_point = zero_points[run % channels];
      for (const size_t end = i + inner; i < end; ++i) out[i] = int32_t{v[i]} - zero_point;
    }
  });
  return out;
}

Tensor narrow(const OutputSpec& output, Shape shape, const std::vector<int32_t>& values) {
  Tensor out(output.dtype, std::move(shape));
  auto store = [&](auto* y) {
    using T = std::remove_pointer_t<decltype(y)>;
    for (size_t i = 0; i < values.size(); ++i) y[i] = static_cast<T>(values[i]);
  };
  switch (output.dtype) {
    case DType::kInt8:
      store(static_cast<int8_t*>(out.raw()));
      break;
    case DType::kUInt8:
      store(static_cast<uint8_t*>(out.raw()));
      break;
    case DType::kInt16:
      store(static_cast<int16_t*>(out.raw()));
      break;
    default:
      throw Error(StatusCode::kInternal,
                  fmt::format("integer kernels cannot write {}", dtype_name(output.dtype)));
  }
  return out;
}

void check_channel_list(const char* op, const char* what, size_t size, int64_t channels) {
  if (size != 1 && static_cast<int64_t>(size) != channels) {
    fail(op, "{} has {} entries, expected 1 or {} (one per output channel)", what, size, channels);
  }
}

void check_linear_quant(const char* op, const LinearQuant& quant, DType input, DType weight,
                        int64_t channels) {
  check_zero_point(op, "input", input, quant.input_zero_point);
  if (quant.multipliers.empty()) fail(op, "no requantization multipliers");
  check_channel_list(op, "multipliers", quant.multipliers.size(), channels);
  check_channel_list(op, "weight zero points", quant.weight_zero_points.size(), channels);
  for (int32_t zp : quant.weight_zero_points) check_zero_point(op, "weight", weight, zp);
  check_output_spec(op, quant.output);
}

bool linear_needs_int64(const LinearQuant& quant, DType input, DType weight, int64_t terms,
                        const std::vector<int64_t>& bias) {
  int64_t weight_max = 0;
  for (int32_t zp : quant.weight_zero_points) {
    weight_max = std::max(weight_max, max_abs_offset(weight, zp));
  }
  int64_t bias_max = 0;
  for (int64_t b : bias) bias_max = std::max(bias_max, std::abs(b));
  return accumulator_is_int64(terms, max_abs_offset(input, quant.input_zero_point), weight_max,
                              bias_max);
}

std::vector<int64_t> read_bias(const char* op, const Tensor* bias, int64_t channels) {
  if (bias == nullptr || bias->empty()) return {};
  require_dtype(op, "bias", *bias, {DType::kInt32, DType::kInt64});
  if (bias->rank() != 1 || bias->dim(0) != channels) {
    fail(op, "bias shape {} is not [{}] (one per output channel)", shape_str(bias->shape()),
         channels);
  }
  return bias->to_int64s();
}

Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      fail(op, "shapes {} and {} do not broadcast", shape_str(a), shape_str(b));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

kernels::Window make_window(const char* op, const std::vector<int64_t>& input,
                            const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                            const std::vector<int64_t>& dilations, const std::vector<int64_t>& pads,
                            bool ceil_mode) {
  const size_t rank = input.size();
  auto per_axis = [&](const std::vector<int64_t>& values, size_t count, int64_t fallback,
                      int64_t min_value, const char* name) {
    if (values.empty()) return std::vector<int64_t>(count, fallback);
    if (values.size() != count) {
      fail(op, "{} has {} values, expected {}", name, values.size(), count);
    }
    for (int64_t v : values) {
      if (v < min_value) fail(op, "{} has value {}, expected >= {}", name, v, min_value);
    }
    return values;
  };
  kernels::Window w;
  w.input = input;
  w.kernel = per_axis(kernel, rank, 1, 1, "kernel shape");
  w.strides = per_axis(strides, rank, 1, 1, "strides");
  w.dilations = per_axis(dilations, rank, 1, 1, "dilations");
  const std::vector<int64_t> all_pads = per_axis(pads, 2 * rank, 0, 0, "pads");
  w.pads_begin.assign(all_pads.begin(), all_pads.begin() + static_cast<std::ptrdiff_t>(rank));
  w.pads_end.assign(all_pads.begin() + static_cast<std::ptrdiff_t>(rank), all_pads.end());
  w.output.assign(rank, 0);
  for (size_t axis = 0; axis < rank; ++axis) {
    const int64_t padded = w.input[axis] + w.pads_begin[axis] + w.pads_end[axis];
    if (padded < w.span(axis)) {
      fail(op, "spatial axis {} has size {} (padded {}), smaller than the kernel extent {}", axis,
           w.input[axis], padded, w.span(axis));
    }
    const int64_t room = padded - w.span(axis);
    const int64_t stride = w.strides[axis];
    int64_t out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
    // A window that would start in the end padding sees no input (ONNX, PyTorch, ORT).
    if (ceil_mode && (out - 1) * stride >= w.input[axis] + w.pads_begin[axis]) --out;
    w.output[axis] = out;
  }
  return w;
}

kernels::Window pool_window(const char* op, const Tensor& x, const PoolWindow& window) {
  if (x.rank() < 3) {
    fail(op, "input shape {} has rank {}, expected N x C x D1... (rank >= 3)", shape_str(x.shape()),
         x.rank());
  }
  const std::vector<int64_t> input(x.shape().begin() + 2, x.shape().end());
  if (window.kernel.size() != input.size()) {
    fail(op, "kernel shape {} has {} axes, the input {} has {} spatial axes", shape_str(window.kernel),
         window.kernel.size(), shape_str(x.shape()), input.size());
  }
  return make_window(op, input, window.kernel, window.strides, window.dilations, window.pads,
                     window.ceil_mode);
}



std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

namespace {

// The fill value as one element of in's dtype.
std::vector<uint8_t> fill_element(const Tensor& in, int32_t fill) {
  std::vector<uint8_t> bytes(dtype_size(in.dtype()));
  visit_integer(in, [&](const auto* typed) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(typed)>>;
    const auto value = static_cast<T>(fill);
    std::memcpy(bytes.data(), &value, bytes.size());
  });
  return bytes;
}

// gather_axes on elements of T (the dtype's size): axes are walked outer to inner, a
// sub-block whose offset equals the previous one's is a copy of the output just written,
// a filled one is set to the fill, and the last axis is copied as runs when its offsets
// are mostly consecutive, else element by element.
template <typename T>
class Gather {
 public:
  Gather(const Tensor& in, const std::vector<std::vector<int64_t>>& offsets,
         const std::vector<uint8_t>& fill_bytes)
      : src_(static_cast<const T*>(in.raw())), offsets_(offsets), blocks_(offsets.size(), 1) {
    std::memcpy(&fill_, fill_bytes.data(), sizeof(T));
    for (size_t d = offsets.size(); d-- > 1;) {
      blocks_[d - 1] = blocks_[d] * static_cast<int64_t>(offsets[d].size());
    }
    if (!offsets.empty()) plan_last_axis(offsets.back());
  }

  void run(Tensor& out) {
    T* dst = static_cast<T*>(out.raw());
    if (offsets_.empty()) {
      dst[0] = src_[0];
    } else {
      axis(0, 0, dst);
    }
  }

 private:
  // A piece of the last axis: `length` outputs from consecutive inputs at `offset`, or fills.
  struct Run {
    int64_t start, length, offset;
  };

  void plan_last_axis(const std::vector<int64_t>& last) {
    for (size_t j = 0; j < last.size();) {
      size_t end = j + 1;
      if (last[j] == kFill) {
        while (end < last.size() && last[end] == kFill) ++end;
      } else {
        while (end < last.size() && last[end] != kFill && last[end] == last[end - 1] + 1) ++end;
      }
      runs_.push_back({static_cast<int64_t>(j), static_cast<int64_t>(end - j), last[j]});
      has_fill_ = has_fill_ || last[j] == kFill;
      j = end;
    }
    // Short runs (upsampling, transposes) cost more as copies than as single elements.
    by_runs_ = runs_.size() * 8 <= last.size();
  }

  void axis(size_t d, int64_t base, T* dst) {
    if (d + 1 == offsets_.size()) return last_axis(base, dst);
    const std::vector<int64_t>& at = offsets_[d];
    const int64_t block = blocks_[d];
    for (size_t j = 0; j < at.size(); ++j, dst += block) {
      if (at[j] == kFill) {
        std::fill(dst, dst + block, fill_);
      } else if (j > 0 && at[j] == at[j - 1]) {
        std::memcpy(dst, dst - block, static_cast<size_t>(block) * sizeof(T));
      } else {
        axis(d + 1, base + at[j], dst);
      }
    }
  }

  void last_axis(int64_t base, T* dst) const {
    const std::vector<int64_t>& at = offsets_.back();
    if (by_runs_) {
      for (const Run& run : runs_) {
        if (run.offset == kFill) {
          std::fill(dst + run.start, dst + run.start + run.length, fill_);
        } else {
          std::memcpy(dst + run.start, src_ + base + run.offset,
                      static_cast<size_t>(run.length) * sizeof(T));
        }
      }
    } else if (has_fill_) {
      for (size_t j = 0; j < at.size(); ++j) dst[j] = at[j] == kFill ? fill_ : src_[base + at[j]];
    } else {
      const T* src = src_ + base;
      for (size_t j = 0; j < at.size(); ++j) dst[j] = src[at[j]];
    }
  }

  const T* src_;
  const std::vector<std::vector<int64_t>>& offsets_;
  std::vector<int64_t> blocks_;  // output elements per step of each axis
  T fill_{};
  std::vector<Run> runs_;
  bool has_fill_ = false;
  bool by_runs_ = false;
};

}  // namespace

Tensor gather_axes(const Tensor& in, const std::vector<std::vector<int64_t>>& offsets,
                   int32_t fill) {
  Shape shape;
  for (const auto& axis : offsets) shape.push_back(static_cast<int64_t>(axis.size()));
  Tensor out(in.dtype(), shape);
  if (out.numel() == 0) return out;
  const std::vector<uint8_t> fill_bytes = fill_element(in, fill);
  switch (fill_bytes.size()) {
    case 1:
      Gather<uint8_t>(in, offsets, fill_bytes).run(out);
      break;
    case 2:
      Gather<uint16_t>(in, offsets, fill_bytes).run(out);
      break;
    case 4:
      Gather<uint32_t>(in, offsets, fill_bytes).run(out);
      break;
    default:
      throw Error(StatusCode::kInternal,
                  fmt::format("integer kernels cannot gather {}", dtype_name(in.dtype())));
  }
  return out;
}

Tensor gather_axes_reference(const Tensor& in, const std::vector<std::vector<int64_t>>& offsets,
                             int32_t fill) {
  Shape shape;
  for (const auto& axis : offsets) shape.push_back(static_cast<int64_t>(axis.size()));
  Tensor out(in.dtype(), shape);
  const size_t size = dtype_size(in.dtype());
  const std::vector<uint8_t> fill_bytes = fill_element(in, fill);
  const auto* src = static_cast<const uint8_t*>(in.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  const int64_t total = out.numel();
  const size_t rank = shape.size();
  std::vector<int64_t> index(rank, 0);
  for (int64_t o = 0; o < total; ++o) {
    int64_t offset = 0;
    bool filled = false;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t at = offsets[d][static_cast<size_t>(index[d])];
      filled = filled || at == kFill;
      offset += at;
    }
    std::memcpy(dst + o * static_cast<int64_t>(size),
                filled ? fill_bytes.data() : src + offset * static_cast<int64_t>(size), size);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace detail
}  // namespace lq::integer
