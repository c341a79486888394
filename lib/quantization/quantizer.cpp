// Quantizer: assigns QuantParams to every quantized value of a float graph.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "libquant/quantizer.hpp"
#include "graph/roles.hpp"
#include "quantization/target_capabilities.hpp"
#include "quantization/config_check.hpp"

namespace lq {

namespace {

// The smallest range a scale is derived from, so that all-zero data still gets a
// usable, finite scale (and biases on it stay inside int32).
constexpr double kMinMagnitude = 1e-6;

QuantParams params_from_range(Range range, DType dtype, bool symmetric, ScaleKind kind,
                              const std::string& method) {
  QuantParams p;
  p.dtype = dtype;
  p.method = method;
  range.min = std::min(range.min, 0.0);
  range.max = std::max(range.max, 0.0);
  p.range = range;
  const double qmin = dtype_qmin(dtype), qmax = dtype_qmax(dtype);
  if (symmetric || kind == ScaleKind::kPowerOfTwo) {
    const double magnitude = std::max({std::fabs(range.min), std::fabs(range.max), kMinMagnitude});
    // Unsigned symmetric types center on the middle code (uint8: 128).
    const int32_t zero_point = qmin == 0 ? static_cast<int32_t>((qmax + 1) / 2) : 0;
    const double positive_levels = qmax - zero_point;
    double scale = magnitude / positive_levels;
    if (kind == ScaleKind::kPowerOfTwo) scale = std::exp2(std::ceil(std::log2(scale)));
    p.scale = {static_cast<float>(scale)};
    p.zero_point = {zero_point};
    return p;
  }
  if (range.max - range.min < kMinMagnitude) range.max = range.min + kMinMagnitude;
  const double scale = (range.max - range.min) / (qmax - qmin);
  const double zero_point = std::clamp(std::nearbyint(qmin - range.min / scale), qmin, qmax);
  p.scale = {static_cast<float>(scale)};
  p.zero_point = {static_cast<int32_t>(zero_point)};
  return p;
}

QuantParams weight_params(const Tensor& weight, int axis, const ResolvedSpec& spec) {
  const std::vector<double> values = weight.to_doubles();
  const bool per_channel = spec.per_channel && axis >= 0 && weight.rank() > 1;
  const int64_t channels = per_channel ? weight.dim(static_cast<size_t>(axis)) : 1;
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(std::max(axis, 0)) + 1; per_channel && i < weight.rank(); ++i) inner *= weight.dim(i);
  std::vector<Range> ranges(static_cast<size_t>(channels), Range{0.0, 0.0});
  for (size_t i = 0; i < values.size(); ++i) {
    Range& r = ranges[per_channel ? (i / static_cast<size_t>(inner)) % static_cast<size_t>(channels) : 0];
    r.min = std::min(r.min, values[i]);
    r.max = std::max(r.max, values[i]);
  }
  QuantParams p;
  p.dtype = spec.weight_dtype;
  p.axis = per_channel ? axis : -1;
  p.method = "weights:max";
  for (const Range& r : ranges) {
    // A zero channel quantizes to zeros whatever its scale; give it the scale of [-1, 1] so
    // the bias scale (input scale x weight scale) stays reasonable.
    const bool zero = r.min == 0.0 && r.max == 0.0;
    const QuantParams one = params_from_range(zero ? Range{-1.0, 1.0} : r, spec.weight_dtype,
                                              spec.symmetric_weights, spec.scale_kind, p.method);
    p.scale.push_back(one.scale[0]);
    p.zero_point.push_back(one.zero_point[0]);
    p.range.min = std::min(p.range.min, r.min);
    p.range.max = std::max(p.range.max, r.max);
  }
  return p;
}

// Bias of a Conv/Gemm: int32 with scale input_scale x weight_scale (per channel).
// The bias runs along its last axis (Conv's [M], Gemm's [N] or [1, N]); a one-element bias
// has one scale, which per-channel weights cannot share (it stays float).
std::optional<QuantParams> bias_params(const QuantParams& input, const QuantParams& weight, const Tensor& bias) {
  if (input.per_channel()) return std::nullopt;
  const int64_t channels = bias.rank() == 0 ? 1 : bias.dim(bias.rank() - 1);
  if (weight.per_channel() && static_cast<int64_t>(weight.scale.size()) != channels) return std::nullopt;
  QuantParams p;
  p.dtype = DType::kInt32;
  p.method = "bias";
  p.axis = channels > 1 || bias.rank() > 0 ? static_cast<int>(bias.rank()) - 1 : -1;
  for (int64_t c = 0; c < channels; ++c) {
    const float w = weight.scale[weight.per_channel() ? static_cast<size_t>(c) : 0];
    p.scale.push_back(input.scale[0] * w);
    p.zero_point.push_back(0);
  }
  return p;
}

// The inputs over which `v`'s readers are not constant, when every reader saturates outside
// them: HardSigmoid outside [-beta/alpha, (1 - beta)/alpha], Clip outside its bounds, Relu
// and HardSwish below 0 and -3. A range clipped to it loses nothing (the clipped values give
// the same outputs) and gains resolution where the readers change: a Conv feeding an SE
// block's HardSigmoid ranges over [-16, 8] but only [-3, 3] matters.
std::optional<Range> saturation_domain(const Value& v) {
  if (v.is_graph_output() || v.uses().empty()) return std::nullopt;
  Range domain{INFINITY, -INFINITY};
  for (const Use& use : v.uses()) {
    const Node& n = *use.node;
    if (!n.domain().empty() || use.input_index != 0) return std::nullopt;
    Range r{-INFINITY, INFINITY};
    const std::string& op = n.op_type();
    if (op == "HardSigmoid") {
      const double alpha = n.attr_float("alpha", 0.2f), beta = n.attr_float("beta", 0.5f);
      if (!(alpha > 0.0)) return std::nullopt;
      r = Range{-beta / alpha, (1.0 - beta) / alpha};
    } else if (op == "HardSwish") {
      r.min = -3.0;
    } else if (op == "Relu" || op == "Clip") {
      const auto bounds = roles::clip_bounds(n);
      if (!bounds || bounds->first > bounds->second) return std::nullopt;
      r = Range{bounds->first, bounds->second};
    } else {
      return std::nullopt;
    }
    domain = Range{std::min(domain.min, r.min), std::max(domain.max, r.max)};
  }
  return domain;
}

// Constants this large are sentinels (masks, "minus infinity" fills), not data: no scale
// could hold them together with the data, and quantizing them to the end codes keeps what
// they mean (below or above everything else).
constexpr double kSentinel = 1e30;

bool is_sentinel(double x) { return std::fabs(x) >= kSentinel; }

// A constant-mode Pad filling with a sentinel.
bool has_sentinel_fill(const Node& node) {
  if (node.op_type() != "Pad" || !node.domain().empty() || node.attr_string("mode", "constant") != "constant") return false;
  double fill = node.attr_float("value", 0.0f);
  if (const Value* c = node.input(2)) {
    if (!c->is_constant() || c->initializer()->numel() != 1) return false;
    fill = c->initializer()->to_doubles()[0];
  }
  return is_sentinel(fill);
}

// int16 x int16 products accumulate in int64, where the bias at scale input x weight is
// exact to far below float precision: such a bias stays as it is.
bool is_wide(const Node& node, const QuantizedGraph& q) {
  const QuantParams* wp = node.input(1) ? q.find(node.input(1)->name()) : nullptr;
  const QuantParams* ip = node.input(0) ? q.find(node.input(0)->name()) : nullptr;
  return (wp && wp->dtype == DType::kInt16) || (ip && ip->dtype == DType::kInt16);
}

class Assigner {
 public:
  // `forced` replaces every activation's range method (kAuto's global candidates).
  Assigner(const QuantConfig& config, const CalibrationTable& table, AutoRangeChooser* chooser,
           QuantizedGraph& out, std::optional<RangeMethod> forced = std::nullopt)
      : config_(config), table_(table), chooser_(chooser), out_(out), graph_(out.graph), forced_(forced) {}

