// The searches of lib/analysis, composed by quantize_model (quantize_model.cpp).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libquant/analysis.hpp"

namespace lq::analysis {

// Output error of the fake-quantized model against float: sum over outputs and samples
// of noise power / signal power.
class GlobalScore {
 public:
  GlobalScore(const QuantizedGraph& q, const std::vector<TensorMap>& samples);
  // Reads the QuantizedGraph's current activation parameters (looked up at every run).
  // Constants were fake-quantized when the Simulator was built, so a bias keeps its first
  // scale here; at int32 the difference is far below what ranks candidates.
  double error() const;

 private:
  const std::vector<TensorMap>& samples_;
  Simulator simulator_;
  std::vector<TensorMap> expected_;
};

class NodeRunner;

// kAuto, first step: each candidate range of a tensor scored by the relative error it
// causes at the outputs of the tensor's consumers (each run alone, its other inputs as
// quantized so far), or in the tensor itself when it is a model output. One instance serves
// one Quantizer::quantize call (it caches the float values of that call's graph).
class ConsumerErrorChooser final : public AutoRangeChooser {
 public:
  // Scores on the first `auto_samples` (at least one) of `samples`.
  // `progress` (optional) hears step "auto ranges": the chosen tensor's place among the
  // graph's node outputs, of all of them (the Quantizer goes in node order).
  ConsumerErrorChooser(const std::vector<TensorMap>& samples, int auto_samples,
                       StepProgress progress = nullptr);
  ~ConsumerErrorChooser() override;
  // The last "auto ranges" report (done = total), when any tensor was chosen.
  void finish_progress() const;
  size_t choose(const Value& value, const std::vector<QuantParams>& candidates,
                const QuantizedGraph& partial) override;
  // One line per tensor chosen: "name": method=error ...
  const std::vector<std::string>& scores() const { return scores_; }

 private:
  double consumer_error(const Value& v, const QuantParams& candidate, const QuantizedGraph& partial,
                        size_t sample);
  const NodeRunner& runner_for(const Node& node, const Graph& graph);
  void record_float_values(const Graph& graph);

  const std::vector<TensorMap>& samples_;
  int auto_samples_;
  std::vector<std::string> scores_;
  std::vector<std::map<std::string, Tensor>> float_values_;
  std::map<const Node*, std::unique_ptr<NodeRunner>> runners_;
  StepProgress progress_;
  std::map<std::string, int64_t> output_place_;  // node outputs by name, in node order, from 1
};

// kAuto, second step: coordinate descent on the model outputs' error over the candidates
// (one QuantizedGraph per auto_range_candidates()), at most `max_evaluations` model runs.
void refine_globally(QuantizedGraph& out, const std::vector<QuantizedGraph>& candidates,
                     const std::vector<TensorMap>& samples, int max_evaluations,
                     const StepProgress& progress);

// Every bias parameter of q recomputed from its node's current input and weight scales
// (after a search changed them; int16 inputs keep biases exact, in int64); a bias that
// bias_for can no longer represent loses its parameters.
void refresh_biases(QuantizedGraph& q);

// Mixed precision within config.int16_budget, scored on `scoring` (not empty). With `done`,
// it is asked after each promotion (biases updated) and a true answer stops the promotions.
void mix_precision(QuantizedGraph& out, const QuantConfig& config, const CalibrationTable& table,
                   const std::vector<TensorMap>& scoring, const StepProgress& progress,
                   const std::function<bool(const QuantizedGraph&)>& done = nullptr);

// select_range.cpp. The float model's outputs on `samples`.
std::vector<TensorMap> float_outputs(const Graph& graph, const std::vector<TensorMap>& samples);
// The lowest output SNR (dB) of q's fake quantization against `reference` on `samples`.
double worst_output_snr_db(const QuantizedGraph& q, const std::vector<TensorMap>& samples,
                           const std::vector<TensorMap>& reference);
// QuantConfig::select_range applies: on, no range method set anywhere, 8-bit activations.
bool selects_range(const QuantConfig& config);
// The whole model quantized with each single range method; the best worst-output SNR on
// `scoring` wins (ties: percentile). Logs every method's SNR.
QuantizedGraph select_range(const QuantConfig& config, const Target& target, const Graph& graph,
                            const CalibrationTable& table, const std::vector<TensorMap>& scoring);
// QuantConfig::min_snr_db: int16 for the most harmful 8-bit activations (ranked on
// `scoring`) until the worst output SNR on `samples` reaches it, within int16_budget
// (0: 0.25). Logs whether it was reached.
void reach_snr(QuantizedGraph& out, const QuantConfig& config, const Target& target,
               const CalibrationTable& table, const std::vector<TensorMap>& samples,
               const std::vector<TensorMap>& scoring, const StepProgress& progress);

// bias_correction.cpp: QuantConfig::bias_correction on `samples`.
void correct_bias(QuantizedGraph& out, const std::vector<TensorMap>& samples, bool sequential);

}  // namespace lq::analysis
