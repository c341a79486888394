// Analysis: the fake-quantized model against its float graph (fake_quant_simulator, SNR),
// and the searches that quantize many times. quantize_model is the Quantizer with the
// searches its config asks for: RangeMethod::kAuto (each tensor's range chosen among the
// range methods' by the error at its consumers, then refined by the model outputs' error,
// QuantConfig::auto_evaluations) and mixed precision (QuantConfig::int16_budget).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "libquant/calibrator.hpp"
#include "libquant/export.hpp"
#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/simulator.hpp"
#include "libquant/tensor.hpp"

namespace lq {

// A float Simulator that quantizes and dequantizes every value of `qgraph` that has
// parameters, as the QDQ export does. `qgraph` must outlive it.
LQ_EXPORT Simulator fake_quant_simulator(const QuantizedGraph& qgraph, SimulatorOptions options = {});

// SNR (dB) of each float32 output of `measured` against `reference` (one TensorMap per
// sample, same names), signal and noise power accumulated over all samples.
LQ_EXPORT std::map<std::string, double> snr_db(const std::vector<TensorMap>& reference,
                                               const std::vector<TensorMap>& measured);

// SNR (dB) of each float output of the fake-quantized model against the float model
// (qgraph.graph), accumulated over `samples`.
LQ_EXPORT std::map<std::string, double> output_snr_db(const QuantizedGraph& qgraph,
                                                      const std::vector<TensorMap>& samples,
                                                      int threads = 1);

// Noise power over signal power of `got` against `want` (0 unless both are float32).
LQ_EXPORT double relative_error(const Tensor& got, const Tensor& want);

// Progress of a long step: its name ("auto search", "mixed precision", "compile"), done of
// total units (model evaluations, tensors, nodes); the last call of a step has done == total.
using StepProgress = std::function<void(const std::string& step, int64_t done, int64_t total)>;

// `quantizer`'s QuantizedGraph of `graph`, with the searches of its config. `samples` (the
// calibration samples kept, CalibrationOptions::keep_samples) are what kAuto and
// int16_budget score on; the first QuantConfig::auto_samples of them are used. Without
// kAuto or int16_budget this equals quantizer.quantize(graph, table). Throws as the
// Quantizer does, and kFailedPrecondition when a search has no samples. `progress`
// (optional) hears the searches' steps.
LQ_EXPORT QuantizedGraph quantize_model(const Quantizer& quantizer, const Graph& graph,
                                        const CalibrationTable& table,
                                        const std::vector<TensorMap>& samples = {},
                                        const StepProgress& progress = nullptr);

}  // namespace lq