  void run() {
    // Weights first: kAuto measures activation ranges with the weights already quantized.
    for (Node* node : graph_.nodes()) {
      const ResolvedSpec spec = config_.resolve(*node);
      if (spec.quantize) assign_constants(*node, spec);
    }
    chain_inner_ = roles::elementwise_chain_inner(
        graph_, [this](const Node& n) { return config_.resolve(n).quantize; });
    for (Value* in : graph_.inputs()) assign_activation(*in, nullptr);
    for (Node* node : graph_.nodes()) {
      const ResolvedSpec spec = config_.resolve(*node);
      if (!spec.quantize) {
        out_.log.push_back(fmt::format("{} stays in float (quantize: false)", node->describe()));
        continue;
      }
      assign_node_outputs(*node);
    }
    if (fused_ > 0 && !forced_) {
      out_.log.push_back(fmt::format("{} outputs of Conv/Gemm/MatMul/Add/Sub/Mul read only by a Relu "
                                     "or Clip are quantized once, after the activation",
                                     fused_));
    }
    if (!chain_inner_.empty() && !forced_) {
      out_.log.push_back(fmt::format("{} values inside elementwise chains (e.g. the gate of x * "
                                     "HardSigmoid(x)) stay float: each chain is quantized at its end",
                                     chain_inner_.size()));
    }
    if (clipped_ > 0 && !forced_) {
      out_.log.push_back(fmt::format("{} ranges clipped to where their readers (HardSigmoid, Clip, "
                                     "Relu, HardSwish) do not saturate", clipped_));
    }
    spread_int16();
    for (const auto& [name, o] : config_.tensors) apply_override(name, o);
    for (Node* node : graph_.nodes()) {
      if (config_.resolve(*node).quantize) fit_multiplier(*node);
    }
    // Biases last: their scale is the final input scale times the weight scale.
    for (Node* node : graph_.nodes()) {
      if (config_.resolve(*node).quantize) assign_bias(*node);
    }
  }

