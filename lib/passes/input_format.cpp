// Input formats (hb_compile's input_type_rt / norm_type): the conversion from the pixels a
// camera or decoder hands over to the tensor the float model was trained on, folded into
// the graph so that the program takes raw pixels. Everything after the raw input is plain
// graph ops the Quantizer and Compiler already handle: Slice/Reshape/Transpose/Tile/Concat
// move integer codes (nv12 chroma upsampling, layout), and one Conv 1x1 carries the
// YUV -> RGB matrix, the channel order, the mean and the scale.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "libquant/graph.hpp"

namespace lq {

namespace {

struct FormatName {
  PixelFormat format;
  const char* name;
};
constexpr FormatName kFormats[] = {
    {PixelFormat::kFeatureMap, "featuremap"}, {PixelFormat::kRGB, "rgb"},       {PixelFormat::kBGR, "bgr"},
    {PixelFormat::kGray, "gray"},             {PixelFormat::kYUV444, "yuv444"}, {PixelFormat::kNV12, "nv12"},
};

// Which runtime formats each train format may be fed from (hb_compile's table; rows are
// the train format).
bool allowed(PixelFormat train, PixelFormat runtime) {
  using F = PixelFormat;
  switch (train) {
    case F::kYUV444: return runtime == F::kNV12 || runtime == F::kYUV444;
    case F::kRGB:
    case F::kBGR: return runtime == F::kNV12 || runtime == F::kYUV444 || runtime == F::kRGB || runtime == F::kBGR;
    case F::kGray: return runtime == F::kGray;
    case F::kFeatureMap: return runtime == F::kFeatureMap;
  }
  return false;
}

std::string allowed_list(PixelFormat train) {
  std::vector<std::string> names;
  for (const FormatName& f : kFormats) {
    if (allowed(train, f.format)) names.push_back(f.name);
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

int channels_of(PixelFormat f) { return f == PixelFormat::kGray ? 1 : 3; }
bool is_yuv(PixelFormat f) { return f == PixelFormat::kYUV444 || f == PixelFormat::kNV12; }

struct TrainGeometry {
  Layout layout;
  int64_t n, c, h, w;
};

TrainGeometry geometry(const std::string& input, const InputFormat& format, const Shape& shape) {
  if (shape.size() != 4) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\": runtime format {} needs a 4-D image input, the model's is {}",
                            input, pixel_format_name(format.runtime), shape_str(shape)));
  }
  const int64_t want = channels_of(format.train);
  Layout layout = Layout::kNCHW;
  if (format.train_layout) {
    layout = *format.train_layout;
  } else if (shape[1] != want && shape[3] == want) {
    layout = Layout::kNHWC;
  }
  TrainGeometry g{layout, shape[0], 0, 0, 0};
  if (layout == Layout::kNCHW) {
    g.c = shape[1], g.h = shape[2], g.w = shape[3];
  } else {
    g.h = shape[1], g.w = shape[2], g.c = shape[3];
  }
  if (g.c != want) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\": train format {} has {} channel(s), the model's input {} ({}) has {}",
                            input, pixel_format_name(format.train), want, shape_str(shape),
                            layout == Layout::kNCHW ? "NCHW" : "NHWC", g.c));
  }
  return g;
}

std::vector<float> per_channel(const std::string& input, const std::vector<float>& values, int64_t channels,
                               float fallback, const char* what) {
  if (values.empty()) return std::vector<float>(static_cast<size_t>(channels), fallback);
  if (values.size() == 1) return std::vector<float>(static_cast<size_t>(channels), values[0]);
  if (static_cast<int64_t>(values.size()) != channels) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\": {} {} values given for {} channels (give 1 or {})", input, values.size(),
                            what, channels, channels));
  }
  return values;
}

Value* constant(Graph& graph, const std::string& base, Tensor data) {
  Value* v = graph.add_value(graph.unique_name(base));
  graph.set_initializer(v, std::move(data));
  return v;
}

Value* ints(Graph& graph, const std::string& base, const std::vector<int64_t>& values) {
  return constant(graph, base, Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values));
}

Attribute ints_attr(const std::vector<int64_t>& values) {
  Attribute a;
  a.type = AttrType::kInts;
  a.ints = values;
  return a;
}

