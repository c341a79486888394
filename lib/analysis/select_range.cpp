// The default range choice (QuantConfig::select_range) and the accuracy target
// (QuantConfig::min_snr_db): searches over whole-model quantizations scored by the worst
// output SNR on kept calibration samples.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/searches.hpp"
#include "graph/roles.hpp"

namespace lq::analysis {

namespace {

// (No times in the log: it goes into quant_params.json, which is reproducible byte for byte.)

}  // namespace

double worst_output_snr_db(const QuantizedGraph& q, const std::vector<TensorMap>& samples,
                           const std::vector<TensorMap>& reference) {
  const Simulator fake = fake_quant_simulator(q);
  std::vector<TensorMap> got;
  for (const TensorMap& s : samples) got.push_back(fake.run(s));
  double worst = INFINITY;
  for (const auto& [name, snr] : snr_db(reference, got)) worst = std::min(worst, snr);
  return worst;
}

std::vector<TensorMap> float_outputs(const Graph& graph, const std::vector<TensorMap>& samples) {
  const Simulator reference(graph);
  std::vector<TensorMap> out;
  for (const TensorMap& s : samples) out.push_back(reference.run(s));
  return out;
}

bool selects_range(const QuantConfig& config) {
  if (!config.select_range || config.model.method) return false;
  for (const auto& [name, spec] : config.op_types) {
    if (spec.method) return false;
  }
  for (const auto& [name, spec] : config.nodes) {
    if (spec.method) return false;
  }
  const DType a = config.resolve_model().activation_dtype;
  return a == DType::kInt8 || a == DType::kUInt8;
}

QuantizedGraph select_range(const QuantConfig& config, const Target& target, const Graph& graph,
                            const CalibrationTable& table, const std::vector<TensorMap>& scoring) {
  const std::vector<TensorMap> reference = float_outputs(graph, scoring);
  // The previous default first: a tie keeps it.
  std::vector<RangeMethod> methods = {RangeMethod::kPercentile};
  for (const RangeMethod& m : auto_range_candidates()) {
    if (m != RangeMethod::kPercentile) methods.push_back(m);
  }
  std::optional<QuantizedGraph> best;
  double best_snr = -INFINITY;
  std::string best_name, scores;
  for (const RangeMethod& m : methods) {
    QuantConfig c = config;
    c.model.method = m;
    c.int16_budget = 0.0;
    c.min_snr_db = 0.0;
    QuantizedGraph q;
    try {
      q = Quantizer(c, target).quantize(graph, table);
    } catch (const Error& e) {
      scores += fmt::format(", {} failed ({})", m.name(), e.what());
      continue;
    }
    const double snr = worst_output_snr_db(q, scoring, reference);
    scores += fmt::format(", {} {:.1f} dB", m.name(), snr);
    if (!best || snr > best_snr) {
      best_snr = snr;
      best_name = m.name();
      best = std::move(q);
    }
  }
  if (!best) {
    throw Error(StatusCode::kFailedPrecondition,
                fmt::format("no range method quantizes this model{}; set one with method", scores));
  }
  best->log.push_back(fmt::format(
      "range method {} for every activation: the best worst-output SNR on {} calibration samples "
      "of the single methods ({}; set a method, or select_range false, to choose yourself)",
      best_name, scoring.size(), scores.substr(2)));
  return std::move(*best);
}

void reach_snr(QuantizedGraph& out, const QuantConfig& config, const Target& target,
               const CalibrationTable& table, const std::vector<TensorMap>& samples,
               const std::vector<TensorMap>& scoring, const StepProgress& progress) {
  const double goal = config.min_snr_db;
  const std::vector<TensorMap> reference = float_outputs(out.graph, samples);
  const double before = worst_output_snr_db(out, samples, reference);
  auto met = [&](double snr) { return snr >= goal; };
  if (met(before)) {
    out.log.push_back(fmt::format("min_snr {:.1f} dB: met as quantized ({:.1f} dB on {} calibration samples)",
                                  goal, before, samples.size()));
    return;
  }
  if (!target.int16()) {
    out.log.push_back(fmt::format("min_snr {:.1f} dB: NOT reached ({:.1f} dB on {} calibration samples); "
                                  "target \"{}\" has no int16 to spend", goal, before, samples.size(), target.name()));
    return;
  }
  QuantConfig c = config;
  if (c.int16_budget <= 0.0) c.int16_budget = 0.25;
  double now = before;
  int checks = 0;
  mix_precision(out, c, table, scoring, progress, [&](const QuantizedGraph& q) {
    ++checks;
    now = worst_output_snr_db(q, samples, reference);
    return met(now);
  });
  std::string io_note;
  if (!met(now) && !config.input_dtype && !config.output_dtype) {
    // Next strategy: the model inputs and outputs, which mixed precision leaves as configured.
    int widened = 0;
    const std::map<std::string, QuantParams> saved = out.params;
    auto widen = [&](const Value* v) {
      const QuantParams* p = out.find(v->name());
      if (!p || p->dtype == DType::kInt16 || p->dtype == DType::kInt32) return;
      widen_to_int16(c, table, out, *v);
      ++widened;
    };
    for (const Value* v : out.graph.inputs()) widen(v);
    for (const Value* v : out.graph.outputs()) widen(v);
    if (widened > 0) {
      refresh_biases(out);
      const double with_io = worst_output_snr_db(out, samples, reference);
      ++checks;
      if (with_io > now) {
        io_note = fmt::format("; then {} model inputs and outputs int16: {:.1f} dB", widened, with_io);
        now = with_io;
      } else {
        io_note = fmt::format("; model inputs and outputs int16 gave {:.1f} dB, not kept", with_io);
        out.params = saved;
      }
    }
  }
  out.log.push_back(fmt::format(
      "min_snr {:.1f} dB: {} ({:.1f} -> {:.1f} dB on {} calibration samples, int16 for the most harmful "
      "8-bit activations within {:.0f} % of the activation elements, {} checks){}",
      goal, met(now) ? "reached" : "NOT reached", before, now, samples.size(), 100.0 * c.int16_budget, checks,
      met(now) ? io_note : io_note + "; raise int16_budget or use --bits 16"));
}

}  // namespace lq::analysis