 private:
  // Activation parameters from calibration statistics.
  void assign_activation(const Value& v, const Node* producer,
                         std::optional<DType> widened = std::nullopt) {
    if (v.type().dtype != DType::kFloat32 && v.type().dtype != DType::kUndefined) return;
    if (!roles::is_data_value(v)) return;
    if (const Node* activation = roles::fused_activation(v); activation && config_.resolve(*activation).quantize) {
      ++fused_;  // quantized once, after the activation
      return;
    }
    if (chain_inner_.count(&v)) return;  // quantized at the chain's end
    const Node* spec_node = producer ? producer : (v.uses().empty() ? nullptr : v.uses().front().node);
    const ResolvedSpec spec = spec_node ? config_.resolve(*spec_node) : config_.resolve_model();
    DType dtype = spec.activation_dtype;
    if (v.is_graph_input() && config_.input_dtype) dtype = *config_.input_dtype;
    if (v.is_graph_output() && config_.output_dtype) dtype = *config_.output_dtype;
    if (widened) dtype = *widened;
    const std::optional<Range> domain = saturation_domain(v);
    bool clipped = false;
    auto make = [&](Range range, const std::string& method) {
      if (domain && (range.min < domain->min || range.max > domain->max)) {
        Range c{std::clamp(range.min, domain->min, domain->max), std::clamp(range.max, domain->min, domain->max)};
        // A margin of 1 % keeps the saturation points themselves representable (the zero
        // point's rounding moves the grid by up to half a step).
        const double margin = 0.01 * (c.max - c.min);
        if (range.min < domain->min) c.min = std::max(range.min, domain->min - margin);
        if (range.max > domain->max) c.max = std::min(range.max, domain->max + margin);
        range = c;
        clipped = true;
      }
      return params_from_range(range, dtype, spec.symmetric_activations, spec.scale_kind, method);
    };
    if (config_.post_sigmoid && v.is_graph_output() && producer && producer->op_type() == "Sigmoid") {
      out_.params[v.name()] = make(Range{0.0, 1.0}, "post_sigmoid");
      return;
    }
    if (producer && producer->op_type() == "Softmax") {
      // Probabilities: most are near 0 and the one that matters is near 1, so a range
      // from the bulk of the data (percentile, KL) would clip exactly the answer.
      out_.params[v.name()] = make(Range{0.0, 1.0}, "softmax:[0,1]");
      return;
    }
    if (table_.samples > 0 && v.type().is_static() && shape_numel(v.type().static_shape()) == 0) {
      out_.params[v.name()] = make(Range{0.0, 0.0}, "empty");  // no element to represent
      return;
    }
    RangeOptions options = spec.range;
    options.bits = dtype == DType::kInt16 ? 16 : 8;
    // The default method (percentile) is tuned for 8 bit: it clips what 16 bit can hold.
    if (dtype == DType::kInt16 && !spec.method_explicit) options.method = RangeMethod::kMax;
    if (forced_) options.method = *forced_;
    if (options.method == RangeMethod::kSkip) options.method = RangeMethod::kMax;  // random data
    // A value widened to int16 after its 8-bit choice (spread_int16): auto's candidates are
    // 8-bit choices, so it takes the 16-bit default.
    if (widened && options.method == RangeMethod::kAuto) options.method = RangeMethod::kMax;
    if (options.method != RangeMethod::kAuto) {
      out_.params[v.name()] = make(choose_range(table_.at(v.name()), options), range_method_name(options.method));
      clipped_ += clipped ? 1 : 0;
      return;
    }
    out_.params[v.name()] = auto_range(v, options, make);
    clipped_ += clipped ? 1 : 0;
  }

