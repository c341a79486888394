// quantize_model: the Quantizer, then the searches its config asks for.
#include <fmt/format.h>

#include <algorithm>

#include "analysis/searches.hpp"

namespace lq {

QuantizedGraph quantize_model(const Quantizer& quantizer, const Graph& graph, const CalibrationTable& table,
                              const std::vector<TensorMap>& samples, const StepProgress& progress) {
  const QuantConfig& config = quantizer.config();
  const Target& target = quantizer.target();
  QuantConfig without_budget = config;
  without_budget.int16_budget = 0.0;  // mixed precision runs here, after the Quantizer
  const Quantizer assigner(without_budget, target);
  analysis::ConsumerErrorChooser chooser(samples, config.auto_samples, progress);
  const size_t count = std::min(samples.size(), static_cast<size_t>(std::max(config.auto_samples, 1)));
  const std::vector<TensorMap> scoring(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(count));
  QuantizedGraph out;
  if (analysis::selects_range(config) && !samples.empty()) {
    const size_t n = std::min(samples.size(), static_cast<size_t>(QuantConfig::kSelectSamples));
    const std::vector<TensorMap> select(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(n));
    out = analysis::select_range(without_budget, target, graph, table, select);
  } else {
    out = assigner.quantize(graph, table, &chooser);
    chooser.finish_progress();
  }
  if (!chooser.scores().empty()) {
    out.log.push_back(fmt::format("auto chose the range of {} tensors by the relative error at "
                                  "their consumers' outputs (quant_params.json: method auto:<chosen>)",
                                  chooser.scores().size()));
    if (config.auto_evaluations > 0) {
      std::vector<QuantizedGraph> candidates;
      for (const RangeMethod& m : auto_range_candidates()) candidates.push_back(assigner.quantize_with_method(graph, table, m));
      analysis::refine_globally(out, candidates, scoring, config.auto_evaluations, progress);
    }
  }
  if (config.bias_correction != 0) {
    if (samples.empty()) {
      throw Error(StatusCode::kFailedPrecondition,
                  "bias_correction measures the mean output error on calibration samples; keep some "
                  "(CalibrationOptions::keep_samples)");
    }
    analysis::correct_bias(out, samples, config.bias_correction == 2);
  }
  if (config.min_snr_db > 0.0) {
    if (samples.empty()) {
      throw Error(StatusCode::kFailedPrecondition,
                  "min_snr measures the output SNR on calibration samples; keep some "
                  "(CalibrationOptions::keep_samples)");
    }
    analysis::reach_snr(out, config, target, table, samples, scoring, progress);
    out.decisions = derive_decisions(out.graph, out.params);
  } else if (config.int16_budget > 0.0) {
    if (!target.int16()) {
      out.log.push_back(fmt::format("target \"{}\" has no int16: int16_budget {} is ignored",
                                    target.name(), config.int16_budget));
    } else if (scoring.empty()) {
      throw Error(StatusCode::kFailedPrecondition,
                  "int16_budget measures each tensor's effect on the model outputs on calibration "
                  "samples; keep some (CalibrationOptions::keep_samples)");
    } else {
      analysis::mix_precision(out, config, table, scoring, progress);
      out.decisions = derive_decisions(out.graph, out.params);  // biases may have lost theirs
    }
  }
  return out;
}

}  // namespace lq