Attribute int_attr(int64_t value) {
  Attribute a;
  a.type = AttrType::kInt;
  a.i = value;
  return a;
}

class Builder {
 public:
  Builder(Graph& graph, std::string prefix) : graph_(graph), prefix_(std::move(prefix)) {}

  Value* node(const std::string& op, std::vector<Value*> inputs, const Shape& shape,
              std::map<std::string, Attribute> attrs = {}) {
    Value* out = graph_.add_value(graph_.unique_name(prefix_ + "/" + op + "_out"));
    out->type().dtype = DType::kFloat32;
    out->type().has_shape = true;
    for (int64_t d : shape) out->type().dims.push_back(Dim{d, ""});
    Node* n = graph_.add_node(op, inputs, {out}, graph_.unique_name(prefix_ + "/" + op));
    for (auto& [k, a] : attrs) n->set_attr(k, std::move(a));
    return out;
  }
  Value* reshape(Value* x, const Shape& shape) {
    return node("Reshape", {x, ints(graph_, prefix_ + "/shape", shape)}, shape);
  }
  Value* transpose(Value* x, const std::vector<int64_t>& perm, const Shape& shape) {
    return node("Transpose", {x}, shape, {{"perm", ints_attr(perm)}});
  }
  Value* slice(Value* x, int64_t axis, int64_t start, int64_t end, const Shape& shape) {
    if (graph_.opset() < 10) {
      return node("Slice", {x}, shape,
                  {{"starts", ints_attr({start})}, {"ends", ints_attr({end})}, {"axes", ints_attr({axis})}});
    }
    return node("Slice",
                {x, ints(graph_, prefix_ + "/starts", {start}), ints(graph_, prefix_ + "/ends", {end}),
                 ints(graph_, prefix_ + "/axes", {axis})},
                shape);
  }
  Graph& graph() { return graph_; }
  const std::string& prefix() const { return prefix_; }

 private:
  Graph& graph_;
  std::string prefix_;
};

}  // namespace

const char* pixel_format_name(PixelFormat format) {
  for (const FormatName& f : kFormats) {
    if (f.format == format) return f.name;
  }
  return "?";
}

PixelFormat parse_pixel_format(const std::string& name) {
  for (const FormatName& f : kFormats) {
    if (name == f.name) return f.format;
  }
  std::vector<std::string> names;
  for (const FormatName& f : kFormats) names.push_back(f.name);
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("unknown input format \"{}\": one of {}", name, fmt::join(names, ", ")));
}

void yuv_to_rgb_matrix(YuvRange range, float matrix[9], float offset[3]) {
  // BT.601: Y = Kr R + (1 - Kr - Kb) G + Kb B, U = (B - Y) / (2 (1 - Kb)), V = (R - Y) / (2 (1 - Kr)).
  constexpr double kr = 0.299, kb = 0.114, kg = 1.0 - kr - kb;
  // Full range: y = Y, u = U + 128, v = V + 128. Video: y = 16 + 219/255 Y, chroma 224/255.
  const double ys = range == YuvRange::kVideo ? 255.0 / 219.0 : 1.0;
  const double cs = range == YuvRange::kVideo ? 255.0 / 224.0 : 1.0;
  const double y0 = range == YuvRange::kVideo ? 16.0 : 0.0;
  const double rv = 2.0 * (1.0 - kr) * cs;
  const double bu = 2.0 * (1.0 - kb) * cs;
  const double gu = -bu * kb / kg;
  const double gv = -rv * kr / kg;
  const double m[9] = {ys, 0.0, rv, ys, gu, gv, ys, bu, 0.0};
  for (int i = 0; i < 9; ++i) matrix[i] = static_cast<float>(m[i]);
  for (int r = 0; r < 3; ++r) {
    offset[r] = static_cast<float>(-(m[r * 3] * y0 + (m[r * 3 + 1] + m[r * 3 + 2]) * 128.0));
  }
}

