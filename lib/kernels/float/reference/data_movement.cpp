#include "kernels/float/reference/data_movement.hpp"

#include <algorithm>
#include <cstring>

namespace lq::kernels {

int64_t normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank, const char* what) {
  if (axis < -rank || axis >= rank) {
    ctx.fail(StatusCode::kInvalidArgument, "{} {} is out of range [{}, {}] for rank {}", what, axis,
             -rank, rank - 1, rank);
  }
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> int_list_input(const KernelContext& ctx, size_t index) {
  ctx.require_dtype(index, {DType::kInt32, DType::kInt64});
  return ctx.input(index).to_int64s();
}

std::vector<int64_t> row_major_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

std::vector<uint8_t> element_bytes(DType dtype, double value) {
  const Tensor converted = Tensor::scalar<double>(value).cast(dtype);
  const auto* bytes = static_cast<const uint8_t*>(converted.raw());
  return std::vector<uint8_t>(bytes, bytes + dtype_size(dtype));
}

namespace {

struct RowGather {
  const std::vector<std::vector<int64_t>>& offsets;
  const Shape& shape;  // output shape, rank >= 1
  const uint8_t* src;
  uint8_t* dst;
  const uint8_t* fill;
  bool inner_contiguous;  // the last axis reads consecutive input elements
  bool inner_has_fill;
};

// Copies output rows [begin, end) (a row is one run of the last axis). kSize is the
// element size in bytes; fixed-size memcpy compiles to a single move.
template <size_t kSize>
void gather_rows(const RowGather& g, int64_t begin, int64_t end) {
  const size_t rank = g.shape.size();
  const int64_t inner = g.shape[rank - 1];
  const int64_t* inner_offsets = g.offsets[rank - 1].data();
  std::vector<int64_t> index(rank - 1);
  int64_t rest = begin;
  for (size_t d = rank - 1; d-- > 0;) {
    index[d] = rest % g.shape[d];
    rest /= g.shape[d];
  }
  const size_t row_bytes = static_cast<size_t>(inner) * kSize;
  int64_t previous_base = kFillOffset;
  for (int64_t row = begin; row < end; ++row) {
    int64_t base = 0;
    bool row_is_fill = false;
    for (size_t d = 0; d + 1 < rank && !row_is_fill; ++d) {
      const int64_t offset = g.offsets[d][static_cast<size_t>(index[d])];
      row_is_fill = offset == kFillOffset;
      base += offset;
    }
    uint8_t* out = g.dst + row * static_cast<int64_t>(row_bytes);
    if (row_is_fill) {
      for (int64_t i = 0; i < inner; ++i) std::memcpy(out + i * kSize, g.fill, kSize);
      base = kFillOffset;
    } else if (base == previous_base) {
      // The same source row as the previous output row (upsampling, tiling): copy it.
      std::memcpy(out, out - row_bytes, row_bytes);
    } else if (g.inner_contiguous) {
      std::memcpy(out, g.src + (base + inner_offsets[0]) * static_cast<int64_t>(kSize), row_bytes);
    } else if (!g.inner_has_fill) {
      for (int64_t i = 0; i < inner; ++i) {
        std::memcpy(out + i * kSize, g.src + (base + inner_offsets[i]) * kSize, kSize);
      }
    } else {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t offset = inner_offsets[i];
        std::memcpy(out + i * kSize,
                    offset == kFillOffset ? g.fill : g.src + (base + offset) * kSize, kSize);
      }
    }
    previous_base = base;
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < g.shape[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

void gather_by_axis_offsets(const KernelContext& ctx, const Tensor& in,
                            const std::vector<std::vector<int64_t>>& offsets, Tensor& out,
                            const uint8_t* fill) {
  static constexpr uint8_t kZeroElement[8] = {};
  const size_t element_size = dtype_size(in.dtype());
  const auto* src = static_cast<const uint8_t*>(in.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  if (fill == nullptr) fill = kZeroElement;
  if (out.numel() == 0) return;
  if (out.rank() == 0) {
    std::memcpy(dst, src, element_size);
    return;
  }
  const std::vector<int64_t>& inner = offsets.back();
  bool contiguous = true;
  bool has_fill = false;
  for (size_t i = 0; i < inner.size(); ++i) {
    has_fill = has_fill || inner[i] == kFillOffset;
    contiguous = contiguous && inner[i] == inner[0] + static_cast<int64_t>(i);
  }
  const RowGather g{offsets, out.shape(), src, dst, fill, contiguous && !has_fill, has_fill};
  const int64_t rows = out.numel() / out.shape().back();
  const int64_t grain = std::max<int64_t>(1, 32768 / out.shape().back());
  ctx.pool.parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        switch (element_size) {
          case 1:
            gather_rows<1>(g, begin, end);
            break;
          case 2:
            gather_rows<2>(g, begin, end);
            break;
          case 4:
            gather_rows<4>(g, begin, end);
            break;
          default:
            gather_rows<8>(g, begin, end);
            break;
        }
      },
      grain);
}

void permute_copy(const KernelContext& ctx, const Tensor& in, const Shape& in_shape,
                  const std::vector<int64_t>& perm, Tensor& out) {
  const std::vector<int64_t> strides = row_major_strides(in_shape);
  std::vector<std::vector<int64_t>> offsets(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    const auto axis = static_cast<size_t>(perm[d]);
    offsets[d].resize(static_cast<size_t>(in_shape[axis]));
    for (size_t j = 0; j < offsets[d].size(); ++j) {
      offsets[d][j] = static_cast<int64_t>(j) * strides[axis];
    }
  }
  gather_by_axis_offsets(ctx, in, offsets, out);
}

std::vector<int64_t> offsets_except_axis(const Shape& shape, const std::vector<int64_t>& strides,
                                         size_t skip_axis) {
  std::vector<int64_t> offsets(static_cast<size_t>(shape_numel(shape)));
  std::vector<int64_t> index(shape.size(), 0);
  int64_t offset = 0;
  for (size_t n = 0; n < offsets.size(); ++n) {
    offsets[n] = offset;
    for (size_t d = shape.size(); d-- > 0;) {
      const int64_t step = d == skip_axis ? 0 : strides[d];
      if (++index[d] < shape[d]) {
        offset += step;
        break;
      }
      offset -= step * (shape[d] - 1);
      index[d] = 0;
    }
  }
  return offsets;
}

std::vector<int64_t> element_positions(const KernelContext& ctx, const Shape& data,
                                       const Shape& indices, size_t axis, size_t indices_input) {
  bool fits = indices.size() == data.size();
  for (size_t d = 0; fits && d < data.size(); ++d) fits = d == axis || indices[d] <= data[d];
  if (!fits) {
    ctx.fail_input(indices_input,
                   "indices shape {} must have the rank of data {} and no larger dimension "
                   "outside axis {}",
                   shape_str(indices), shape_str(data), axis);
  }
  return offsets_except_axis(indices, row_major_strides(data), axis);
}

std::vector<int64_t> axis_indices(const KernelContext& ctx, size_t input, int64_t dim) {
  std::vector<int64_t> indices = int_list_input(ctx, input);
  for (int64_t& i : indices) {
    if (i < -dim || i >= dim) {
      ctx.fail_input(input, "index {} is out of range [{}, {}]", i, -dim, dim - 1);
    }
    if (i < 0) i += dim;
  }
  return indices;
}

ScatterReduction scatter_reduction(const KernelContext& ctx) {
  const std::string name = ctx.node.attr_string("reduction", "none");
  if (name == "none") return ScatterReduction::kNone;
  if (name == "add") return ScatterReduction::kAdd;
  if (name == "mul") return ScatterReduction::kMul;
  if (name == "max") return ScatterReduction::kMax;
  if (name == "min") return ScatterReduction::kMin;
  ctx.fail(StatusCode::kInvalidModel, "reduction '{}' is not one of none, add, mul, max, min",
           name);
}

namespace {

template <typename T>
T reduce_pair(ScatterReduction reduction, T current, T update) {
  switch (reduction) {
    case ScatterReduction::kAdd:
      return static_cast<T>(current + update);
    case ScatterReduction::kMul:
      return static_cast<T>(current * update);
    case ScatterReduction::kMax:
      return std::max(current, update);
    case ScatterReduction::kMin:
      return std::min(current, update);
    case ScatterReduction::kNone:
      break;
  }
  return update;
}

}  // namespace

void scatter_blocks(const KernelContext& ctx, ScatterReduction reduction, const Tensor& updates,
                    const std::vector<int64_t>& out_offsets, int64_t block, Tensor& out) {
  const auto count = static_cast<int64_t>(out_offsets.size());
  if (reduction == ScatterReduction::kNone) {
    const size_t size = dtype_size(out.dtype());
    const auto* src = static_cast<const uint8_t*>(updates.raw());
    auto* dst = static_cast<uint8_t*>(out.raw());
    for (int64_t k = 0; k < count; ++k) {
      std::memcpy(dst + out_offsets[static_cast<size_t>(k)] * size, src + k * block * size,
                  static_cast<size_t>(block) * size);
    }
    return;
  }
  const bool supported = visit_numeric(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = updates.data<T>();
    T* dst = out.data<T>();
    for (int64_t k = 0; k < count; ++k) {
      T* target = dst + out_offsets[static_cast<size_t>(k)];
      for (int64_t i = 0; i < block; ++i) {
        target[i] = reduce_pair(reduction, target[i], src[k * block + i]);
      }
    }
  });
  if (!supported) {
    ctx.fail(StatusCode::kUnsupported, "reduction '{}' is not supported for dtype {}",
             ctx.node.attr_string("reduction", "none"), dtype_name(out.dtype()));
  }
}

}  // namespace lq::kernels
