// Empirical bias correction (QuantConfig::bias_correction): the mean error quantization adds
// to each output channel of a Conv or Gemm on the calibration samples is subtracted from its
// bias (Kneron's bias adjust, hb_compile's bias_correction, Nagel et al. 2019 section 4.2).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/searches.hpp"
#include "graph/roles.hpp"

namespace lq::analysis {

namespace {

// The nodes whose bias can absorb a per-channel correction: Conv / Gemm with a constant
// float bias read by them alone and a one-value-per-output-channel layout.
bool correctable(const Node& node) {
  if (!node.domain().empty() || (node.op_type() != "Conv" && node.op_type() != "Gemm")) return false;
  const Value* bias = roles::bias_input(node);
  return bias && bias->uses().size() == 1 && bias->initializer()->dtype() == DType::kFloat32 &&
         bias->initializer()->rank() <= 2 && !node.output(0)->is_graph_input();
}

// Per output channel: sum of (quantized - float) and count, Conv's channels on axis 1, Gemm's
// on the last axis.
void accumulate(const Node& node, const Tensor& got, const Tensor& want, std::vector<double>& sum,
                std::vector<double>& count) {
  if (got.dtype() != DType::kFloat32 || want.dtype() != DType::kFloat32 || got.numel() != want.numel()) return;
  const bool conv = node.op_type() == "Conv";
  const Shape& shape = want.shape();
  if (shape.empty()) return;
  const int64_t channels = conv ? (shape.size() > 1 ? shape[1] : 1) : shape.back();
  int64_t inner = 1;
  if (conv) {
    for (size_t i = 2; i < shape.size(); ++i) inner *= shape[i];
  }
  if (sum.empty()) {
    sum.assign(static_cast<size_t>(channels), 0.0);
    count.assign(static_cast<size_t>(channels), 0.0);
  }
  if (static_cast<int64_t>(sum.size()) != channels) return;
  const float* g = got.data<float>();
  const float* w = want.data<float>();
  for (int64_t i = 0; i < want.numel(); ++i) {
    const size_t c = static_cast<size_t>(conv ? (i / inner) % channels : i % channels);
    sum[c] += static_cast<double>(g[i]) - w[i];
    count[c] += 1.0;
  }
}

// Subtracts the mean errors from the biases of `targets` (node -> channel errors), updating
// their parameters. Returns the number of nodes changed.
int apply_corrections(QuantizedGraph& out, const std::map<const Node*, std::pair<std::vector<double>, std::vector<double>>>& errors) {
  int changed = 0;
  for (const auto& [node, e] : errors) {
    const auto& [sum, count] = e;
    Value* bias = out.graph.find_value(roles::bias_input(*node)->name());
    Tensor b = bias->initializer()->clone();  // a copy shares the data (with the user's graph)
    const int64_t n = b.numel();
    if (n != static_cast<int64_t>(sum.size()) && n != 1) continue;
    if (n == 1 && sum.size() != 1) continue;
    float* data = b.data<float>();
    for (int64_t c = 0; c < n; ++c) {
      if (count[static_cast<size_t>(c)] > 0) data[c] -= static_cast<float>(sum[static_cast<size_t>(c)] / count[static_cast<size_t>(c)]);
    }
    out.graph.set_initializer(bias, b);
    if (out.params.count(bias->name())) {
      if (auto p = bias_for(*node, out)) out.params[bias->name()] = *p;
    }
    ++changed;
  }
  return changed;
}

}  // namespace

void correct_bias(QuantizedGraph& out, const std::vector<TensorMap>& samples, bool sequential) {
  std::vector<const Node*> nodes;
  for (const Node* node : out.graph.nodes()) {
    if (correctable(*node)) nodes.push_back(node);
  }
  if (nodes.empty() || samples.empty()) return;
  // The float model's values, once: its biases are the quantized model's float biases, which
  // the correction changes, so they are recorded before it.
  std::vector<std::map<std::string, Tensor>> want(samples.size());
  {
    const Simulator reference(out.graph);
    for (size_t s = 0; s < samples.size(); ++s) {
      reference.run(samples[s], [&](const Value& v, const Tensor& t) {
        if (v.producer() && correctable(*v.producer()) && v.producer()->output(0) == &v) want[s][v.name()] = t;
      });
    }
  }
  auto measure = [&](const std::vector<const Node*>& which) {
    std::map<const Node*, std::pair<std::vector<double>, std::vector<double>>> errors;
    const Simulator fake = fake_quant_simulator(out);
    for (size_t s = 0; s < samples.size(); ++s) {
      fake.run(samples[s], [&](const Value& v, const Tensor& t) {
        const Node* p = v.producer();
        if (!p || std::find(which.begin(), which.end(), p) == which.end() || p->output(0) != &v) return;
        auto& [sum, count] = errors[p];
        accumulate(*p, t, want[s].at(v.name()), sum, count);
      });
    }
    return errors;
  };
  int changed = 0;
  if (sequential) {
    // Layer by layer: each correction is measured with the ones before it applied.
    for (const Node* node : nodes) changed += apply_corrections(out, measure({node}));
  } else {
    changed = apply_corrections(out, measure(nodes));
  }
  out.log.push_back(fmt::format("bias correction{}: the mean output error of {} Conv/Gemm nodes on {} "
                                "calibration samples subtracted from their biases",
                                sequential ? " (sequential)" : "", changed, samples.size()));
}

}  // namespace lq::analysis