Shape runtime_input_shape(const std::string& input, const InputFormat& format, const Shape& train_shape) {
  if (format.runtime == PixelFormat::kFeatureMap && format.train == PixelFormat::kFeatureMap) return train_shape;
  if (format.runtime == PixelFormat::kFeatureMap || format.train == PixelFormat::kFeatureMap ||
      !allowed(format.train, format.runtime)) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\": a model trained on {} cannot take {} at run time (allowed: {})", input,
                            pixel_format_name(format.train), pixel_format_name(format.runtime),
                            allowed_list(format.train)));
  }
  if (format.range == YuvRange::kVideo &&
      !(is_yuv(format.runtime) && (format.train == PixelFormat::kRGB || format.train == PixelFormat::kBGR))) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\": the BT.601 video range applies to yuv444 or nv12 pixels converted to "
                            "rgb or bgr, not {} to {}",
                            input, pixel_format_name(format.runtime), pixel_format_name(format.train)));
  }
  const TrainGeometry g = geometry(input, format, train_shape);
  if (format.runtime == PixelFormat::kNV12) {
    if (g.h % 2 != 0 || g.w % 2 != 0) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input \"{}\": nv12 needs an even height and width (4:2:0 chroma covers 2x2 "
                              "pixels), the model's input is {}x{}; give an even --input-shape",
                              input, g.h, g.w));
    }
    return {g.n, g.h * 3 / 2, g.w};
  }
  const int64_t c = channels_of(format.runtime);
  return format.runtime_layout == Layout::kNCHW ? Shape{g.n, c, g.h, g.w} : Shape{g.n, g.h, g.w, c};
}

