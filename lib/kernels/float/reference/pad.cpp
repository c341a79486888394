#include <algorithm>
#include <cstdint>

#include "kernels/float/reference/data_movement.hpp"

namespace lq::kernels {

namespace {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

PadMode pad_mode(const KernelContext& ctx) {
  const std::string mode = ctx.node.attr_string("mode", "constant");
  if (mode == "constant") return PadMode::kConstant;
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  if (mode == "wrap") return PadMode::kWrap;
  ctx.fail(StatusCode::kInvalidModel, "mode '{}' is not one of constant, reflect, edge, wrap",
           mode);
}

// Per axis [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}]: the `pads` attribute
// before opset 11, input 1 since, limited to the `axes` input (opset 18) if given.
std::vector<int64_t> full_pads(const KernelContext& ctx, int64_t rank) {
  const bool from_input = ctx.opset >= 11;
  if (!from_input && !ctx.node.has_attr("pads")) {
    ctx.fail(StatusCode::kInvalidModel, "attribute pads is missing");
  }
  const std::vector<int64_t> pads =
      from_input ? int_list_input(ctx, 1) : ctx.node.attr_ints("pads");
  std::vector<int64_t> axes;
  if (from_input && ctx.has_input(3)) {
    for (int64_t axis : int_list_input(ctx, 3))
      axes.push_back(normalize_axis(ctx, axis, rank, "axis"));
  } else {
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  if (pads.size() != 2 * axes.size()) {
    ctx.fail(StatusCode::kInvalidArgument, "pads {} must hold 2 x {} values (begins, then ends)",
             shape_str(pads), axes.size());
  }
  std::vector<int64_t> full(static_cast<size_t>(2 * rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    full[static_cast<size_t>(axes[i])] = pads[i];
    full[static_cast<size_t>(axes[i] + rank)] = pads[i + axes.size()];
  }
  return full;
}

// The fill element of constant mode: input 2 (opset 11) or the `value` attribute.
std::vector<uint8_t> pad_value(const KernelContext& ctx, const Tensor& data) {
  if (ctx.opset < 11) return element_bytes(data.dtype(), ctx.node.attr_float("value", 0.0f));
  if (!ctx.has_input(2)) return std::vector<uint8_t>(dtype_size(data.dtype()), 0);
  const Tensor& value = ctx.input(2);
  if (value.dtype() != data.dtype() || value.numel() != 1) {
    ctx.fail_input(2, "constant_value must be one {} value, got {}{}", dtype_name(data.dtype()),
                   dtype_name(value.dtype()), shape_str(value.shape()));
  }
  const auto* bytes = static_cast<const uint8_t*>(value.raw());
  return std::vector<uint8_t>(bytes, bytes + dtype_size(value.dtype()));
}

// Source index along one axis for each output position, or kFillOffset (constant
// mode). Negative pads crop first; the other modes then read the cropped range.
std::vector<int64_t> axis_sources(const KernelContext& ctx, size_t axis, int64_t dim, int64_t begin,
                                  int64_t end, PadMode mode) {
  const int64_t crop_begin = std::max<int64_t>(0, -begin);
  const int64_t kept = dim - crop_begin - std::max<int64_t>(0, -end);
  const int64_t pad_begin = std::max<int64_t>(0, begin);
  const int64_t out = kept + pad_begin + std::max<int64_t>(0, end);
  if (kept < 0) {
    ctx.fail(StatusCode::kInvalidArgument,
             "pads {} and {} remove more than the {} elements of axis {}", begin, end, dim, axis);
  }
  if (kept == 0 && out > 0 && mode != PadMode::kConstant) {
    ctx.fail(StatusCode::kInvalidArgument, "axis {} has no element left to pad from", axis);
  }
  std::vector<int64_t> sources(static_cast<size_t>(out));
  const int64_t period = 2 * (kept - 1);
  for (int64_t j = 0; j < out; ++j) {
    int64_t k = j - pad_begin;
    if (k < 0 || k >= kept) {
      switch (mode) {
        case PadMode::kConstant:
          k = kFillOffset;
          break;
        case PadMode::kEdge:
          k = std::clamp<int64_t>(k, 0, kept - 1);
          break;
        case PadMode::kWrap:
          k = (k % kept + kept) % kept;
          break;
        case PadMode::kReflect:
          if (period == 0) {
            k = 0;
          } else {
            k = (k % period + period) % period;
            if (k >= kept) k = period - k;
          }
          break;
      }
    }
    sources[static_cast<size_t>(j)] = k == kFillOffset ? k : crop_begin + k;
  }
  return sources;
}

}  // namespace

void pad(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const auto rank = static_cast<int64_t>(data.rank());
  const PadMode mode = pad_mode(ctx);
  const std::vector<int64_t> pads = full_pads(ctx, rank);
  const std::vector<uint8_t> fill = pad_value(ctx, data);
  const std::vector<int64_t> strides = row_major_strides(data.shape());
  Shape out_shape(data.rank());
  // The output shape first, checked before the per-axis source tables are built.
  for (size_t d = 0; d < data.rank(); ++d) {
    const int64_t begin = pads[d];
    const int64_t end = pads[d + data.rank()];
    int64_t length = 0;
    if (begin == INT64_MIN || end == INT64_MIN ||
        __builtin_add_overflow(data.dim(d), begin, &length) ||
        __builtin_add_overflow(length, end, &length)) {
      ctx.fail(StatusCode::kResourceExhausted, "pads {} and {} of axis {} give more elements than 64 bits count",
               begin, end, d);
    }
    out_shape[d] = std::max<int64_t>(length, 0);
  }
  ctx.check_output_size(0, data.dtype(), out_shape);
  std::vector<std::vector<int64_t>> offsets(data.rank());
  for (size_t d = 0; d < data.rank(); ++d) {
    offsets[d] = axis_sources(ctx, d, data.dim(d), pads[d], pads[d + data.rank()], mode);
    out_shape[d] = static_cast<int64_t>(offsets[d].size());
    for (int64_t& o : offsets[d]) {
      if (o != kFillOffset) o *= strides[d];
    }
  }
  gather_by_axis_offsets(ctx, data, offsets, ctx.make_output(0, data.dtype(), out_shape),
                         fill.data());
}

}  // namespace lq::kernels