  // kAuto: each range method's candidate, one chosen by the chooser (lq::quantize_model's
  // scores them by the error at the tensor's consumers).
  template <typename Make>
  QuantParams auto_range(const Value& v, RangeOptions options, const Make& make) {
    if (!chooser_) {
      throw Error(StatusCode::kFailedPrecondition,
                  fmt::format("range method auto for \"{}\" is a search among candidate ranges: "
                              "quantize with lq::quantize_model (libquant/analysis.hpp), which "
                              "scores them on calibration samples", v.name()));
    }
    std::vector<QuantParams> candidates;
    for (const RangeMethod& m : auto_range_candidates()) {
      options.method = m;
      candidates.push_back(make(choose_range(table_.at(v.name()), options), range_method_name(m)));
    }
    QuantParams best = candidates.at(chooser_->choose(v, candidates, out_));
    best.method = "auto:" + best.method;
    return best;
  }

  void assign_node_outputs(const Node& node) {
    // Data movement keeps the input's parameters: no requantization, no loss. So does a
    // Pad whose fill is a sentinel (-FLT_MAX before a Caffe ceil-mode MaxPool): the fill
    // saturates to the lowest (highest) code instead of stretching the range to 3.4e38.
    if ((roles::is_pass_through(node) || has_sentinel_fill(node)) && node.input(0)) {
      if (const QuantParams* in = out_.find(node.input(0)->name()); in && !in->per_channel()) {
        for (const Value* o : node.outputs()) {
          if (roles::is_data_value(*o) && o->type().dtype != DType::kInt64) {
            QuantParams p = *in;
            p.method = "same as input";
            out_.params[o->name()] = p;
          }
        }
        return;
      }
    }
    for (const Value* o : node.outputs()) assign_activation(*o, &node);
  }