std::vector<std::string> fuse_input_format(Graph& graph, const std::string& input, const InputFormat& format) {
  Value* raw = graph.find_value(input);
  if (!raw || !raw->is_graph_input()) {
    std::vector<std::string> names;
    for (const Value* v : graph.inputs()) names.push_back(v->name());
    throw Error(StatusCode::kNotFound, fmt::format("input format for \"{}\": the model has no input of that "
                                                   "name; its inputs are {}", input, fmt::join(names, ", ")));
  }
  if (format.runtime == PixelFormat::kFeatureMap && format.train == PixelFormat::kFeatureMap &&
      format.mean.empty() && format.scale.empty()) {
    return {};
  }
  if (!raw->type().is_static()) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\" has dynamic shape {}: give its shape to fold the {} input format "
                            "(lquant: --input-shape {}=...)",
                            input, raw->type().str(), pixel_format_name(format.runtime), input));
  }
  if (raw->is_graph_output()) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("input \"{}\" is also a graph output; an input format cannot be folded", input));
  }
  const Shape train_shape = raw->type().static_shape();
  const Shape runtime_shape = runtime_input_shape(input, format, train_shape);
  const TrainGeometry g = geometry(input, format, train_shape);

  // The model's input becomes an inner value; `raw` (the same graph input, same name) takes
  // the pixels.
  Value* normalized = graph.add_value(graph.unique_name(input + "/normalized"));
  normalized->type() = raw->type();
  graph.replace_all_uses(raw, normalized);
  raw->type().dtype = DType::kFloat32;
  raw->type().dims.clear();
  for (int64_t d : runtime_shape) raw->type().dims.push_back(Dim{d, ""});

  Builder b(graph, input + "/" + pixel_format_name(format.runtime));
  const int64_t n = g.n, h = g.h, w = g.w;
  Value* planar = raw;  // NCHW pixels in the runtime format's channels
  if (format.runtime == PixelFormat::kNV12) {
    Value* y = b.slice(raw, 1, 0, h, {n, h, w});
    y = b.reshape(y, {n, 1, h, w});
    Value* uv = b.slice(raw, 1, h, h * 3 / 2, {n, h / 2, w});
    uv = b.reshape(uv, {n, h / 2, w / 2, 2});
    uv = b.transpose(uv, {0, 3, 1, 2}, {n, 2, h / 2, w / 2});
    // Each chroma sample covers 2x2 pixels: repeat it along both axes.
    uv = b.reshape(uv, {n, 2, h / 2, 1, w / 2, 1});
    uv = b.node("Tile", {uv, ints(graph, b.prefix() + "/repeats", {1, 1, 1, 2, 1, 2})}, {n, 2, h / 2, 2, w / 2, 2});
    uv = b.reshape(uv, {n, 2, h, w});
    planar = b.node("Concat", {y, uv}, {n, 3, h, w}, {{"axis", int_attr(1)}});
  } else if (format.runtime_layout == Layout::kNHWC) {
    planar = b.transpose(raw, {0, 3, 1, 2}, {n, channels_of(format.runtime), h, w});
  }

  // train channel = scale * (sum_k m[c][k] * planar[k] + offset[c] - mean), with m the
  // colour conversion from the runtime channels to the train channels.
  const int64_t in_c = channels_of(format.runtime);
  const int64_t out_c = g.c;
  std::vector<double> m(static_cast<size_t>(out_c * in_c), 0.0);
  std::vector<double> offset(static_cast<size_t>(out_c), 0.0);
  const bool yuv_in = is_yuv(format.runtime);
  const bool yuv_out = format.train == PixelFormat::kYUV444;
  if (yuv_in && !yuv_out) {
    float mat[9], off[3];
    yuv_to_rgb_matrix(format.range, mat, off);
    for (int64_t c = 0; c < 3; ++c) {
      const int64_t rgb = format.train == PixelFormat::kBGR ? 2 - c : c;
      for (int64_t k = 0; k < 3; ++k) m[static_cast<size_t>(c * 3 + k)] = mat[rgb * 3 + k];
      offset[static_cast<size_t>(c)] = off[rgb];
    }
  } else {
    // Same channels, or RGB <-> BGR: a permutation.
    const bool swap = (format.runtime == PixelFormat::kRGB && format.train == PixelFormat::kBGR) ||
                      (format.runtime == PixelFormat::kBGR && format.train == PixelFormat::kRGB);
    for (int64_t c = 0; c < out_c; ++c) m[static_cast<size_t>(c * in_c + (swap ? 2 - c : c))] = 1.0;
  }
  const std::vector<float> mean = per_channel(input, format.mean, out_c, 0.0f, "mean");
  const std::vector<float> scale = per_channel(input, format.scale, out_c, 1.0f, "scale");
  Tensor weight(DType::kFloat32, {out_c, in_c, 1, 1});
  Tensor bias(DType::kFloat32, {out_c});
  for (int64_t c = 0; c < out_c; ++c) {
    for (int64_t k = 0; k < in_c; ++k) {
      weight.data<float>()[c * in_c + k] = static_cast<float>(scale[c] * m[static_cast<size_t>(c * in_c + k)]);
    }
    bias.data<float>()[c] = static_cast<float>(scale[c] * (offset[static_cast<size_t>(c)] - mean[c]));
  }
  Value* conv_w = constant(graph, b.prefix() + "/weight", weight);
  Value* conv_b = constant(graph, b.prefix() + "/bias", bias);
  const bool nhwc = g.layout == Layout::kNHWC;
  Value* converted = b.node("Conv", {planar, conv_w, conv_b}, {n, out_c, h, w},
                            {{"kernel_shape", ints_attr({1, 1})}});
  if (nhwc) converted = b.transpose(converted, {0, 2, 3, 1}, {n, h, w, out_c});
  // The last node writes the model's input value itself.
  Node* last = converted->producer();
  std::vector<Value*> last_inputs = last->inputs();
  const std::string op = last->op_type();
  const std::map<std::string, Attribute> attrs = last->attributes();
  const std::string name = last->name();
  graph.remove_node(last);
  Node* writer = graph.add_node(op, last_inputs, {normalized}, name);
  for (const auto& [k, a] : attrs) writer->set_attr(k, a);
  graph.remove_unused_values();
  graph.topological_sort();
  graph.verify();
  // Every value from the raw input to the Conv's input (data movement only).
  std::vector<std::string> pixels = {raw->name()};
  std::vector<const Value*> stack = {planar};
  while (!stack.empty()) {
    const Value* v = stack.back();
    stack.pop_back();
    if (v == raw || std::find(pixels.begin(), pixels.end(), v->name()) != pixels.end()) continue;
    pixels.push_back(v->name());
    for (const Value* in : v->producer()->inputs()) {
      if (in && !in->is_constant()) stack.push_back(in);
    }
  }
  return pixels;
}

}  // namespace lq
