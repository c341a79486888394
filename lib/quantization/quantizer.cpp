// Quantizer: assigns QuantParams to every quantized value of a float graph.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "libquant/quantizer.hpp"
#include "graph/roles.hpp"

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

// The same range on the int16 grid (int16 spreading, mixed precision).
QuantParams as_int16(const QuantParams& p) {
  return params_from_range(p.range, DType::kInt16, p.zero_point[0] == 0, ScaleKind::kFloat, p.method);
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

// Runs one node on given inputs: how kAuto measures the error a candidate range causes
// at the outputs of a tensor's consumers.
class NodeRunner {
 public:
  explicit NodeRunner(const Node& node, int64_t opset) {
    graph_.set_opset("", opset);
    std::vector<Value*> inputs;
    for (const Value* in : node.inputs()) {
      if (!in) {
        inputs.push_back(nullptr);
        continue;
      }
      Value* v = graph_.find_value(in->name());
      if (!v) {
        v = graph_.add_value(in->name());
        graph_.add_input(v);
      }
      inputs.push_back(v);
    }
    std::vector<Value*> outputs;
    for (const Value* out : node.outputs()) outputs.push_back(graph_.add_value(out->name()));
    Node* copy = graph_.add_node(node.op_type(), inputs, outputs, node.name(), node.domain());
    for (const auto& [name, attr] : node.attributes()) copy->set_attr(name, attr);
    for (Value* out : outputs) graph_.add_output(out);
    simulator_ = std::make_unique<Simulator>(graph_);
  }
  TensorMap run(const TensorMap& inputs) const { return simulator_->run(inputs); }

 private:
  Graph graph_;
  std::unique_ptr<Simulator> simulator_;
};

double relative_error(const Tensor& got, const Tensor& want) {
  if (got.dtype() != DType::kFloat32 || want.dtype() != DType::kFloat32) return 0.0;
  const float* g = got.data<float>();
  const float* w = want.data<float>();
  double signal = 0.0, noise = 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    signal += static_cast<double>(w[i]) * w[i];
    noise += static_cast<double>(g[i] - w[i]) * (g[i] - w[i]);
  }
  return noise / std::max(signal, 1e-30);
}

// int16 x int16 products accumulate in int64, where the bias at scale input x weight is
// exact to far below float precision: such a bias stays as it is.
bool is_wide(const Node& node, const QuantizedGraph& q) {
  const QuantParams* wp = node.input(1) ? q.find(node.input(1)->name()) : nullptr;
  const QuantParams* ip = node.input(0) ? q.find(node.input(0)->name()) : nullptr;
  return (wp && wp->dtype == DType::kInt16) || (ip && ip->dtype == DType::kInt16);
}

// The bias parameters of a Conv/ConvTranspose/Gemm from its input's and weight's.
std::optional<QuantParams> bias_for(const Node& node, const QuantizedGraph& q) {
  const Value* bias = roles::bias_input(node);
  if (!bias || !node.input(0) || !node.input(1) || is_wide(node, q)) return std::nullopt;
  const QuantParams* wp = q.find(node.input(1)->name());
  const QuantParams* ip = q.find(node.input(0)->name());
  if (!wp || !ip) return std::nullopt;
  return bias_params(*ip, *wp, *bias->initializer());
}