  void assign_constants(const Node& node, const ResolvedSpec& spec) {
    for (size_t i = 0; i < node.inputs().size(); ++i) {
      const Value* v = node.input(i);
      if (!v || !v->is_constant() || v->initializer()->dtype() != DType::kFloat32) continue;
      if (out_.params.count(v->name())) continue;  // shared constant, already assigned
      const roles::InputRole role = roles::input_role(node, i);
      if (role == roles::InputRole::kWeight) {
        out_.params[v->name()] = weight_params(*v->initializer(), roles::weight_channel_axis(node, *v->initializer()), spec);
      } else if (role == roles::InputRole::kData) {
        // A constant operand of an elementwise op: per tensor, over its own values.
        const auto values = v->initializer()->to_doubles();
        Range r{0.0, 0.0};
        for (double x : values) {
          if (!is_sentinel(x)) r = Range{std::min(r.min, x), std::max(r.max, x)};
        }
        out_.params[v->name()] = params_from_range(r, spec.activation_dtype, spec.symmetric_activations,
                                                   spec.scale_kind, "constant:max");
      }
    }
  }

  void assign_bias(const Node& node) {
    const Value* bias = roles::bias_input(node);
    if (!bias) return;
    if (auto p = bias_for(node, out_)) {
      out_.params[bias->name()] = *p;
    } else if (is_wide(node, out_)) {
      out_.log.push_back(fmt::format("{}: bias kept exact (int64 accumulation of int16 products)",
                                     node.describe()));
    }
  }

  // The integer requantization multiplier input scale x weight scale / output scale must
  // be below 2^31 (an int32 mantissa with a right shift). An output range far narrower than
  // one step of the input's (a constant-like output after a wide input) would make it larger:
  // the output's scale is raised until it fits, so that every quantization compiles.
  void fit_multiplier(const Node& node) {
    const std::string& op = node.op_type();
    if (!node.domain().empty() || !(op == "Conv" || op == "Gemm" || op == "MatMul" || op == "ConvTranspose")) return;
    const Value* x = node.input(0);
    const Value* w = node.input(1);
    const Value* y = node.output(0);
    if (!x || !w || !y) return;
    const QuantParams* xp = out_.find(x->name());
    const QuantParams* wp = out_.find(w->name());
    auto it = out_.params.find(y->name());
    if (!xp || !wp || it == out_.params.end() || it->second.per_channel()) return;
    QuantParams& yp = it->second;
    const double w_max = *std::max_element(wp->scale.begin(), wp->scale.end());
    constexpr double kLimit = 1073741824.0;  // 2^30: a margin below 2^31
    const double multiplier = static_cast<double>(xp->scale[0]) * w_max / yp.scale[0];
    if (multiplier < kLimit) return;
    const float raised = static_cast<float>(static_cast<double>(xp->scale[0]) * w_max / kLimit * 1.0001);
    out_.log.push_back(fmt::format(
        "{}: output \"{}\" scale raised from {:g} to {:g} so that the requantization multiplier "
        "(input \"{}\" scale {:g} x weight \"{}\" scale {:g} / output scale) fits in int32; the "
        "output's range is far narrower than one step of the input's: check the input's range "
        "(a sentinel or outlier in the calibration data?) or give the output a range in /tensors",
        node.describe(), y->name(), yp.scale[0], raised, x->name(), xp->scale[0], w->name(), w_max));
    const double ratio = static_cast<double>(raised) / yp.scale[0];
    yp.scale[0] = raised;
    yp.range = Range{yp.range.min * ratio, yp.range.max * ratio};
  }

