// RangeMethod::kAuto: the consumer-error choice among each tensor's candidate ranges, then
// the refinement of those choices by the model outputs' error.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/searches.hpp"
#include "graph/roles.hpp"

namespace lq::analysis {

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

ConsumerErrorChooser::ConsumerErrorChooser(const std::vector<TensorMap>& samples, int auto_samples,
                                           StepProgress progress)
    : samples_(samples), auto_samples_(auto_samples), progress_(std::move(progress)) {}

void ConsumerErrorChooser::finish_progress() const {
  const auto total = static_cast<int64_t>(output_place_.size());
  if (progress_ && !scores_.empty()) progress_("auto ranges", total, total);
}

ConsumerErrorChooser::~ConsumerErrorChooser() = default;

size_t ConsumerErrorChooser::choose(const Value& v, const std::vector<QuantParams>& candidates,
                                    const QuantizedGraph& partial) {
  if (samples_.empty()) {
    throw Error(StatusCode::kFailedPrecondition,
                fmt::format("range method auto for \"{}\" scores candidates on calibration "
                            "samples; keep some (CalibrationOptions::keep_samples)", v.name()));
  }
  record_float_values(partial.graph);
  size_t best = 0;
  double best_error = INFINITY;
  std::string scores;
  for (size_t c = 0; c < candidates.size(); ++c) {
    double error = 0.0;
    for (size_t s = 0; s < float_values_.size(); ++s) error += consumer_error(v, candidates[c], partial, s);
    scores += fmt::format(" {}={:.3g}", candidates[c].method, error);
    if (error < best_error) {
      best_error = error;
      best = c;
    }
  }
  scores_.push_back(fmt::format("\"{}\":{}", v.name(), scores));
  if (progress_) {
    if (output_place_.empty()) {
      for (const Node* node : partial.graph.nodes()) {
        for (const Value* out : node->outputs()) {
          output_place_.emplace(out->name(), static_cast<int64_t>(output_place_.size()) + 1);
        }
      }
    }
    const auto place = output_place_.find(v.name());
    const auto total = static_cast<int64_t>(output_place_.size());
    // Reported below the total until finish_progress: the last tensors may be chosen later.
    if (place != output_place_.end()) progress_("auto ranges", std::min(place->second, total - 1), total);
  }
  return best;
}

double ConsumerErrorChooser::consumer_error(const Value& v, const QuantParams& candidate,
                                            const QuantizedGraph& partial, size_t sample) {
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
      const QuantParams* p = partial.find(in->name());
      feeds[in->name()] = p && data.dtype() == DType::kFloat32 ? fake_quantize(data, *p) : data;
    }
    const TensorMap got = runner_for(*use.node, partial.graph).run(feeds);
    for (const Value* out : use.node->outputs()) {
      auto want = values.find(out->name());
      if (want != values.end()) error += relative_error(got.at(out->name()), want->second);
    }
  }
  return error;
}

const NodeRunner& ConsumerErrorChooser::runner_for(const Node& node, const Graph& graph) {
  auto it = runners_.find(&node);
  if (it == runners_.end()) it = runners_.emplace(&node, std::make_unique<NodeRunner>(node, graph.opset(""))).first;
  return *it->second;
}

void ConsumerErrorChooser::record_float_values(const Graph& graph) {
  if (!float_values_.empty()) return;
  const Simulator simulator(graph);
  const size_t count = std::min(samples_.size(), static_cast<size_t>(std::max(auto_samples_, 1)));
  for (size_t s = 0; s < count; ++s) {
    std::map<std::string, Tensor> values(samples_[s].begin(), samples_[s].end());
    simulator.run(samples_[s], [&](const Value& value, const Tensor& data) { values[value.name()] = data; });
    float_values_.push_back(std::move(values));
  }
}

namespace {

bool tunable(const QuantParams& p) {
  return p.method.rfind("auto:", 0) == 0;
}

// kAuto, second step: coordinate descent on the model's output error. Each tensor in turn
// tries every method's range (the candidate graphs), keeping a change only if the outputs
// get closer to float. Deterministic; bounded by config.auto_evaluations runs.
}  // namespace

void refine_globally(QuantizedGraph& out, const std::vector<QuantizedGraph>& candidates,
                     const std::vector<TensorMap>& samples, int max_evaluations,
                     const StepProgress& progress) {
  const GlobalScore score(out, samples);
  double best = score.error();
  const double start = best;
  int evaluations = 1;
  for (const Node* node : out.graph.nodes()) {
    for (const Value* v : node->outputs()) {
      auto it = out.params.find(v->name());
      if (it == out.params.end() || !tunable(it->second)) continue;
      const std::vector<const Value*> group = parameter_group(*v, out);
      for (const QuantizedGraph& candidate : candidates) {
        if (evaluations >= max_evaluations) break;
        const QuantParams* proposal = candidate.find(v->name());
        if (!proposal || proposal->scale == out.params.at(v->name()).scale) continue;
        // Apply to the tensor, its parameter group and the biases of everything reading them.
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
        if (progress) progress("auto search", evaluations, max_evaluations);
        if (error < best) {
          best = error;
        } else {
          for (const auto& [name, old] : saved) out.params[name] = old;
        }
      }
    }
  }
  if (progress) progress("auto search", max_evaluations, max_evaluations);
  out.log.push_back(fmt::format("auto: output error {:.4g} -> {:.4g} after {} evaluations of the "
                                "whole model", start, best, evaluations));
}

}  // namespace lq::analysis