class Assigner {
 public:
  // `forced` replaces every activation's range method (kAuto's global candidates).
  Assigner(const QuantConfig& config, const CalibrationTable& table, const std::vector<TensorMap>& samples,
           QuantizedGraph& out, std::optional<RangeMethod> forced = std::nullopt)
      : config_(config), table_(table), samples_(samples), out_(out), graph_(out.graph), forced_(forced) {}

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
    // Biases last: their scale is the final input scale times the weight scale.
    for (Node* node : graph_.nodes()) {
      if (config_.resolve(*node).quantize) assign_bias(*node);
    }
  }

 private:
  // Activation parameters from calibration statistics.
  void assign_activation(const Value& v, const Node* producer) {
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
    if (forced_) options.method = *forced_;
    if (options.method == RangeMethod::kSkip) options.method = RangeMethod::kMax;  // random data
    if (options.method != RangeMethod::kAuto) {
      out_.params[v.name()] = make(choose_range(table_.at(v.name()), options), range_method_name(options.method));
      clipped_ += clipped ? 1 : 0;
      return;
    }
    out_.params[v.name()] = best_candidate(v, options, make);
    clipped_ += clipped ? 1 : 0;
  }

  // kAuto: each range method's candidate, scored by the error it causes at the outputs of
  // the tensor's consumers (or in the tensor itself when it is a model output).
  template <typename Make>
  QuantParams best_candidate(const Value& v, RangeOptions options, const Make& make) {
    if (samples_.empty()) {
      throw Error(StatusCode::kFailedPrecondition,
                  fmt::format("range method auto for \"{}\" scores candidates on calibration "
                              "samples; keep some (CalibrationOptions::keep_samples)", v.name()));
    }
    record_float_values();
    QuantParams best;
    double best_error = INFINITY;
    std::string scores;
    for (RangeMethod m : {RangeMethod::kMax, RangeMethod::kPercentile, RangeMethod::kKL,
                          RangeMethod::kMSE, RangeMethod::kMMSE}) {
      options.method = m;
      QuantParams candidate = make(choose_range(table_.at(v.name()), options), range_method_name(m));
      double error = 0.0;
      for (size_t s = 0; s < float_values_.size(); ++s) error += consumer_error(v, candidate, s);
      scores += fmt::format(" {}={:.3g}", range_method_name(m), error);
      if (error < best_error) {
        best_error = error;
        best = candidate;
      }
    }
    best.method = "auto:" + best.method;
    auto_scores_.push_back(fmt::format("\"{}\":{}", v.name(), scores));
    return best;
  }

  double consumer_error(const Value& v, const QuantParams& candidate, size_t sample) {
    const std::map<std::string, Tensor>& values = float_values_[sample];
    auto it = values.find(v.name());
    if (it == values.end()) return 0.0;  // never computed (e.g. a dead branch)
    const Tensor quantized = fake_quantize(it->second, candidate);
    double error = v.is_graph_output() ? relative_error(quantized, it->second) : 0.0;
    for (const Use& use : v.uses()) {
      if (roles::input_role(*use.node, use.input_index) != roles::InputRole::kData) continue;
      TensorMap feeds;
      for (const Value* in : use.node->inputs()) {
        if (!in || feeds.count(in->name())) continue;
        if (in == &v) {
          feeds[in->name()] = quantized;
          continue;
        }
        const Tensor& data = in->is_constant() ? *in->initializer() : values.at(in->name());
        const QuantParams* p = out_.find(in->name());
        feeds[in->name()] = p && data.dtype() == DType::kFloat32 ? fake_quantize(data, *p) : data;
      }
      const TensorMap got = runner_for(*use.node).run(feeds);
      for (const Value* out : use.node->outputs()) {
        auto want = values.find(out->name());
        if (want != values.end()) error += relative_error(got.at(out->name()), want->second);
      }
    }
    return error;
  }

  const NodeRunner& runner_for(const Node& node) {
    auto it = runners_.find(&node);
    if (it == runners_.end()) it = runners_.emplace(&node, std::make_unique<NodeRunner>(node, graph_.opset(""))).first;
    return *it->second;
  }

  void record_float_values() {
    if (!float_values_.empty()) return;
    const Simulator simulator(graph_);
    const size_t count = std::min(samples_.size(), static_cast<size_t>(std::max(config_.auto_samples, 1)));
    for (size_t s = 0; s < count; ++s) {
      std::map<std::string, Tensor> values(samples_[s].begin(), samples_[s].end());
      simulator.run(samples_[s], [&](const Value& value, const Tensor& data) { values[value.name()] = data; });
      float_values_.push_back(std::move(values));
    }
  }

  void assign_node_outputs(const Node& node) {
    // Data movement keeps the input's parameters: no requantization, no loss.
    if (roles::is_pass_through(node) && node.input(0)) {
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
        for (double x : values) r = Range{std::min(r.min, x), std::max(r.max, x)};
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
        QuantParams& p = it->second;
        p = as_int16(p);
      }
    }
  }

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

 public:
  // kAuto's per-tensor scores ("name": method=error ...), one line per tensor.
  const std::vector<std::string>& auto_scores() const { return auto_scores_; }

 private:
  std::vector<std::string> auto_scores_;
  const QuantConfig& config_;
  const CalibrationTable& table_;
  const std::vector<TensorMap>& samples_;
  QuantizedGraph& out_;
  Graph& graph_;
  std::optional<RangeMethod> forced_;
  int fused_ = 0;
  int clipped_ = 0;
  std::set<const Value*> chain_inner_;
  std::vector<std::map<std::string, Tensor>> float_values_;
  std::map<const Node*, std::unique_ptr<NodeRunner>> runners_;
};

}  // namespace