  // An int16 node reads int16 data: its data inputs' producers switch to int16.
  void spread_int16() {
    for (Node* node : graph_.nodes()) {
      const ResolvedSpec spec = config_.resolve(*node);
      if (!spec.quantize || spec.activation_dtype != DType::kInt16) continue;
      for (size_t i = 0; i < node->inputs().size(); ++i) {
        const Value* v = node->input(i);
        if (!v || v->is_constant() || roles::input_role(*node, i) != roles::InputRole::kData) continue;
        auto it = out_.params.find(v->name());
        if (it == out_.params.end() || it->second.dtype == DType::kInt16) continue;
        const std::string producer = v->producer() ? v->producer()->describe() : "the model input";
        out_.log.push_back(fmt::format("\"{}\" (from {}) becomes int16 because {} reads int16",
                                       v->name(), producer, node->describe()));
        widen(*v);
      }
    }
  }

  // `v` (and the values that share its parameters) on the int16 grid, its range chosen
  // again from its statistics for 16 bit: the 8-bit range clips what int16 can hold.
  void widen(const Value& v) {
    QuantParams& p = out_.params.at(v.name());
    if (!table_.tensors.count(v.name()) || p.method == "same as input" || p.method.rfind("constant", 0) == 0) {
      p = as_int16(p);
      return;
    }
    const std::vector<const Value*> group = parameter_group(v, out_);
    const Node* producer = v.producer();
    if (p.method == "post_sigmoid" || p.method == "softmax:[0,1]" || p.method == "empty" ||
        p.method == "override") {
      p = as_int16(p);
    } else {
      assign_activation(v, producer, DType::kInt16);
    }
    const QuantParams& wide = out_.params.at(v.name());
    for (size_t i = 1; i < group.size(); ++i) {
      QuantParams copy = wide;
      copy.method = "same as input";
      out_.params[group[i]->name()] = copy;
    }
  }

 public:
  // See lq::widen_to_int16.
  static QuantParams widened(const QuantConfig& config, const CalibrationTable& table, QuantizedGraph& q,
                             const Value& v) {
    Assigner a(config, table, nullptr, q);
    a.chain_inner_ = roles::elementwise_chain_inner(
        q.graph, [&config](const Node& n) { return config.resolve(n).quantize; });
    a.widen(v);
    return q.params.at(v.name());
  }

 private:

  void apply_override(const std::string& name, const TensorOverride& o) {
    auto it = out_.params.find(name);
    if (it == out_.params.end()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("quant config /tensors/{}: no quantized tensor has that name", name));
    }
    QuantParams& p = it->second;
    if (o.scale) {
      p.scale.assign(p.scale.size(), *o.scale);
      p.zero_point.assign(p.zero_point.size(), o.zero_point.value_or(0));
      p.range = Range{dequantize_value(p.qmin(), *o.scale, p.zero_point[0]),
                      dequantize_value(p.qmax(), *o.scale, p.zero_point[0])};
    } else {
      const bool symmetric = p.zero_point[0] == 0 && p.qmin() < 0;
      p = params_from_range(Range{*o.min, *o.max}, p.dtype, symmetric, ScaleKind::kFloat, p.method);
    }
    p.method = "override";
  }

  const QuantConfig& config_;
  const CalibrationTable& table_;
  AutoRangeChooser* chooser_;
  QuantizedGraph& out_;
  Graph& graph_;
  std::optional<RangeMethod> forced_;
  int fused_ = 0;
  int clipped_ = 0;
  std::set<const Value*> chain_inner_;
};

}  // namespace

// ---- Helpers of the searches (lib/analysis) ----------------------------------------------

QuantParams as_int16(const QuantParams& p) {
  // A power-of-two scale (a radix target's) stays one on the int16 grid.
  int exponent = 0;
  const bool radix = p.zero_point[0] == 0 && std::frexp(p.scale[0], &exponent) == 0.5f;
  return params_from_range(p.range, DType::kInt16, p.zero_point[0] == 0,
                           radix ? ScaleKind::kPowerOfTwo : ScaleKind::kFloat, p.method);
}

void widen_to_int16(const QuantConfig& config, const CalibrationTable& table, QuantizedGraph& q,
                    const Value& value) {
  Assigner::widened(config, table, q, value);
}

