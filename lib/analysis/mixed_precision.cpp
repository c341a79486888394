// Mixed precision: the 8-bit activations that harm the model outputs most per element
// become int16, within QuantConfig::int16_budget.
#include <fmt/format.h>

#include <algorithm>

#include "analysis/searches.hpp"
#include "graph/roles.hpp"

namespace lq::analysis {

void refresh_biases(QuantizedGraph& q) {
  for (const Node* node : q.graph.nodes()) {
    const Value* bias = roles::bias_input(*node);
    if (!bias || !q.params.count(bias->name())) continue;
    if (auto b = bias_for(*node, q)) {
      q.params[bias->name()] = *b;
    } else {
      q.params.erase(bias->name());
    }
  }
}

// Mixed precision: each 8-bit activation (with the values that share its parameters) is
// measured alone, by the error it adds to the model outputs; the most harmful per element
// become int16 until int16_budget of all activation elements is spent. Model
// inputs and outputs keep the widths the config gives them.
void mix_precision(QuantizedGraph& out, const QuantConfig& config, const CalibrationTable& table,
                   const std::vector<TensorMap>& scoring, const StepProgress& progress,
                   const std::function<bool(const QuantizedGraph&)>& done) {
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
      c.group = parameter_group(*v, out);
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
  int64_t measured = 0;
  for (Candidate& c : candidates) {
    for (const Value* member : c.group) probe.params[member->name()] = out.params.at(member->name());
    c.gain = harm.error() - weights_only;
    for (const Value* member : c.group) probe.params.erase(member->name());
    if (progress) progress("mixed precision", ++measured, static_cast<int64_t>(candidates.size()));
  }
  const GlobalScore score(out, scoring);
  const double start = score.error();
  auto promote = [&](const Candidate& c) {
    widen_to_int16(config, table, out, *c.group.front());
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
    if (done) {
      refresh_biases(out);
      if (done(out)) break;
    }
  }
  refresh_biases(out);
  out.log.push_back(fmt::format("mixed precision: {} tensors int16, {:.1f} % of {} activation elements "
                                "(budget {:.1f} %): output error {:.4g} -> {:.4g} ({} candidates measured)",
                                chosen, 100.0 * static_cast<double>(spent) / static_cast<double>(std::max<int64_t>(total, 1)),
                                total, 100.0 * config.int16_budget, start, score.error(), candidates.size()));
}

}  // namespace lq::analysis