// ---- QuantizedGraph ---------------------------------------------------------------------

const QuantParams* QuantizedGraph::find(const std::string& value_name) const {
  auto it = params.find(value_name);
  return it == params.end() ? nullptr : &it->second;
}

Simulator fake_quant_simulator(const QuantizedGraph& qgraph, SimulatorOptions options) {
  options.transform = [&qgraph](const Value& value, const Tensor& data) {
    const QuantParams* p = qgraph.find(value.name());
    if (!p || data.dtype() != DType::kFloat32) return data;
    return fake_quantize(data, *p);
  };
  return Simulator(qgraph.graph, options);
}


std::map<std::string, double> snr_db(const std::vector<TensorMap>& reference,
                                     const std::vector<TensorMap>& measured) {
  std::map<std::string, std::pair<double, double>> power;  // output -> (signal, noise)
  for (size_t s = 0; s < reference.size() && s < measured.size(); ++s) {
    for (const auto& [name, w] : reference[s]) {
      if (w.dtype() != DType::kFloat32) continue;
      const float* a = w.data<float>();
      const float* b = measured[s].at(name).data<float>();
      for (int64_t i = 0; i < w.numel(); ++i) {
        power[name].first += static_cast<double>(a[i]) * a[i];
        power[name].second += static_cast<double>(a[i] - b[i]) * (a[i] - b[i]);
      }
    }
  }
  std::map<std::string, double> snr;
  for (const auto& [name, p] : power) {
    snr[name] = 10.0 * std::log10(std::max(p.first, 1e-30) / std::max(p.second, 1e-30));
  }
  return snr;
}

std::map<std::string, double> output_snr_db(const QuantizedGraph& qgraph,
                                            const std::vector<TensorMap>& samples, int threads) {
  SimulatorOptions options;
  options.threads = threads;
  const Simulator reference(qgraph.graph, options);
  const Simulator fake = fake_quant_simulator(qgraph, options);
  std::vector<TensorMap> want, got;
  for (const TensorMap& sample : samples) {
    want.push_back(reference.run(sample));
    got.push_back(fake.run(sample));
  }
  return snr_db(want, got);
}

// ---- Quantizer ----------------------------------------------------------------------------

Quantizer::Quantizer(QuantConfig config, Target target)
    : config_(std::move(config)), target_(std::move(target)) {}

namespace {

// Output error of the fake-quantized model against float: sum over outputs and samples
// of noise power / signal power.
class GlobalScore {
 public:
  GlobalScore(const QuantizedGraph& q, const std::vector<TensorMap>& samples)
      : samples_(samples), simulator_(fake_quant_simulator(q)) {
    const Simulator reference(q.graph);
    for (const TensorMap& s : samples_) expected_.push_back(reference.run(s));
  }
  // Reads the QuantizedGraph's current activation parameters (looked up at every run).
  // Constants were fake-quantized when the Simulator was built, so a bias keeps its first
  // scale here; at int32 the difference is far below what ranks candidates.
  double error() const {
    double total = 0.0;
    for (size_t i = 0; i < samples_.size(); ++i) {
      const TensorMap got = simulator_.run(samples_[i]);
      for (const auto& [name, want] : expected_[i]) total += relative_error(got.at(name), want);
    }
    return total;
  }