std::optional<QuantParams> bias_for(const Node& node, const QuantizedGraph& q) {
  const Value* bias = roles::bias_input(node);
  if (!bias || !node.input(0) || !node.input(1) || is_wide(node, q)) return std::nullopt;
  const QuantParams* wp = q.find(node.input(1)->name());
  const QuantParams* ip = q.find(node.input(0)->name());
  if (!wp || !ip) return std::nullopt;
  return bias_params(*ip, *wp, *bias->initializer());
}

std::vector<const Value*> parameter_group(const Value& v, const QuantizedGraph& q) {
  std::vector<const Value*> out = {&v};
  for (size_t i = 0; i < out.size(); ++i) {
    for (const Use& use : out[i]->uses()) {
      if (!roles::is_pass_through(*use.node) || use.input_index != 0) continue;
      for (const Value* o : use.node->outputs()) {
        const QuantParams* p = q.find(o->name());
        if (p && p->method == "same as input") out.push_back(o);
      }
    }
  }
  return out;
}

// ---- QuantizedGraph ---------------------------------------------------------------------

const QuantParams* QuantizedGraph::find(const std::string& value_name) const {
  auto it = params.find(value_name);
  return it == params.end() ? nullptr : &it->second;
}

// ---- Quantizer ----------------------------------------------------------------------------

Quantizer::Quantizer(QuantConfig config, Target target)
    : config_(std::move(config)), target_(std::move(target)) {}

namespace {

// The config the target allows (apply_target_capabilities), every int16 request replaced by
// int8 when the target has no int16.
QuantConfig for_target(const QuantConfig& config, const Target& target, std::vector<std::string>& log) {
  QuantConfig out = apply_target_capabilities(config, target, log);
  if (target.int16()) return out;
  auto narrow = [&](std::optional<DType>& dtype, const std::string& where, const char* what) {
    if (dtype != DType::kInt16) return;
    dtype = DType::kInt8;
    log.push_back(fmt::format("target \"{}\" has no int16: {} {} falls back to int8", target.name(),
                              where, what));
  };
  auto narrow_spec = [&](QuantSpec& spec, const std::string& where) {
    narrow(spec.activation_dtype, where, "activations");
    narrow(spec.weight_dtype, where, "weights");
  };
  narrow_spec(out.model, "the model level's");
  for (auto& [op, spec] : out.op_types) narrow_spec(spec, "op type " + op + "'s");
  for (auto& [node, spec] : out.nodes) narrow_spec(spec, "node \"" + node + "\"'s");
  narrow(out.input_dtype, "the model inputs'", "dtype");
  narrow(out.output_dtype, "the model outputs'", "dtype");
  return out;
}

void reject_budget(const QuantConfig& config) {
  if (config.int16_budget > 0.0) {
    throw Error(StatusCode::kFailedPrecondition,
                fmt::format("int16_budget {} is a search over the model outputs' error: quantize "
                            "with lq::quantize_model (libquant/analysis.hpp)", config.int16_budget));
  }
}

}  // namespace

QuantizedGraph Quantizer::quantize(const Graph& graph, const CalibrationTable& table,
                                   AutoRangeChooser* auto_ranges) const {
  reject_budget(config_);
  check_config_against(config_, graph);
  QuantizedGraph out;
  out.graph = graph.clone();
  const QuantConfig config = for_target(config_, target_, out.log);
  Assigner(config, table, auto_ranges, out).run();
  out.decisions = derive_decisions(out.graph, out.params);
  return out;
}

QuantizedGraph Quantizer::quantize_with_method(const Graph& graph, const CalibrationTable& table,
                                               RangeMethod method) const {
  reject_budget(config_);
  check_config_against(config_, graph);
  QuantizedGraph out;
  out.graph = graph.clone();
  const QuantConfig config = for_target(config_, target_, out.log);
  Assigner(config, table, nullptr, out, method).run();
  out.decisions = derive_decisions(out.graph, out.params);
  return out;
}

}  // namespace lq