 private:
  const std::vector<TensorMap>& samples_;
  Simulator simulator_;
  std::vector<TensorMap> expected_;
};

// Values whose parameters follow `v`'s ("same as input" through data movement), and v.
std::vector<const Value*> followers(const Value& v, const QuantizedGraph& q) {
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

bool tunable(const QuantParams& p) {
  return p.method.rfind("auto:", 0) == 0;
}

// kAuto, second step: coordinate descent on the model's output error. Each tensor in turn
// tries every method's range (the candidate graphs), keeping a change only if the outputs
// get closer to float. Deterministic; bounded by config.auto_evaluations runs.
void refine_globally(QuantizedGraph& out, const std::vector<QuantizedGraph>& candidates,
                     const std::vector<TensorMap>& samples, int max_evaluations) {
  const GlobalScore score(out, samples);
  double best = score.error();
  const double start = best;
  int evaluations = 1;
  for (const Node* node : out.graph.nodes()) {
    for (const Value* v : node->outputs()) {
      auto it = out.params.find(v->name());
      if (it == out.params.end() || !tunable(it->second)) continue;
      const std::vector<const Value*> group = followers(*v, out);
      for (const QuantizedGraph& candidate : candidates) {
        if (evaluations >= max_evaluations) break;
        const QuantParams* proposal = candidate.find(v->name());
        if (!proposal || proposal->scale == out.params.at(v->name()).scale) continue;
        // Apply to the tensor, its followers and the biases of everything reading them.
        std::map<std::string, QuantParams> saved;
        auto set = [&](const std::string& name, const QuantParams& p) {
          if (!saved.count(name)) saved[name] = out.params.at(name);
          out.params[name] = p;
        };
        QuantParams p = *proposal;
        p.method = "auto:" + proposal->method;
        for (const Value* member : group) {
          QuantParams copy = p;
          if (member != v) copy.method = "same as input";
          set(member->name(), copy);
          for (const Use& use : member->uses()) {
            const Value* bias = roles::bias_input(*use.node);
            if (!bias || !out.params.count(bias->name())) continue;
            if (auto b = bias_for(*use.node, out)) set(bias->name(), *b);
          }
        }
        const double error = score.error();
        ++evaluations;
        if (error < best) {
          best = error;
        } else {
          for (const auto& [name, old] : saved) out.params[name] = old;
        }
      }
    }
  }
  out.log.push_back(fmt::format("auto: output error {:.4g} -> {:.4g} after {} evaluations of the "
                                "whole model", start, best, evaluations));
}

}  // namespace

// Mixed precision: each 8-bit activation (with the values that share its parameters) is
// measured alone, by the error it adds to the model outputs; the most harmful per element
// become int16 until int16_budget of all activation elements is spent. Model
// inputs and outputs keep the widths the config gives them.
void mix_precision(QuantizedGraph& out, const QuantConfig& config, const std::vector<TensorMap>& scoring) {
  std::map<std::string, int64_t> numel;
  Simulator(out.graph).run(scoring[0], [&](const Value& v, const Tensor& t) { numel[v.name()] = t.numel(); });
  struct Candidate {
    std::vector<const Value*> group;
    int64_t elements = 0;
    double gain = 0.0;
  };
  std::vector<Candidate> candidates;
  int64_t total = 0;
  for (const Node* node : out.graph.nodes()) {
    for (const Value* v : node->outputs()) {
      const QuantParams* p = out.find(v->name());
      if (!p || p->dtype == DType::kInt16 || p->dtype == DType::kInt32 || !numel.count(v->name())) continue;
      total += numel.at(v->name());
      if (p->method == "same as input" || v->is_graph_output() || !config.resolve(*node).quantize) continue;
      Candidate c;
      c.group = followers(*v, out);
      bool output = false;
      for (const Value* member : c.group) {
        c.elements += numel.count(member->name()) ? numel.at(member->name()) : 0;
        output = output || member->is_graph_output();
      }
      if (!output) candidates.push_back(std::move(c));
    }
  }
  // Each activation's harm alone: the model with only the weights (as quantized) and that
  // activation quantized, against the weights alone. Measured with every other activation
  // in float, one tensor's error is not masked by the others' (as it is when all are int8
  // but one), and the harms of several tensors roughly add up.
  QuantizedGraph probe;
  probe.graph = out.graph.clone();
  for (const auto& [name, p] : out.params) {
    const Value* v = out.graph.find_value(name);
    if (v && v->is_constant()) probe.params[name] = p;
  }
  const GlobalScore harm(probe, scoring);  // reads probe.params at every run
  const double weights_only = harm.error();
  for (Candidate& c : candidates) {
    for (const Value* member : c.group) probe.params[member->name()] = out.params.at(member->name());
    c.gain = harm.error() - weights_only;
    for (const Value* member : c.group) probe.params.erase(member->name());
  }
  const GlobalScore score(out, scoring);
  const double start = score.error();
  auto promote = [&](const Candidate& c) {
    for (const Value* member : c.group) out.params[member->name()] = as_int16(out.params.at(member->name()));
  };
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.gain / static_cast<double>(std::max<int64_t>(a.elements, 1)) >
           b.gain / static_cast<double>(std::max<int64_t>(b.elements, 1));
  });
  const double budget = config.int16_budget * static_cast<double>(total);
  int64_t spent = 0;
  int chosen = 0;
  for (const Candidate& c : candidates) {
    if (c.gain <= 0.0) break;
    if (static_cast<double>(spent + c.elements) > budget) continue;
    promote(c);
    spent += c.elements;
    ++chosen;
    out.log.push_back(fmt::format("mixed precision: \"{}\" becomes int16 (output error +{:.3g} when it "
                                  "alone is int8, {} elements)", c.group.front()->name(), c.gain, c.elements));
  }
  // Biases follow their inputs' new scales (int16 inputs keep them exact, in int64).
  for (const Node* node : out.graph.nodes()) {
    const Value* bias = roles::bias_input(*node);
    if (!bias || !out.params.count(bias->name())) continue;
    if (auto b = bias_for(*node, out)) {
      out.params[bias->name()] = *b;
    } else {
      out.params.erase(bias->name());
    }
  }
  out.log.push_back(fmt::format("mixed precision: {} tensors int16, {:.1f} % of {} activation elements "
                                "(budget {:.1f} %): output error {:.4g} -> {:.4g} ({} candidates measured)",
                                chosen, 100.0 * static_cast<double>(spent) / static_cast<double>(std::max<int64_t>(total, 1)),
                                total, 100.0 * config.int16_budget, start, score.error(), candidates.size()));
}

namespace {

// The config with every int16 request replaced by int8 when the target has no int16.
QuantConfig for_target(const QuantConfig& config, const Target& target, std::vector<std::string>& log) {
  if (target.int16) return config;
  QuantConfig out = config;
  auto narrow = [&](std::optional<DType>& dtype, const std::string& where, const char* what) {
    if (dtype != DType::kInt16) return;
    dtype = DType::kInt8;
    log.push_back(fmt::format("target \"{}\" has no int16: {} {} falls back to int8", target.name,
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

}  // namespace

QuantizedGraph Quantizer::quantize(const Graph& graph, const CalibrationTable& table,
                                   const std::vector<TensorMap>& samples) const {
  QuantizedGraph out;
  out.graph = graph.clone();
  const QuantConfig config = for_target(config_, target_, out.log);
  Assigner assigner(config, table, samples, out);
  assigner.run();
  const size_t count = std::min(samples.size(), static_cast<size_t>(std::max(config.auto_samples, 1)));
  const std::vector<TensorMap> scoring(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(count));
  if (!assigner.auto_scores().empty()) {
    out.log.push_back(fmt::format("auto chose the range of {} tensors by the relative error at "
                                  "their consumers' outputs (quant_params.json: method auto:<chosen>)",
                                  assigner.auto_scores().size()));
    if (config.auto_evaluations > 0) {
      std::vector<QuantizedGraph> candidates;
      for (RangeMethod m : {RangeMethod::kMax, RangeMethod::kPercentile, RangeMethod::kKL,
                            RangeMethod::kMSE, RangeMethod::kMMSE}) {
        QuantizedGraph c;
        c.graph = graph.clone();
        Assigner(config, table, samples, c, m).run();
        candidates.push_back(std::move(c));
      }
      refine_globally(out, candidates, scoring, config.auto_evaluations);
    }
  }
  if (config.int16_budget > 0.0) {
    if (!target_.int16) {
      out.log.push_back(fmt::format("target \"{}\" has no int16: int16_budget {} is ignored",
                                    target_.name, config.int16_budget));
    } else if (scoring.empty()) {
      throw Error(StatusCode::kFailedPrecondition,
                  "int16_budget measures each tensor's effect on the model outputs on calibration "
                  "samples; keep some (CalibrationOptions::keep_samples)");
    } else {
      mix_precision(out, config, scoring);
    }
  }
  out.decisions = derive_decisions(out.graph, out.params);
  return out;
}

}  // namespace lq
